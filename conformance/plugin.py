"""gatespec's pytest plugin (entry point ``pytest11``): options and hooks, each delegating to its module.

- :mod:`.options`: the command-line options (``--impl``, ``--require``, ``--device``,
  ``--known-deviations``, ``--gatespec-report``, ``--gatespec-timeout``, ``--gatespec-explore``,
  ``--gatespec-compile-cache``, ``--gatespec-no-state-check``), described there, and the markers;
- :mod:`.compile_cache`: the frameworks' persistent compile caches, set up before they are imported;
- :mod:`.selection`: the implementations selected, the frameworks required;
- :mod:`.deviations`: known deviations, made strict xfails;
- :mod:`.parametrize`: ``impl`` × cases × ``target``, with ids like ``test_x[torch-module-xor-2-2-1-float32]``;
- :mod:`.session`: the run's state, registered as a plugin: it marks the collected tests, collects
  their results and convergence rows from the reports (every worker's under xdist) and writes the
  report (:mod:`.report`);
- :mod:`.isolation`: the global-state check around every test of an implementation;
- :mod:`.scheduling`: xdist work units under ``--dist loadscope``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import compile_cache, deviations, isolation, options, parametrize, selection
from .options import explore_derandomized  # noqa: F401  test_explore.py reads it here
from .session import PLUGIN_NAME, SESSION, Session


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


def pytest_configure(config: pytest.Config) -> None:
    options.check(config)
    # Before select() imports the frameworks: they read their cache settings when they load.
    cache = compile_cache.configure(config)
    entries = selection.select(config)
    known = deviations.load(config.getoption("--known-deviations"), entries)
    session = config.stash[SESSION] = Session(config, entries, known, cache)
    config.pluginmanager.register(session, PLUGIN_NAME)
    config.pluginmanager.register(isolation.StateCheck(config), isolation.PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run's exec-protocol programs: an in-process run (pytester) must not leave them to its host."""
    session = config.stash.get(SESSION, None)
    for entry in session.entries if session is not None else ():
        program = getattr(entry.impl, "program", None)
        if program is not None:
            program.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    session = metafunc.config.stash[SESSION]
    parametrize.generate(metafunc, session.entries, session.device)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[SESSION].mark(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    # After -k and -m have deselected: only the benchmarks that will run count.
    compile_cache.check_benchmarks(session.config, session.items)


@pytest.fixture
def record_convergence(request: pytest.FixtureRequest) -> Callable[[dict], None]:
    """Record one row of convergence statistics for the report (:mod:`.report.convergence`), with the test's outcome."""
    return request.config.stash[SESSION].convergence_recorder(request.node)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under ``--dist loadscope``, one work unit per framework, dtype and net shape (scheduling.py)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from .scheduling import CompileCacheScheduling

    return CompileCacheScheduling(config, log, frameworks=config.stash[SESSION].frameworks())


def pytest_report_header(config: pytest.Config) -> list[str]:
    return config.stash[SESSION].header()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is not None:
        session.finish(terminalreporter)
