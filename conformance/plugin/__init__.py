"""gatespec's pytest plugin (entry point ``pytest11``): options and hooks, each delegating to its module.

The plugin is loaded in every pytest session of an environment that has gatespec installed, so it
costs nothing until a session asks for it: this module imports pytest and the options alone, and
the run's :class:`~.session.Session` — which selects and imports implementations, starts exec
programs, loads the known deviations and registers the global-state check — starts only

- at configure, when a gatespec option is set (:func:`.options.asked`) or a path given to pytest lies
  in the suite (:func:`.options.names_the_suite`), so that the header can describe the run; or
- at collection, the first time a test of the suite, or a test marked ``gatespec_cases``, asks for
  ``impl`` (the suite collected from a directory above it; a user's own test built on the plugin's
  parametrization).  Another project's own ``impl`` argument starts nothing, and a test that
  parametrizes ``impl`` itself is never parametrized again.

A session that does neither imports no framework, numpy included, and starts no process.

- :mod:`.options`: the command-line options, every one ``--gatespec-*`` (described there), and the markers;
- :mod:`.compile_cache`: the frameworks' persistent compile caches, set up before they are imported;
- :mod:`.selection`: the implementations selected, the frameworks required;
- :mod:`.deviations`: known deviations (the implementations' own, and files), made strict xfails;
- :mod:`.parametrize`: ``impl`` × cases × ``target``, with ids like ``test_x[torch-module-xor-2-2-1-float32]``;
- :mod:`.session`: the run's state, registered as a plugin: it marks the collected tests, collects
  their results and convergence rows from the reports (every worker's under xdist) and writes the
  report (:mod:`.report`);
- :mod:`.isolation`: the global-state check around every test of an implementation;
- :mod:`.scheduling`: xdist work units under ``--dist loadscope``.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gatespec.conformance.plugin import options
from gatespec.conformance.plugin.defaults import SESSION_PLUGIN

if TYPE_CHECKING:
    from gatespec.conformance.plugin.session import Session


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


# pytest-benchmark creates its storage folder (.benchmarks) in every session, benchmarks or not: whether it
# was there before, so that a gatespec run that timed nothing leaves none behind.
_BENCHMARK_STORAGE = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark's configure makes the folder
def pytest_configure(config: pytest.Config) -> None:
    options.check(config)
    storage = Path.cwd() / ".benchmarks"
    if not storage.exists():
        config.stash[_BENCHMARK_STORAGE] = storage
    if options.asked(config) or options.names_the_suite(config):
        _start(config)


def _active(config: pytest.Config) -> Session | None:
    return config.pluginmanager.get_plugin(SESSION_PLUGIN)


def _start(config: pytest.Config) -> Session:
    """The run's session, started on first use: the implementations are selected and imported here."""
    session = _active(config)
    if session is None:
        # By sys.modules, not `from . import session`, which takes the package's attribute: after an in-process
        # pytester run restored sys.modules, that is the earlier run's module, whose checks module (and so its
        # recorder of comparisons) is no longer the one the test modules import.
        session = importlib.import_module(f"{__package__}.session").start(config)
    return session


def pytest_unconfigure(config: pytest.Config) -> None:
    session = _active(config)
    if session is None:
        return
    session.close()
    storage = config.stash.get(_BENCHMARK_STORAGE, None)
    if storage is not None and not hasattr(config, "workerinput"):
        with contextlib.suppress(OSError):  # not empty (a benchmark saved there), or gone: left as it is
            storage.rmdir()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" not in metafunc.fixturenames or _parametrizes_impl_itself(metafunc):
        return
    if _active(metafunc.config) is None and not _asks_for_gatespec(metafunc):
        return  # another project's own `impl`, in a run that asked nothing of gatespec
    _start(metafunc.config).parametrize(metafunc)


def _asks_for_gatespec(metafunc: pytest.Metafunc) -> bool:
    """A test of the suite, or one that names gatespec's cases: a bare ``impl`` argument is anybody's name."""
    marked = any(metafunc.definition.get_closest_marker(m) for m in ("gatespec_cases", "gatespec_compiled"))
    return marked or options.in_suite(Path(str(metafunc.definition.path)))


def _parametrizes_impl_itself(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if "impl" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = _active(config)
    if session is not None:
        session.mark(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    run = _active(session.config)
    if run is not None:
        run.collected(session.items)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """The header's gatespec lines, where the session started during collection (after the header)."""
    session = _active(config)
    return session.header() if session is not None and not session.in_header else []


@pytest.fixture
def record_convergence(request: pytest.FixtureRequest) -> Callable[[dict], None]:
    """Record one row of convergence statistics for the report (:mod:`.report.convergence`), with the test's outcome."""
    return _start(request.config).convergence_recorder(request.node)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under ``--dist loadscope``, one work unit per framework, dtype and net shape (scheduling.py)."""
    session = _active(config)
    if config.getvalue("dist") != "loadscope" or session is None:
        return None
    from gatespec.conformance.plugin.scheduling import CompileCacheScheduling

    return CompileCacheScheduling(
        config, log, frameworks=session.frameworks(), device=config.getoption("--gatespec-device")
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    session = _active(config)
    if session is None:
        return []
    session.in_header = True
    return session.header()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    session = _active(config)
    if session is not None:
        session.finish(terminalreporter)
