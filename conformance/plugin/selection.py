"""Which implementations a run tests (``--gatespec-impl``), which frameworks it requires
(``--gatespec-require``), and the header lines that describe them.
"""

from __future__ import annotations

import importlib.util

import pytest

from gatespec.conformance.plugin import registry


def select(config: pytest.Config) -> list[registry.Entry]:
    """The entries ``--gatespec-impl`` names (all when none); a usage error for a bad name, or for a required framework
    (``--gatespec-require``) one of whose selected styles does not load, or a required implementation that does not."""
    try:
        entries = registry.select(config.getoption("--gatespec-impl"))
    except registry.UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    required = _required(config)
    names = {e.name for e in entries}
    unknown = [r for r in required if r not in registry.FRAMEWORKS and r not in names and not _of(r, entries)]
    if unknown:
        raise pytest.UsageError(
            f"--gatespec-require {','.join(unknown)}: unknown framework or implementation; "
            f"frameworks: {', '.join(registry.FRAMEWORKS)}; selected implementations: {', '.join(sorted(names))}"
        )
    for r in required:
        # Every selected style of a required framework must load: a library the env lacks (flax for
        # flax-nnx) fails the run instead of leaving its column skipped.
        of_r = [e for e in entries if e.name == r] or _of(r, entries) or _of(r, registry.discover())
        missing = [e for e in of_r if not e.available]
        if missing or not of_r:
            reasons = "; ".join(f"{e.name}: {e.reason}" for e in missing) or "no implementation registered"
            raise pytest.UsageError(f"--gatespec-require {r}: required but not available ({reasons})")
    for e in entries:
        program = getattr(e.impl, "program", None)  # an exec-protocol program (adapters/exec_impl)
        if program is not None:
            # Per run, on the run's own instances: an in-process pytester run must not change its host's.
            program.timeout = config.getoption("--gatespec-exec-timeout")
    return entries


def check_without_loading(config: pytest.Config) -> None:
    """What an xdist controller can check of the selection without importing an implementation (its workers
    load them and check the rest): every selector names something, every required name is known, and each
    required Python framework's module is installed."""
    known = [*registry.BUILTINS, *registry.FRAMEWORKS, *registry.entry_point_names()]
    selectors = registry._split(config.getoption("--gatespec-impl"))
    for sel in selectors:
        if not (sel in known or ":" in sel):
            raise pytest.UsageError(
                f"--gatespec-impl {sel!r}: no such implementation or framework. Implementations: "
                f"{', '.join(registry.BUILTINS)}. Frameworks: {', '.join(registry.FRAMEWORKS)}. Or give "
                "package.module:attr or exec:COMMAND."
            )
    # A module:attr or exec: implementation tells its name only once loaded: then an unknown name is the workers'.
    loaded_later = any(":" in sel for sel in selectors)
    for r in _required(config):
        if r not in known and not loaded_later:
            raise pytest.UsageError(
                f"--gatespec-require {r}: unknown framework or implementation; frameworks: "
                f"{', '.join(registry.FRAMEWORKS)}; implementations: {', '.join(registry.BUILTINS)}"
            )
        module = registry.FRAMEWORK_MODULES.get(r)
        if module is not None and importlib.util.find_spec(module) is None:
            raise pytest.UsageError(f"--gatespec-require {r}: required but not available (no module named {module!r})")


def _required(config: pytest.Config) -> list[str]:
    """``--gatespec-require`` values, repeatable and comma-separated alike."""
    return [fw.strip() for arg in config.getoption("--gatespec-require") for fw in arg.split(",") if fw.strip()]


def _of(framework: str, entries: list[registry.Entry]) -> list[registry.Entry]:
    return [e for e in entries if e.framework == framework]


def header_lines(entries: list[registry.Entry]) -> list[str]:
    """One line per entry: its framework and version, dtypes and numerics switches, or why it is unavailable."""
    lines = []
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
