"""The plugin's command-line options (group "gatespec"), their parsing, and what the header says of them.

``--gatespec-impl NAME``  repeatable: a registered implementation (``torch-module``), a framework
        (``torch``: all its styles), ``package.module:attr`` or ``exec:COMMAND``.  Default: all.
``--gatespec-require FW,...``  frameworks that must be importable; a missing one is a usage error, never a skip.
``--gatespec-device DEV``  ``cpu`` (default) or ``cuda``; implementations without that device are skipped.
``--gatespec-known-deviations=FILE``  repeatable; lines ``TEST-ID-PREFIX | reason`` (``| within FACTOR``
        to bound it): matching tests become strict xfails, for implementations whose own
        ``known_deviations`` a user cannot change; ``*`` in a prefix stands for any characters
        (``test_x[tf-keras-*-float64``); an entry that matches no collected test is reported at the end.
``--gatespec-regressions=FILE``  repeatable; cases (one per line, as exploration prints them) added to
        every check that takes such cases (:mod:`gatespec.conformance.plugin.regressions`).
``--gatespec-report=DIR``  write the conformance matrix (implementation × check) as
        ``conformance.md`` and ``conformance.json``; works under pytest-xdist.
``--gatespec-timeout SECONDS``  per-test timeout of every test that takes an implementation (default
        300; 0: none), so that a hanging implementation fails that test alone.  Set as
        a pytest-timeout marker when pytest-timeout is installed (its method, ``signal``
        on POSIX, fails the test and the session goes on); a test's own marker wins.
``--gatespec-exec-timeout SECONDS``  how long an ``exec:COMMAND`` program may take to answer one request
        (default 60) before it counts as hung: that test fails, the program restarts.
``--gatespec-explore N``  hypothesis searches N generated cases per explored check beyond the fixed
        ones (``test_explore.py``, marker ``explore``; default 0: those tests skip at once),
        derandomised when the CI variable is set; a failure is shrunk and printed as
        the line to add to a ``--gatespec-regressions`` file.  Each explored check is one
        test under ``--gatespec-timeout``: raise it for a large N on slow styles.
``--gatespec-bench-baseline NAME``, ``--gatespec-bench-paired-time SECONDS``  the benchmarks' paired
        timing: each task of each implementation is timed in alternation with NAME (default numpy)
        for that long (default 2 s, at least 5 pairs) (:mod:`gatespec.conformance.benchmarks.paired`).
``--gatespec-bench-processes N``  the paired timing runs in N processes: this one and N − 1 fresh ones
        started at the end of the run; each ratio is the median over them (default 3)
        (:mod:`gatespec.conformance.benchmarks.processes`).
``--gatespec-compile-cache=DIR``  keep JAX's, TF XLA's and torch.compile's compiled code in DIR for later
        processes and runs (default: off) (:mod:`gatespec.conformance.plugin.compile_cache`).
``--gatespec-no-state-check``  do not fail a test whose implementation leaves global state changed
                      (:mod:`gatespec.conformance.plugin.isolation`).

The path options are best written with ``=``: pytest chooses its rootdir (which node ids are relative
to) before plugins add their options, so in ``--gatespec-known-deviations PATH`` it reads PATH as a test path.
Where that moves the rootdir, :func:`check` stops the run with a usage error that says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import math
import os
from pathlib import Path

import pytest

from gatespec.conformance.plugin import compile_cache
from gatespec.conformance.plugin.defaults import BENCH_MIN_PAIRS as MIN_PAIRS
from gatespec.conformance.plugin.defaults import BENCH_PAIRED_TIME as PAIRED_TIME
from gatespec.conformance.plugin.defaults import BENCH_PROCESSES as PROCESSES
from gatespec.conformance.plugin.defaults import EXEC_TIMEOUT
from gatespec.conformance.plugin.defaults import TEST_TIMEOUT as DEFAULT_TIMEOUT

GROUP = "gatespec"
NO_STATE_CHECK = "--gatespec-no-state-check"

MARKERS = (
    "gatespec_cases(cases): cases (objects with an .id) to cross with impl × dtype",
    "gatespec_compiled: only implementations that compile (the others have no such test, not a skip)",
    "convergence: XOR convergence statistics over 1000 nets (-m 'not convergence')",
    "explore: hypothesis searches --gatespec-explore N generated cases (0: skipped)",
)


# Each option's default, by name, as add() registers it: what asked() compares a run's values with.
_DEFAULTS: dict[str, object] = {}


class _Group:
    """pytest's option group, recording each option's default and refusing a name outside the namespace."""

    def __init__(self, group) -> None:
        self._group = group

    def addoption(self, name: str, **kwargs) -> None:
        if not name.startswith("--gatespec-"):
            raise ValueError(
                f"{name}: every gatespec option is --gatespec-*, so that none collides with another plugin's"
            )
        _DEFAULTS[name] = kwargs.get("default", False if kwargs.get("action") == "store_true" else None)
        self._group.addoption(name, **kwargs)


def add(parser: pytest.Parser) -> None:
    """Register the options of group "gatespec"."""
    group = _Group(parser.getgroup(GROUP, "gatespec conformance suite"))
    group.addoption(
        "--gatespec-impl",
        action="append",
        default=[],
        metavar="NAME",
        help="implementation to test: a registered name, a framework name (all its styles), "
        "or package.module:attr; repeatable or comma-separated (default: every implementation found)",
    )
    group.addoption(
        "--gatespec-require",
        action="append",
        default=[],
        metavar="FW[,FW...]",
        help="frameworks (every selected style of each) or implementation names that must load: "
        "a missing one is an error, not a skip",
    )
    group.addoption("--gatespec-device", default="cpu", choices=("cpu", "cuda"), help="device to run on (default: cpu)")
    group.addoption(
        "--gatespec-known-deviations",
        metavar="FILE",
        action="append",
        default=[],
        help="file of 'TEST-ID-PREFIX | reason' lines: matching tests are strict xfails; repeatable",
    )
    group.addoption(
        "--gatespec-regressions",
        metavar="FILE",
        action="append",
        default=[],
        help="file of cases as exploration prints them (generated.mlp_case(...), one a line): each joins every check "
        "that takes cases of its kind; repeatable",
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
        "--gatespec-exec-timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        default=EXEC_TIMEOUT,
        help="seconds an exec:COMMAND program may take to answer one request before it counts as hung "
        f"(that test fails, the program is restarted) (default: {EXEC_TIMEOUT:g})",
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
        "--gatespec-bench-baseline",
        metavar="NAME",
        default="numpy",
        help="implementation every benchmark task is timed in alternation with, for its paired ratio (default: numpy)",
    )
    group.addoption(
        "--gatespec-bench-paired-time",
        metavar="SECONDS",
        type=_positive_seconds,
        default=PAIRED_TIME,
        help="seconds of alternating baseline/implementation samples per benchmark task (at least "
        f"{MIN_PAIRS} pairs whatever it takes) (default: {PAIRED_TIME:g})",
    )
    group.addoption(
        "--gatespec-bench-processes",
        metavar="N",
        type=_processes,
        default=PROCESSES,
        help="processes the paired timing runs in (this one, then N - 1 fresh ones at the end of the run); each "
        f"ratio is the median over them, since every process carries an offset of its own (default: {PROCESSES})",
    )
    compile_cache.add_option(group)
    group.addoption(
        NO_STATE_CHECK,
        action="store_true",
        help="do not fail a test of an implementation that leaves global RNG or framework state changed",
    )


def asked(config: pytest.Config) -> list[str]:
    """The gatespec options this run sets to anything but their defaults (command line, addopts or ini)."""
    return [name for name, default in _DEFAULTS.items() if config.getoption(name) != default]


def names_the_suite(config: pytest.Config) -> bool:
    """Whether a path or module given to pytest lies in the conformance suite (this package) or is it.

    Read from the arguments, before collection, so that a run of the suite alone (``pytest --pyargs
    gatespec.conformance``) starts its session at configure and shows it in the header.  A module name is
    resolved without importing it (only its parent packages).
    """
    pyargs = config.getoption("pyargs", False)
    for arg in config.args:
        target = str(arg).split("::", 1)[0]
        paths = [config.invocation_params.dir / target]
        if pyargs:
            paths.insert(0, _module_path(target))
        if any(in_suite(path) for path in paths if path is not None):
            return True
    return False


def in_suite(path: Path) -> bool:
    """Whether ``path`` is the conformance suite's package or lies in it."""
    suite = Path(__file__).resolve().parent.parent  # gatespec.conformance, not this plugin package
    path = Path(path).resolve()
    return path == suite or suite in path.parents


