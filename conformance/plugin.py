"""gatespec's pytest plugin (entry point ``pytest11``): choosing implementations, failing on missing ones.

Options (group "gatespec"):

``--impl NAME``       repeatable: a registered implementation (``torch-module``), a framework
                      (``torch``: all its styles) or ``package.module:attr``.  Default: all.
``--require FW,...``  frameworks that must be importable; a missing one is a usage error, never a skip.
``--device DEV``      ``cpu`` (default) or ``cuda``; implementations without that device are skipped.
``--known-deviations FILE``  repeatable; lines ``TEST-ID-PREFIX | reason``: matching tests become strict xfails;
                      ``*`` in a prefix stands for any characters (``test_x[tf-keras-*-float64``);
                      an entry that matches no collected test is reported at the end of the run.
``--gatespec-report DIR``    write the conformance matrix (implementation × check) as
                      ``conformance.md`` and ``conformance.json``; works under pytest-xdist.
``--gatespec-timeout SECONDS``  per-test timeout of every test that takes an implementation (default
                      300; 0: none), so that a hanging implementation fails that test alone.  Set as
                      a pytest-timeout marker when pytest-timeout is installed (its method, ``signal``
                      on POSIX, fails the test and the session goes on); a test's own marker wins.
``--gatespec-explore N``  hypothesis searches N generated cases per explored check beyond the fixed
                      ones (``test_explore.py``, marker ``explore``; default 0: those tests skip at once),
                      derandomised when the CI variable is set; a failure is shrunk and printed as
                      the line to paste into ``generated.REGRESSIONS``.  Each explored check is one
                      test under ``--gatespec-timeout``: raise it for a large N on slow styles.

Tests ask for the ``impl`` and ``target`` fixtures; the plugin parametrizes them, so one test
serves every implementation and dtype, with ids like ``test_x[torch-module-float32]``.
A test may add cases with ``@pytest.mark.gatespec_cases(cases)`` (objects with an ``id``);
they are combined into one parametrization, ``test_x[torch-module-xor-2-2-1-float32]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import convergence_report, isolation, registry
from .interface import DTYPES, Target

_ENTRIES = pytest.StashKey[list]()
_DEVIATIONS = pytest.StashKey[list]()
_RESULTS = pytest.StashKey[list]()

# Seconds a conformance test may take.  The slowest legitimate one, measured over every style with
# one thread on a loaded 2-core machine, took 6 s (jax-grad's first eager loss and gradients); 50×
# that leaves room for slower machines, and a hang costs CI minutes, not its job's limit.
DEFAULT_TIMEOUT = 300.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gatespec", "gatespec conformance suite")
    group.addoption(
        "--impl",
        action="append",
        default=[],
        metavar="NAME",
        help="implementation to test: a registered name, a framework name (all its styles), "
        "or package.module:attr; repeatable (default: every implementation found)",
    )
    group.addoption(
        "--require",
        action="append",
        default=[],
        metavar="FW[,FW...]",
        help="frameworks that must be available: a missing one is an error, not a skip",
    )
    group.addoption("--device", default="cpu", choices=("cpu", "cuda"), help="device to run on (default: cpu)")
    group.addoption(
        "--known-deviations",
        metavar="FILE",
        action="append",
        default=[],
        help="file of 'TEST-ID-PREFIX | reason' lines: matching tests are strict xfails; repeatable",
    )
    group.addoption("--gatespec-report", metavar="DIR", default=None, help="write the conformance matrix to DIR")
    group.addoption(
        "--gatespec-timeout",
        metavar="SECONDS",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"per-test timeout of conformance tests, by pytest-timeout; 0: none (default: {DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--gatespec-explore",
        metavar="N",
        type=_count,
        default=0,
        help="search N generated cases per explored check with hypothesis, shrink a failure and print it as a "
        "regression case; derandomised when CI is set (default: 0, exploration off)",
    )
    group.addoption(
        isolation.OPTION,
        action="store_true",
        help="do not fail a test of an implementation that leaves global RNG or framework state changed",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gatespec_cases(cases): cases (objects with an .id) to cross with impl × dtype")
    config.addinivalue_line("markers", "convergence: XOR convergence statistics over 1000 nets (-m 'not convergence')")
    config.addinivalue_line("markers", "explore: hypothesis searches --gatespec-explore N generated cases (0: skipped)")
    if config.getoption("--gatespec-explore") and importlib.util.find_spec("hypothesis") is None:
        raise pytest.UsageError("--gatespec-explore needs hypothesis (pip install 'gatespec[test]')")
    try:
        entries = registry.select(config.getoption("--impl"))
    except registry.UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    required = [fw.strip() for arg in config.getoption("--require") for fw in arg.split(",") if fw.strip()]
    unknown = [fw for fw in required if fw not in registry.FRAMEWORKS and not any(e.framework == fw for e in entries)]
    if unknown:
        raise pytest.UsageError(
            f"--require {','.join(unknown)}: unknown framework; known: {', '.join(registry.FRAMEWORKS)}"
        )
    for fw in required:
        of_fw = [e for e in registry.discover() if e.framework == fw] or [e for e in entries if e.framework == fw]
        if not any(e.available for e in of_fw):
            reasons = "; ".join(f"{e.name}: {e.reason}" for e in of_fw) or "no implementation registered"
            raise pytest.UsageError(f"--require {fw}: framework {fw!r} is required but not available ({reasons})")
    config.stash[_ENTRIES] = entries
    paths = config.getoption("--known-deviations")
    declared = [dev for entry in entries if entry.available for dev in declared_deviations(entry.impl)]
    config.stash[_DEVIATIONS] = [dev for path in paths for dev in read_deviations(Path(path))] + declared
    config.stash[_RESULTS] = []
    # An xdist controller: -n given and this process is no worker (workers have workerinput).
    controller = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    collector = _Collector(config.stash[_RESULTS], config.stash[_DEVIATIONS], controller)
    config.pluginmanager.register(collector, "gatespec-collector")
    config.pluginmanager.register(convergence_report.Collector(), convergence_report.PLUGIN_NAME)
    config.pluginmanager.register(isolation.StateCheck(config), isolation.PLUGIN_NAME)


@dataclass
class Deviation:
    """A ``prefix`` of test ids, in which ``*`` stands for any run of characters (nothing else is special)."""

    prefix: str
    reason: str
    where: str  # FILE:LINE
    matched: int = 0

    def matches(self, test_id: str) -> bool:
        if "*" not in self.prefix:
            return test_id.startswith(self.prefix)
        return re.match(".*".join(map(re.escape, self.prefix.split("*"))), test_id) is not None

    def names_one_of(self, implementations: list[str]) -> bool:
        """Whether the entry's parameters start with one of these names (or with a pattern, which may match any)."""
        _, bracket, param = self.prefix.partition("[")
        if not bracket or param.startswith("*"):
            return True
        return any(param.startswith(name) or name.startswith(param) for name in implementations)


