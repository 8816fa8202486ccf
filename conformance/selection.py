"""Which implementations a run tests (``--impl``), which frameworks it requires (``--require``), and the
header lines that describe them.
"""

from __future__ import annotations

import pytest

from . import registry


def select(config: pytest.Config) -> list[registry.Entry]:
    """The entries ``--impl`` names (all when none); a usage error for a bad name or a missing required framework."""
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
    return entries


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
