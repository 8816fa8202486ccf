"""gatespec's pytest plugin (entry point ``pytest11``): choosing implementations, failing on missing ones.

Options (group "gatespec"):

``--impl NAME``       repeatable: a registered implementation (``torch-module``), a framework
                      (``torch``: all its styles) or ``package.module:attr``.  Default: all.
``--require FW,...``  frameworks that must be importable; a missing one is a usage error, never a skip.
``--device DEV``      ``cpu`` (default) or ``cuda``; implementations without that device are skipped.

Tests ask for the ``impl`` and ``target`` fixtures; the plugin parametrizes them, so one test
serves every implementation and dtype, with ids like ``test_x[torch-module-float32]``.
A test may add cases with ``@pytest.mark.gatespec_cases(cases)`` (objects with an ``id``);
they are combined into one parametrization, ``test_x[torch-module-xor-2-2-1-float32]``.
"""

from __future__ import annotations

import pytest

from . import registry
from .interface import DTYPES, Target

_ENTRIES = pytest.StashKey[list]()


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gatespec_cases(cases): cases (objects with an .id) to cross with impl × dtype")
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


def pytest_report_header(config: pytest.Config) -> list[str]:
    entries = config.stash.get(_ENTRIES, [])
    device = config.getoption("--device")
    lines = [f"gatespec: {len(entries)} implementations, device {device}"]
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
    return lines


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
    values = [entry.impl]
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