def _first_match(deviations: list[Deviation], nodeid: str) -> Deviation | None:
    test_id = nodeid.split("::", 1)[-1]
    return next((dev for dev in deviations if dev.matches(test_id)), None)


# The characters of a test id (and ``*``): what a known-deviation entry may contain.
_PREFIX = r"[\w\[\]\-.:/*]+"


def read_deviations(path: Path) -> list[Deviation]:
    """Parse ``TEST-ID-PREFIX | reason`` lines; ``#`` starts a comment.  A malformed line is a usage error."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise pytest.UsageError(f"--known-deviations {path}: {exc.strerror}") from None
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prefix, sep, reason = (part.strip() for part in line.partition("|"))
        if not sep or not prefix or not reason or not re.fullmatch(_PREFIX, prefix):
            raise pytest.UsageError(
                f"--known-deviations {path}:{number}: expected 'TEST-ID-PREFIX | reason', got {raw!r}"
            )
        found.append(Deviation(prefix, reason, f"{path}:{number}"))
    return found


def declared_deviations(impl) -> list[Deviation]:
    """An implementation's own ``known_deviations``, ``{"TEST[REST": reason}``, as entries naming it: TEST[NAME-REST."""
    found = []
    for key, reason in getattr(impl, "known_deviations", {}).items():
        test, bracket, rest = str(key).partition("[")
        prefix = f"{test}[{impl.name}-{rest}"
        if not bracket or not test or not str(reason).strip() or not re.fullmatch(_PREFIX, prefix):
            raise pytest.UsageError(
                f"{impl.name}.known_deviations: expected {{'TEST[REST-OF-ID': 'reason'}}, got {key!r}: {reason!r}"
            )
        found.append(Deviation(prefix, str(reason).strip(), f"{impl.name}.known_deviations"))
    return found


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds ≥ 0 (0: no timeout), got {text!r}")
    return seconds


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"expected a number of cases ≥ 0 (0: no exploration), got {text!r}")
    return count


