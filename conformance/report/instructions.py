"""The instruction counts of :mod:`gatespec.conformance.benchmarks.instructions` as a report section.

    ratio = I_call(impl, task) / I_call(baseline, task)

where I_call = (I(N₂) − I(N₁)) / (N₂ − N₁) is the instructions one steady-state call retires,
counted by cachegrind (every thread and process).  Unlike a timing, the count does not drift
with the machine's load, so a ratio of counts compares implementations measured at different
times; it does not see what an instruction costs (a cache miss, a division, a vector op all
count one), so it is a companion to the timings, not a replacement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.report import jsonio

SCHEMA = "gatespec-instructions/1"
TASK_ORDER = tuple(t.id for t in (*K.TASKS, *K.PARITY))


class InstructionsReportError(ValueError):
    """A file that is not the instruction counter's JSON."""


def load(path: str | Path) -> dict[str, Any]:
    """The JSON written by ``python -m gatespec.conformance.benchmarks.instructions --out PATH``.

    Raises InstructionsReportError naming the file when it cannot be read or is another JSON.
    """
    try:
        data = jsonio.decode(jsonio.read(Path(path)))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InstructionsReportError(f"{path}: cannot read instruction counts: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InstructionsReportError(f"{path}: expected schema {SCHEMA!r}, got {found!r}")
    if not isinstance(data.get("results"), list):
        raise InstructionsReportError(f"{path}: no 'results' list")
    return data


def _task_key(task: str) -> tuple[int, str]:
    return (TASK_ORDER.index(task) if task in TASK_ORDER else len(TASK_ORDER), task)


def count(x: float) -> str:
    """An instruction count, whole and with thousands separators: 74,055."""
    return f"{x:,.0f}"


def section(data: dict[str, Any], baseline: str = "numpy") -> list[str]:
    """Markdown lines: per task, each counted implementation's instructions per call and its ratio to
    ``baseline`` on the same task; then every pair that was not counted, with its reason."""
    results = data["results"]
    counted = [r for r in results if r.get("counted")]
    skipped = [r for r in results if not r.get("counted")]
    target = data.get("repeatability", float("nan"))
    base = {r["task"]: r["instructions_per_call"] for r in counted if r["impl"] == baseline}
    lines = [
        "## Instructions per call",
        "",
        "I_call = (I(N₂) − I(N₁)) / (N₂ − N₁): the instructions (cachegrind's Ir, every thread and process)",
        "of N₂ − N₁ extra steady-state calls, import, warm-up and compile cancelled;",
        f"ratio = I_call / I_call({baseline}) on the same task.",
        f"Counted by {data.get('valgrind') or 'valgrind'}; repeatability target {target:.0e}"
        " (spread: where a pair was measured twice).  Not time: every instruction counts one.",
        "",
    ]
    if counted:
        lines += [
            f"| task | implementation | instructions / call | × {baseline} | spread | N₁, N₂ |",
            "|---|---|---:|---:|---:|---|",
        ]
        order = sorted(counted, key=lambda r: (_task_key(r["task"]), r["impl"] != baseline, r["instructions_per_call"]))
        for r in order:
            b = base.get(r["task"])
            ratio = f"{r['instructions_per_call'] / b:.2f}" if b else "—"
            spread = f"{r['spread']:.1e}" if len(r.get("repeats", [])) > 1 else "—"
            n = ", ".join(str(k) for k in r["iterations"]) if r.get("iterations") else "—"
            lines.append(
                f"| {r['task']} | {r['impl']} | {count(r['instructions_per_call'])} | {ratio} | {spread} | {n} |"
            )
        missing = sorted({r["task"] for r in counted} - set(base), key=_task_key)
        if missing:
            lines += ["", f"No {baseline} count on {', '.join(missing)}: no ratio there."]
    else:
        lines.append("Nothing was counted.")
    if skipped:
        lines += ["", "Not counted:", ""]
        for r in sorted(skipped, key=lambda r: (_task_key(r["task"]), r["impl"])):
            lines.append(f"- {r['impl']} / {r['task']}: {r.get('reason') or 'no reason recorded'}")
    return lines
