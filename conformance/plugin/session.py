"""One run of the suite as an object: its selection, its known deviations, and the results it collects.

The plugin makes one :class:`Session` at ``pytest_configure``, keeps it in the config's stash
(:data:`SESSION`) and registers it as a plugin, so that every piece of a run's state lives on
it and none in a module.  A test's data travels in its report's ``user_properties``, which
pytest-xdist carries from a worker to the controller, under three keys:

- :data:`META` (set at collection): the test's implementation, check, case and dtype in the matrix;
- :data:`ERROR`: one record per comparison, from :func:`checks.recording` around the test's call;
- :data:`CONVERGENCE`: the convergence statistics a test records through the ``record_convergence`` fixture.

From the reports (on an xdist controller, every worker's) the session collects the results and
the convergence rows, and at the end of the run writes them, once, with
:func:`gatespec.conformance.report.write_report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gatespec.conformance.plugin import (
    compile_cache,
    deviations,
    isolation,
    options,
    parametrize,
    registry,
    regressions,
    selection,
)
from gatespec.conformance.plugin.defaults import SESSION_PLUGIN
from gatespec.conformance.plugin.deviations import (
    Deviation,
    Matcher,
    WithinKnownDeviation,
    judge,
    unmatched,
    unmatched_line,
)
from gatespec.conformance.report import implementations_of, write_report

# By its module's name (not `from . import checks`, the package's attribute): the recorder must be the one the
# test modules' comparisons call, also after an in-process pytester run restored sys.modules.
from gatespec.conformance.spec.compare import recording

SESSION = pytest.StashKey["Session"]()
PLUGIN_NAME = SESSION_PLUGIN
META = "gatespec"
ERROR = "gatespec-error"
CONVERGENCE = "gatespec-convergence"
WORKER_OUTPUT = "gatespec"  # the key of what a worker sends its controller (Session.pytest_sessionfinish)
_BOUNDED = pytest.StashKey[Deviation]()
_OUTCOMES = {"passed": "pass", "failed": "fail", "skipped": "skip"}


def start(config: pytest.Config) -> Session:
    """Start the run's session: the compile caches, the selected implementations (imported here), their
    known deviations and the global-state check, registered as plugins of this run.

    An xdist controller runs no test, so it imports no implementation: its workers do, and send it what
    the header and the report say of them (:meth:`Session.pytest_sessionfinish`).  It checks what it can
    without importing: the names selected and required, the required frameworks' modules, the files.
    """
    # Before select() imports the frameworks: they read their cache settings when they load (and the
    # workers, started after this, inherit them).
    cache = compile_cache.configure(config)
    try:
        found = tuple(c for path in config.getoption("--gatespec-regressions") for c in regressions.read(path))
    except regressions.RegressionError as exc:
        raise pytest.UsageError(str(exc)) from None
    files = [Path(path) for path in config.getoption("--gatespec-known-deviations")]
    if _xdist_controller(config):
        selection.check_without_loading(config)
        session = Session(config, None, deviations.load(files, []), cache, found)  # the files' entries alone
    else:
        entries = selection.select(config)
        session = Session(config, entries, deviations.load(files, entries), cache, found)
    config.stash[SESSION] = session
    config.pluginmanager.register(session, PLUGIN_NAME)
    loaded = tuple(entry.impl for entry in session.entries or () if entry.available)
    config.pluginmanager.register(isolation.StateCheck(config, loaded), isolation.PLUGIN_NAME)
    return session


def _xdist_controller(config: pytest.Config) -> bool:
    """An xdist controller: -n given (and not 0) and this process no worker."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