def explore_derandomized() -> bool:
    """Whether exploration is derandomised: under CI (the CI variable set, as tests/conftest.py reads it)."""
    return bool(os.environ.get("CI"))


def _timeout(config: pytest.Config) -> float:
    """The per-test timeout the plugin sets: 0 when disabled or when pytest-timeout is not there to enforce it."""
    seconds = config.getoption("--gatespec-timeout")
    return seconds if config.pluginmanager.hasplugin("timeout") else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deviations = config.stash[_DEVIATIONS]
    timeout = _timeout(config)
    for item in items:
        dev = _first_match(deviations, item.nodeid)
        if dev is not None:
            dev.matched += 1
            item.add_marker(pytest.mark.xfail(reason=f"known deviation: {dev.reason}", strict=True))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "impl" in callspec.params:
            if timeout and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(timeout))
            if item.get_closest_marker("bench") is not None:
                continue  # a benchmark times an implementation; it is no check of the matrix
            if item.get_closest_marker("explore") is not None and not config.getoption("--gatespec-explore"):
                continue  # exploration off: skipped at once, no row of the matrix (when on, a row explore_*)
            impl = callspec.params["impl"]
            target = callspec.params.get("target")
            case = callspec.params.get("case")
            item.user_properties.append(
                (
                    "gatespec",
                    {
                        "impl": impl.name,
                        "check": item.originalname.removeprefix("test_"),
                        "case": getattr(case, "id", None),
                        "dtype": getattr(target, "dtype", None),
                    },
                )
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Let the checks record each comparison's error/tolerance ratio on the test's report."""
    from . import checks

    checks.RECORDER = lambda record: item.user_properties.append(("gatespec-error", record))
    try:
        return (yield)
    finally:
        checks.RECORDER = None


@dataclass(frozen=True)
class _Missing:
    """Stands in for an implementation that could not be loaded; its tests are skipped."""

    name: str


class _Collector:
    """Outcomes per test, from reports: on an xdist controller these include every worker's.

    The controller collects nothing itself (its workers do), so there the known deviations are
    counted as matched from each test's setup report instead of at collection.
    """

    def __init__(self, results: list[dict], deviations: list[Deviation], controller: bool) -> None:
        self.results = results
        self.deviations = deviations
        self.controller = controller

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.controller and report.when == "setup":
            dev = _first_match(self.deviations, report.nodeid)
            if dev is not None:
                dev.matched += 1
        meta = dict(report.user_properties).get("gatespec")
        if meta is None or not (report.when == "call" or report.outcome != "passed"):
            return
        if hasattr(report, "wasxfail"):
            outcome = "xfail" if report.skipped else "xpass"
        else:
            outcome = {"passed": "pass", "failed": "fail", "skipped": "skip"}[report.outcome]
        ratios = [v["ratio"] for k, v in report.user_properties if k == "gatespec-error"]
        self.results.append(
            {**meta, "outcome": outcome, "worst_ratio": max(ratios, default=None), "nodeid": report.nodeid}
        )


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under ``--dist loadscope``, one work unit per framework, dtype and net shape (scheduling.py)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from .scheduling import CompileCacheScheduling

    frameworks = {entry.name: entry.framework for entry in config.stash[_ENTRIES]}
    return CompileCacheScheduling(config, log, frameworks=frameworks)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    # An entry for an implementation this run did not select (tox -e numpy reads the whole file) is no news.
    selected = [entry.name for entry in config.stash.get(_ENTRIES, [])]
    for dev in config.stash.get(_DEVIATIONS, []):
        if not dev.matched and dev.names_one_of(selected):
            terminalreporter.write_line(
                f"gatespec: known deviation {dev.where} matches no collected test: {dev.prefix}", yellow=True
            )
    out = config.getoption("--gatespec-report")
    if out and not hasattr(config, "workerinput"):
        implementations = implementations_of(config.stash.get(_ENTRIES, []), config.getoption("--device"))
        write_report(Path(out), config.stash[_RESULTS], implementations)
        convergence_report.write(Path(out), config.pluginmanager.get_plugin(convergence_report.PLUGIN_NAME).rows)
        terminalreporter.write_line(f"gatespec: conformance report written to {out}/conformance.md and .json")


_RANK = {"fail": 4, "xpass": 3, "xfail": 2, "pass": 1, "skip": 0}


def machine(device: str) -> str:
    """Where a run happened, for the report: OS, architecture, Python and ``--device``.

    Nothing in it varies between runs on one machine (no host name, no time), so two runs there
    write identical reports, and a merge of per-framework runs equals the single run.
    """
    return f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, {device}"


def implementations_of(entries: list[registry.Entry], device: str) -> dict[str, dict]:
    """The selected entries as :func:`write_report` takes them: name → version and machine."""
    where = machine(device)
    return {e.name: {"version": _version(e), "machine": where} for e in entries}


def _version(entry: registry.Entry) -> str:
    return entry.impl.framework_version() if entry.available else f"unavailable: {entry.reason}"


def column_order(names: Iterable[str]) -> list[str]:
    """The matrix's columns: built-ins in :data:`registry.BUILTINS` order, then the others as first given.

    One rule for a single run and a merge, so merging per-framework runs gives the single run's table
    whatever order the jobs ran or were merged in.
    """
    builtin = {name: rank for rank, name in enumerate(registry.BUILTINS)}
    unique = list(dict.fromkeys(names))
    return sorted(unique, key=lambda name: (builtin.get(name, len(builtin)), unique.index(name)))


def _versions_line(impls: list[str], implementations: dict[str, dict]) -> str:
    """Each column's framework version and, where known, the machine it ran on (runs may be merged)."""
    described = []
    for name in impls:
        info = implementations.get(name) or {}
        where = info.get("machine")
        described.append(f"{name} {info.get('version')}" + (f" ({where})" if where else ""))
    return "Versions and machines: " + "; ".join(described) + "."


def write_report(out: Path, results: list[dict], implementations: Mapping[str, dict]) -> None:
    """The matrix check × implementation: each cell the worst outcome over its cases and dtypes.

    ``implementations`` maps each name to ``{"version": ..., "machine": ...}`` (:func:`implementations_of`);
    its columns are those with results, in :func:`column_order`.

    Beside the outcome stands the worst measured error as a fraction of its tolerance among the
    results with that outcome (so a pass shows its headroom, 1.0 = at the limit; a failure how
    far off it was; none where the check compares exactly or failed before comparing).

    A second table, and ``checks_summary`` in the JSON, give per check its distinct cases, the
    tests run (pass, fail, xfail, xpass: not skips) and the worst headroom among its passes with
    the implementation, case and dtype where it occurs (:func:`_check_summaries`).
    """
    out.mkdir(parents=True, exist_ok=True)
    cells: dict[tuple[str, str], dict] = {}
    for r in sorted(results, key=lambda r: r["nodeid"]):
        cell = cells.setdefault((r["check"], r["impl"]), {"outcome": "skip", "counts": defaultdict(int), "ratio": None})
        cell["counts"][r["outcome"]] += 1
        if _RANK[r["outcome"]] > _RANK[cell["outcome"]]:
            cell["outcome"], cell["ratio"] = r["outcome"], None
        if r["outcome"] == cell["outcome"] and r["worst_ratio"] is not None:
            cell["ratio"] = max(cell["ratio"] or 0.0, r["worst_ratio"])
    impls = [name for name in column_order(implementations) if any(k[1] == name for k in cells)]
    checks = sorted({k[0] for k in cells})
    summaries = _check_summaries(results)
    payload = {
        "implementations": {
            name: {"version": implementations[name].get("version"), "machine": implementations[name].get("machine")}
            for name in impls
        },
        "checks": checks,
        "matrix": {
            f"{c}::{i}": {
                "outcome": v["outcome"],
                "counts": dict(v["counts"]),
                "error_over_tolerance": _json(v["ratio"]),
            }
            for (c, i), v in sorted(cells.items())
        },
        "results": [{**r, "worst_ratio": _json(r["worst_ratio"])} for r in sorted(results, key=lambda r: r["nodeid"])],
        "checks_summary": {c: {**v, "worst_pass_ratio": _json(v["worst_pass_ratio"])} for c, v in summaries.items()},
    }
    (out / "conformance.json").write_text(json.dumps(payload, indent=1, sort_keys=True, allow_nan=False) + "\n")
    lines = [
        "# gatespec conformance matrix",
        "",
        "Each cell: the worst outcome over the check's cases and dtypes — pass, **FAIL**, xfail (a known "
        "deviation), skip (not declared, or unavailable) — and, in brackets, the worst error as a fraction "
        "of its tolerance among those results (a pass's headroom: 1 is at the limit).",
        "",
        "| check | " + " | ".join(impls) + " |",
        "|---|" + "---|" * len(impls),
    ]
    for c in checks:
        row = []
        for i in impls:
            v = cells.get((c, i))
            text = "" if v is None else {"fail": "**FAIL**", "xpass": "**XPASS**"}.get(v["outcome"], v["outcome"])
            if v is not None and v["ratio"] is not None:
                text += f" ({v['ratio']:.2g})"
            row.append(text)
        lines.append(f"| {c.replace('_', ' ')} | " + " | ".join(row) + " |")
    lines += ["", _versions_line(impls, implementations)]
    lines += [
        "",
        "## Cases and headroom per check",
        "",
        "Per check, over every implementation and dtype: its distinct cases, the tests run (pass, fail, xfail, "
        "xpass; skips not counted), and the worst headroom among its passes — the largest error as a fraction of "
        "its tolerance (1 is at the limit, 0 an exact comparison that matched) — with the implementation, case "
        "and dtype where it occurs.",
        "",
        "| check | cases | tests run | worst pass (error / tolerance) | at |",
        "|---|---|---|---|---|",
    ]
    for c, v in summaries.items():
        ratio = "—" if v["worst_pass_ratio"] is None else f"{v['worst_pass_ratio']:.2g}"  # —: no pass compared
        at = " / ".join(str(x) for x in (v["worst_pass_at"] or {}).values() if x is not None) or "—"
        lines.append(f"| {c.replace('_', ' ')} | {v['cases']} | {v['tests_run']} | {ratio} | {at} |")
    (out / "conformance.md").write_text("\n".join(lines) + "\n")


def _check_summaries(results: list[dict]) -> dict[str, dict]:
    """Per check: distinct cases (a check without cases has one), tests run, and its worst pass and where.

    ``worst_pass_ratio`` is the largest ``worst_ratio`` among the check's passes (None when no
    pass recorded one); ``worst_pass_at`` its implementation, case and dtype, the first in node-id
    order on a tie.
    """
    found: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["nodeid"]):
        s = found.setdefault(r["check"], {"cases": set(), "tests_run": 0, "worst_pass_ratio": None})
        s["cases"].add(r["case"])
        s["tests_run"] += int(r["outcome"] != "skip")
        ratio, worst = r["worst_ratio"], s["worst_pass_ratio"]
        if r["outcome"] == "pass" and ratio is not None and (worst is None or ratio > worst):
            s["worst_pass_ratio"] = ratio
            s["worst_pass_at"] = {"impl": r["impl"], "case": r["case"], "dtype": r["dtype"]}
    return {c: {"worst_pass_at": None, **s, "cases": len(s["cases"])} for c, s in sorted(found.items())}


