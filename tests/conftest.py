"""Shared test configuration: hypothesis profiles, and the ``subrun`` marker."""

import importlib
import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

from gatespec.conformance.plugin import registry

# CI runs derandomised, so a red build is reproducible from its log; locally hypothesis
# explores new examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``subrun`` every test that runs the suite itself: a pytester sub-run, or a test marked slow (a
    subprocess that imports frameworks).  (test_export.py marks itself: each of its tests needs an export.)

    They test the harness end to end and take 3–30 s each, 85% of this folder's time without frameworks.
    The test command runs them in py311 and all (Python 3.11, without and with every framework); the
    reference envs of the other Pythons deselect them (tox.ini), so that each Python still runs the
    reference's own tests and the harness's unit tests.
    """
    for item in items:
        if "pytester" in getattr(item, "fixturenames", ()) or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.subrun)


# The frameworks an in-process sub-run may import.  pytester restores sys.modules after each in-process run, and
# torch (like other C extensions) cannot be imported a second time in one process ("SystemError: bad call
# flags"): a framework a sub-run would import first is imported here, before any test (and so before pytester
# takes its snapshot of sys.modules).  The plugin, which costs nothing until asked, no longer does it at configure.
FRAMEWORKS = (*registry.FRAMEWORK_MODULES.values(), "keras")


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("pytester" in getattr(item, "fixturenames", ()) for item in session.items):
        for name in FRAMEWORKS:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        # matplotlib too: a sub-run's report draws with it, and matplotlib imported again beside a first pyplot
        # makes two SubplotSpec classes ("Single argument to subplot must be a three-digit integer, not GridSpec").
        if importlib.util.find_spec("matplotlib") is not None:
            import matplotlib

            matplotlib.use("Agg")  # as the report draws (report/heatmap.py, report/convergence.py)
            importlib.import_module("matplotlib.pyplot")