def _module_path(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):  # not a module name: pytest takes it as a path
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin else None


def check(config: pytest.Config) -> None:
    """Register the markers; a usage error for options that cannot work here."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if config.getoption("--gatespec-explore") and importlib.util.find_spec("hypothesis") is None:
        raise pytest.UsageError("--gatespec-explore needs hypothesis (pip install 'gatespec[test]')")
    _check_rootdir(config)


PATH_OPTIONS = ("--gatespec-known-deviations", "--gatespec-regressions", "--gatespec-report")


def _check_rootdir(config: pytest.Config) -> None:
    """A usage error where a spaced path option (``--gatespec-known-deviations PATH``) moved pytest's rootdir.

    pytest settles its rootdir and ini file from the command line's paths before any plugin's options
    exist, so the PATH of a spaced gatespec option counts among them: a file outside the project takes
    the rootdir up to a common ancestor, and every node id (and so every known-deviation match and
    report row) with it.  The rootdir is recomputed without those values, as pytest does; where it
    differs the run stops and names the fix.  (pytest's private ``determine_setup``: if it cannot be
    called here, the check is left out rather than guessed.)
    """
    args = list(config.invocation_params.args)
    spaced = [(option, args[i + 1]) for i, option in enumerate(args[:-1]) if option in PATH_OPTIONS]
    if not spaced:
        return
    try:
        from _pytest.config.findpaths import determine_setup

        accepted = inspect.signature(determine_setup).parameters
        given = {
            "inifile": config.getoption("inifilename"),
            "override_ini": config.getoption("override_ini"),
            # The positional args, as pytest's early parse saw them without the spaced values; none where
            # pytest filled them in later (testpaths, the invocation dir), as its early parse had none.
            "args": [str(a) for a in config.args] if config.args_source == pytest.Config.ArgsSource.ARGS else [],
            "rootdir_cmd_arg": config.getoption("rootdir") or None,
            "invocation_dir": config.invocation_params.dir,
        }
        rootpath = determine_setup(**{k: v for k, v in given.items() if k in accepted})[0]
    except Exception:  # a private API of another release: no check, never a false error
        return
    if rootpath != config.rootpath:
        written = ", ".join(f"{option} {value}" for option, value in spaced)
        fixed = ", ".join(f"{option}={value}" for option, value in spaced)
        raise pytest.UsageError(
            f"{written}: pytest read the path as a test path and chose rootdir {config.rootpath} instead of "
            f"{rootpath} (it settles the rootdir before gatespec's options are known), which would change every "
            f"node id; write {fixed}"
        )


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds ≥ 0 (0: no timeout), got {text!r}")
    return seconds


def _positive_seconds(text: str) -> float:
    seconds = _seconds(text)
    if not seconds:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return seconds


def _processes(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes ≥ 1, got {text!r}")
    return count


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


def timeout(config: pytest.Config) -> float:
    """The per-test timeout the plugin sets: 0 when disabled or when pytest-timeout is not there to enforce it."""
    seconds = config.getoption("--gatespec-timeout")
    return seconds if config.pluginmanager.hasplugin("timeout") else 0.0


def timeout_header(config: pytest.Config) -> str:
    """The header's words on the per-test timeout, and why there is none when one was asked for."""
    seconds = timeout(config)
    limit = f"per-test timeout {seconds:g} s" if seconds else "no per-test timeout"
    if not seconds and config.getoption("--gatespec-timeout") and not config.pluginmanager.hasplugin("timeout"):
        limit += " (pytest-timeout is not installed)"
    return limit


def explore_header(n: int) -> str:
    if not n:
        return "gatespec: exploration off (--gatespec-explore N: N generated cases per check)"
    how = "derandomised (CI is set)" if explore_derandomized() else "random (set CI to derandomise)"
    return f"gatespec: exploring {n} generated cases per check with hypothesis, {how}"