def _json(x: float | None) -> float | str | None:
    """Strict JSON has no inf or nan: write them as strings."""
    return x if x is None or math.isfinite(x) else str(x)


def pytest_report_header(config: pytest.Config) -> list[str]:
    entries = config.stash.get(_ENTRIES, [])
    device = config.getoption("--device")
    timeout = _timeout(config)
    limit = f"per-test timeout {timeout:g} s" if timeout else "no per-test timeout"
    if not timeout and config.getoption("--gatespec-timeout") and not config.pluginmanager.hasplugin("timeout"):
        limit += " (pytest-timeout is not installed)"
    lines = [f"gatespec: {len(entries)} implementations, device {device}, {limit}"]
    for e in entries:
        if e.available:
            impl = e.impl
            numerics = ", ".join(f"{k}={v}" for k, v in impl.numerics().items())
            lines.append(
                f"  {e.name:<15} {e.framework} {impl.framework_version()}  dtypes={','.join(impl.dtypes)}"
                + (f"  [{numerics}]" if numerics else "")
            )
        else:
            lines.append(f"  {e.name:<15} {e.framework} unavailable: {e.reason}")
    lines.append(config.pluginmanager.get_plugin(isolation.PLUGIN_NAME).header())
    lines.append(_explore_header(config.getoption("--gatespec-explore")))
    return lines


