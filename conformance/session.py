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

from collections.abc import Callable
from pathlib import Path

import pytest

from . import checks, compile_cache, deviations, isolation, options, parametrize, registry, regressions, selection
from .defaults import SESSION_PLUGIN
from .deviations import Deviation, WithinKnownDeviation, first_match, judge, unmatched_lines
from .report import implementations_of, write_report

SESSION = pytest.StashKey["Session"]()
PLUGIN_NAME = SESSION_PLUGIN
META = "gatespec"
ERROR = "gatespec-error"
CONVERGENCE = "gatespec-convergence"
_BOUNDED = pytest.StashKey[Deviation]()
_OUTCOMES = {"passed": "pass", "failed": "fail", "skipped": "skip"}


def start(config: pytest.Config) -> Session:
    """Start the run's session: the compile caches, the selected implementations (imported here), their
    known deviations and the global-state check, registered as plugins of this run."""
    # Before select() imports the frameworks: they read their cache settings when they load.
    cache = compile_cache.configure(config)
    entries = selection.select(config)
    known = deviations.load(config.getoption("--gatespec-known-deviations"), entries)
    try:
        found = tuple(c for path in config.getoption("--gatespec-regressions") for c in regressions.read(path))
    except regressions.RegressionError as exc:
        raise pytest.UsageError(str(exc)) from None
    session = config.stash[SESSION] = Session(config, entries, known, cache, found)
    config.pluginmanager.register(session, PLUGIN_NAME)
    loaded = tuple(entry.impl for entry in entries if entry.available)
    config.pluginmanager.register(isolation.StateCheck(config, loaded), isolation.PLUGIN_NAME)
    return session


class Session:
    """The selected ``entries``, the known ``deviations`` (and which matched a test), and the results.

    The controller of an xdist run collects nothing itself (its workers do), so there the known
    deviations are counted as matched from each test's setup report instead of at collection.
    """

    def __init__(
        self,
        config: pytest.Config,
        entries: list[registry.Entry],
        deviations: list[Deviation],
        compile_cache: Path | None = None,
        regressions: tuple = (),
    ) -> None:
        self.config = config
        self.regressions = regressions
        self.compile_cache = compile_cache
        self.entries = entries
        self.deviations = deviations
        self.device: str = config.getoption("--gatespec-device")
        self.worker = hasattr(config, "workerinput")
        # An xdist controller: -n given and this process is no worker.
        self.controller = bool(getattr(config.option, "numprocesses", None)) and not self.worker
        self.matched: set[Deviation] = set()
        self.functions: set[str] = set()  # the test functions collected (for the unmatched-deviation lines)
        self.results: list[dict] = []
        self.convergence: list[dict] = []
        self.in_header = False  # whether pytest's header showed this run's lines (it did, if it started at configure)

    def close(self) -> None:
        """End the run's exec-protocol programs: an in-process run (pytester) must not leave them to its host."""
        for entry in self.entries:
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
                # Only a failure within the bound is the deviation (pytest_runtest_call tells them apart).
                item.stash[_BOUNDED] = dev
                mark = pytest.mark.xfail(reason=dev.describe(), strict=dev.strict, raises=WithinKnownDeviation)
                item.add_marker(mark)
            callspec = getattr(item, "callspec", None)
            if callspec is None or "impl" not in callspec.params:
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
        dev = first_match(self.deviations, nodeid)
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

        with checks.recording(record):
            try:
                return (yield)
            except AssertionError as exc:
                bounded = item.stash.get(_BOUNDED, None)
                if bounded is None:
                    raise
                raise judge(bounded, records, exc) from exc

    def convergence_recorder(self, item: pytest.Item) -> Callable[[dict], None]:
        """What the ``record_convergence`` fixture gives ``item``: a function that records one row on its report."""
        return lambda row: item.user_properties.append((CONVERGENCE, row))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.controller and report.when == "setup":
            self._match(report.nodeid)
        if report.when == "call":
            rows = [row for key, row in report.user_properties if key == CONVERGENCE]
            self.convergence += [{**row, "outcome": "pass" if report.passed else "fail"} for row in rows]
        meta = dict(report.user_properties).get(META)
        if meta is None or not (report.when == "call" or report.outcome != "passed"):
            return
        if hasattr(report, "wasxfail") and report.passed:
            outcome = "pass"  # a deviation that may pass (Known(strict=False)) and did: a pass, as the matrix shows it
        elif hasattr(report, "wasxfail"):
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
        return [
            f"gatespec: {len(self.entries)} implementations, device {self.device}, {limit}",
            *selection.header_lines(self.entries),
            self.config.pluginmanager.get_plugin(isolation.PLUGIN_NAME).header(),
            options.explore_header(self.config.getoption("--gatespec-explore")),
            compile_cache.header(self.compile_cache),
        ]

    def frameworks(self) -> dict[str, str]:
        """Each selected implementation's framework, by name."""
        return {entry.name: entry.framework for entry in self.entries}

    def finish(self, terminalreporter) -> None:
        """Name the known deviations that matched no test; write the report (on the controller, or a run alone)."""
        selected = [entry.name for entry in self.entries]
        for line in unmatched_lines(self.deviations, self.matched, selected, self.functions):
            terminalreporter.write_line(line, yellow=True)
        out = self.config.getoption("--gatespec-report")
        if out and not self.worker:
            implementations = implementations_of(self.entries, self.device)
            write_report(Path(out), self.results, implementations, self.convergence)
            terminalreporter.write_line(f"gatespec: conformance report written to {out}/conformance.md and .json")