class Session:
    """The selected ``entries``, the known ``deviations`` (and which matched a test), and the results.

    The controller of an xdist run collects nothing and loads no implementation (``entries`` None): each
    worker collects every test, so the first worker to finish sends it the header lines of the
    implementations, what the report says of them and the known deviations that matched no test
    (:data:`WORKER_OUTPUT`), and the controller collects the results from every worker's reports.
    """

    def __init__(
        self,
        config: pytest.Config,
        entries: list[registry.Entry] | None,
        deviations: list[Deviation],
        compile_cache: Path | None = None,
        regressions: tuple = (),
    ) -> None:
        self.config = config
        self.regressions = regressions
        self.compile_cache = compile_cache
        self.entries = entries
        self.deviations = deviations
        self._matcher = Matcher(deviations)
        self.device: str = config.getoption("--gatespec-device")
        self.worker = hasattr(config, "workerinput")
        self.controller = entries is None
        self.from_workers: dict | None = None  # on a controller: the first worker's WORKER_OUTPUT
        self.matched: set[Deviation] = set()
        self.functions: set[str] = set()  # the test functions collected (for the unmatched-deviation lines)
        self.results: list[dict] = []
        self.convergence: list[dict] = []
        self.in_header = False  # whether pytest's header showed this run's lines (it did, if it started at configure)

    def close(self) -> None:
        """End the run's exec-protocol programs: an in-process run (pytester) must not leave them to its host."""
        for entry in self.entries or ():
            program = getattr(entry.impl, "program", None)
            if program is not None:
                program.close()

    # ------------------------------------------------------------------------- collection

    def parametrize(self, metafunc: pytest.Metafunc) -> None:
        parametrize.generate(metafunc, self.entries, self.device, self.regressions)

    def collected(self, items: list[pytest.Item]) -> None:
        # After -k and -m have deselected: only the benchmarks that will run count.
        compile_cache.check_benchmarks(self.config, items)

    def mark(self, items: list[pytest.Item]) -> None:
        """Known deviations as strict xfails, the per-test timeout, and each matrix test's :data:`META`."""
        timeout = options.timeout(self.config)
        explore = self.config.getoption("--gatespec-explore")
        for item in items:
            dev = self._match(item.nodeid)
            if dev is not None and dev.within is None:
                item.add_marker(pytest.mark.xfail(reason=dev.describe(), strict=True))
            elif dev is not None:
                # Only a failure within the bound is the deviation (pytest_runtest_call tells them apart).  One that
                # may pass has no mark at all: a pass is a pass, and a failure within it an xfail, said at the call.
                item.stash[_BOUNDED] = dev
                if dev.strict:
                    item.add_marker(pytest.mark.xfail(reason=dev.describe(), strict=True, raises=WithinKnownDeviation))
            if parametrize.gatespec_impl(item) is None:
                continue
            if timeout and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(timeout))
            if item.get_closest_marker("bench") is not None:
                continue  # a benchmark times an implementation; it is no check of the matrix
            if item.get_closest_marker("explore") is not None and not explore:
                continue  # exploration off: skipped at once, no row of the matrix (when on, a row explore_*)
            item.user_properties.append((META, parametrize.matrix_meta(item)))

    def _match(self, nodeid: str) -> Deviation | None:
        self.functions.add(nodeid.split("::")[-1].partition("[")[0])
        dev = self._matcher.first(nodeid)
        if dev is not None:
            self.matched.add(dev)
        return dev

    # ------------------------------------------------------------------------- a test's run and report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        """Record each comparison's error/tolerance ratio on the test's report; hold a failure under a bounded
        known deviation to its bound."""
        records: list[dict] = []

        def record(row: dict) -> None:
            records.append(row)
            item.user_properties.append((ERROR, row))

        with recording(record):
            try:
                return (yield)
            except AssertionError as exc:
                bounded = item.stash.get(_BOUNDED, None)
                if bounded is None:
                    raise
                judged = judge(bounded, records, exc)
                if isinstance(judged, WithinKnownDeviation) and not bounded.strict:
                    raise pytest.xfail.Exception(str(judged)) from exc
                raise judged from exc

    def convergence_recorder(self, item: pytest.Item) -> Callable[[dict], None]:
        """What the ``record_convergence`` fixture gives ``item``: a function that records one row on its report."""
        return lambda row: item.user_properties.append((CONVERGENCE, row))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            rows = [row for key, row in report.user_properties if key == CONVERGENCE]
            self.convergence += [{**row, "outcome": "pass" if report.passed else "fail"} for row in rows]
        meta = dict(report.user_properties).get(META)
        if meta is None or not (report.when == "call" or report.outcome != "passed"):
            return
        if hasattr(report, "wasxfail"):
            outcome = "xfail" if report.skipped else "xpass"
        else:
            outcome = _OUTCOMES[report.outcome]
        ratios = [v["ratio"] for k, v in report.user_properties if k == ERROR]
        self.results.append(
            {**meta, "outcome": outcome, "worst_ratio": max(ratios, default=None), "nodeid": report.nodeid}
        )

    # ------------------------------------------------------------------------- the header and the end of the run

    def header(self) -> list[str]:
        """The run's header: implementations, device, timeout, each implementation, state check, exploration, caches."""
        limit = options.timeout_header(self.config)
        if self.controller:
            selected = ", ".join(self.config.getoption("--gatespec-impl")) or "all"
            implementations = [
                f"gatespec: implementations {selected}, device {self.device}, {limit}",
                "  loaded in each xdist worker, not here: their frameworks and versions follow the run",
            ]
        else:
            implementations = [
                f"gatespec: {len(self.entries)} implementations, device {self.device}, {limit}",
                *selection.header_lines(self.entries),
            ]
        return [
            *implementations,
            self.config.pluginmanager.get_plugin(isolation.PLUGIN_NAME).header(),
            options.explore_header(self.config.getoption("--gatespec-explore")),
            compile_cache.header(self.compile_cache),
        ]

    def frameworks(self) -> dict[str, str]:
        """Each selected implementation's framework, by name (on a controller, those known without loading)."""
        if self.controller:
            return registry.frameworks_of(self.config.getoption("--gatespec-impl"))
        return {entry.name: entry.framework for entry in self.entries}

    def _unmatched(self) -> list[str]:
        selected = [entry.name for entry in self.entries]
        return [unmatched_line(d) for d in unmatched(self.deviations, self.matched, selected, self.functions)]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """On a controller: keep what the first worker to finish sent."""
        sent = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if self.from_workers is None and sent is not None:
            self.from_workers = sent

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """On a worker: send the controller what it could not learn without loading the implementations.  On a
        controller no worker of which started its session (a required implementation missing there, say):
        a usage error, never a run with no tests."""
        if self.controller and self.from_workers is None and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if self.worker:
            sent = {
                "header": selection.header_lines(self.entries),
                "implementations": implementations_of(self.entries, self.device),
                "unmatched": self._unmatched(),
            }
            # Plain JSON types: execnet serialises nothing else (torch's version is a str subclass, TorchVersion).
            self.config.workeroutput[WORKER_OUTPUT] = json.loads(json.dumps(sent))

    def finish(self, terminalreporter) -> None:
        """Name the known deviations that matched no test; write the report (on the controller, or a run alone)."""
        if self.controller:
            sent = self.from_workers or {"header": [], "implementations": {}, "unmatched": []}
            terminalreporter.write_line("gatespec: the implementations, as the xdist workers loaded them:")
            for line in sent["header"] or ["  none: no worker could start its session (its error is above)"]:
                terminalreporter.write_line(line)
            unmatched, implementations = sent["unmatched"], sent["implementations"]
        else:
            unmatched = self._unmatched()
            implementations = implementations_of(self.entries, self.device)
        for line in unmatched:
            terminalreporter.write_line(line, yellow=True)
        out = self.config.getoption("--gatespec-report")
        if out and not self.worker:
            write_report(Path(out), self.results, implementations, self.convergence)
            terminalreporter.write_line(f"gatespec: conformance report written to {out}/conformance.md and .json")