def _explore_header(n: int) -> str:
    if not n:
        return "gatespec: exploration off (--gatespec-explore N: N generated cases per check)"
    how = "derandomised (CI is set)" if explore_derandomized() else "random (set CI to derandomise)"
    return f"gatespec: exploring {n} generated cases per check with hypothesis, {how}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" not in metafunc.fixturenames:
        return
    entries = metafunc.config.stash[_ENTRIES]
    device = metafunc.config.getoption("--device")
    marker = metafunc.definition.get_closest_marker("gatespec_cases")
    cases = list(marker.args[0]) if marker else [None]
    with_target = "target" in metafunc.fixturenames
    argnames = ["impl"] + (["case"] if marker else []) + (["target"] if with_target else [])
    params = []
    for entry in entries:
        for case in cases:
            for dtype in DTYPES if with_target else [None]:
                params.append(_param(entry, case, dtype, device, argnames))
    metafunc.parametrize(argnames, params)


def _param(entry: registry.Entry, case, dtype: str | None, device: str, argnames: list[str]):
    # An unavailable implementation is still parametrized (and skipped), under its own name.
    values = [entry.impl if entry.available else _Missing(entry.name)]
    ids = [entry.name]
    marks = []
    if case is not None:
        values.append(case)
        ids.append(case.id)
    if dtype is not None:
        values.append(Target(dtype, device))
        ids.append(dtype if device == "cpu" else f"{dtype}-{device}")
    if not entry.available:
        marks.append(pytest.mark.skip(reason=f"{entry.name} unavailable: {entry.reason}"))
    elif dtype is not None and dtype not in entry.impl.dtypes:
        marks.append(pytest.mark.skip(reason=f"{entry.name} does not support {dtype}"))
    elif device not in entry.impl.devices:
        marks.append(pytest.mark.skip(reason=f"{entry.name} has no device {device!r}"))
    return pytest.param(*values, id="-".join(ids), marks=marks)
