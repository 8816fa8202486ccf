"""The convergence statistics in the conformance report: a table, a plot, and the numbers as JSON.

``test_convergence.test_xor_convergence_rate_matches_reference`` records one row per
(implementation, case) through the ``record_convergence`` fixture; the plugin's session collects
them with the test's outcome (on an xdist controller, every worker's), and the report
(:func:`gatespec.conformance.report.write_report`) writes them once, next to the conformance matrix:

- a section "XOR convergence" at the end of ``conformance.md`` (:func:`section`): implementation
  × initialiser × optimiser → learned rate, 95% Wilson interval, failure classes, the test's
  p-value;
- the rows without their run times under ``convergence`` in ``conformance.json`` (:func:`untimed`),
  from which ``gatespec merge`` rebuilds the section and the plot;
- ``convergence.png``: the fraction learned against steps, one panel per initialiser and
  optimiser (matplotlib, Agg backend; without matplotlib the section says the plot was not made);
- ``convergence.json``: every row with the seconds each draw and batched run took (:func:`timings`),
  written by a run only: the rows a merge reads have no times.

Run times stay out of ``conformance.md`` and ``conformance.json``, so that two runs write the same.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from gatespec.conformance.report import jsonio
from gatespec.reference.convergence import DESCENDING, FAILURES, LEARNED_LOSS, WINDOW

# The learned curve is kept at every CURVE_EVERY-th step (101 points for 1000 steps).
CURVE_EVERY = 10
PLOT = "convergence.png"
# A row's fields that are text; every other field is a number, or holds numbers.
TEXT = ("impl", "framework", "case", "initialiser", "optimizer", "dtype", "outcome")


def ordered(rows: list[dict]) -> list[dict]:
    """The rows as the report lists them: by initialiser, optimiser, framework and implementation."""
    return sorted(rows, key=_order)


def untimed(row: dict) -> dict:
    """A row without the seconds its draw, its run and its reference took: what ``conformance.json`` keeps."""
    reference = {k: v for k, v in row["reference"].items() if k != "seconds"}
    return {**{k: v for k, v in row.items() if k != "seconds"}, "reference": reference}


def is_timed(rows: list[dict]) -> bool:
    """Whether the rows carry their run times (a run's do; those a merge read from ``conformance.json`` do not)."""
    return bool(rows) and all("seconds" in row for row in rows)


def timings(rows: list[dict]) -> dict:
    """The payload of ``convergence.json``: the timed rows and :func:`seconds_per_framework`."""
    return {"rows": rows, "seconds_per_framework": seconds_per_framework(rows)}


def from_json(row: dict) -> dict:
    """A row as read from a report's JSON: its numbers decoded (:func:`jsonio.decode`), its text as written."""
    return {**jsonio.decode(row), **{k: row[k] for k in TEXT if k in row}}


def _order(row: dict) -> tuple:
    return row["initialiser"], row["optimizer"], row["framework"], row["impl"]


def section(rows: list[dict], plot_note: str) -> list[str]:
    """The markdown section: what is measured, the table (reference rows first in each group), the plot."""
    first = rows[0]
    lines = [
        "## XOR convergence",
        "",
        f"{first['n']} nets of 2-2-1 per row, each trained {first['steps']} full-batch steps on XOR in "
        f"{first['dtype']}, from the implementation's own initialisation and generator; the reference "
        "(float64) draws the same law from numpy with other seeds.  *Learned*: loss < ln(4/3) "
        f"= {LEARNED_LOSS:.4f}, so every row has p(right label) > ¾.  Failures: *stuck* (no row "
        "learned: all outputs near ½), *one-wrong* (one row learned, three tied at ≈ ⅔, one of them on "
        "the wrong side), *two-at-half* (two rows learned, two at ≈ ½: the notebook's local minimum), "
        f"*unconverged* (loss still falling by ≥ {DESCENDING:g} over the last {WINDOW} steps, or three rows "
        f"learned).  *p*: the pooled two-proportion z-test against the reference's rate; a row fails "
        f"at p < α = {first['alpha']:g}.  Run times are in `convergence.json` (kept out of this file, so that "
        "two runs write the same report).",
        "",
        "| implementation | initialiser | optimiser | learned | rate | 95% interval | "
        + " | ".join(FAILURES)
        + " | p | result |",
        "|---|---|---|---|---|---|" + "---|" * len(FAILURES) + "---|---|",
    ]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        group = (row["initialiser"], row["optimizer"])
        if group not in seen:
            seen.add(group)
            ref = row["reference"]
            lines.append(_row("**reference**", row, ref, "", ""))
        result = "pass" if row["outcome"] == "pass" else "**FAIL**"
        lines.append(_row(row["impl"], row, row, f"{row['p_value']:.3g}", result))
    lines += ["", plot_note]
    return lines


def _row(name: str, row: dict, stats: dict, p: str, result: str) -> str:
    lo, hi = stats["interval"]
    failures = " | ".join(str(stats["counts"][f]) for f in FAILURES)
    return (
        f"| {name} | {row['initialiser']} | {row['optimizer']} | {stats['learned']}/{stats['n']} | "
        f"{stats['rate']:.3f} | [{lo:.3f}, {hi:.3f}] | {failures} | {p} | {result} |"
    )


def seconds_per_framework(rows: list[dict]) -> dict[str, float]:
    """Each framework's draws (each once: it serves both optimisers' rows) and batched runs, and the reference's."""
    total: dict[str, float] = defaultdict(float)
    drawn: set[tuple[str, str]] = set()
    for row in rows:
        # One draw serves both optimisers of an (implementation, initialiser): count it once.
        draw = (row["impl"], row["initialiser"])
        total[row["framework"]] += row["seconds"]["train"] + (0.0 if draw in drawn else row["seconds"]["init"])
        drawn.add(draw)
    reference = {(r["initialiser"], r["optimizer"]): r["reference"]["seconds"] for r in rows}
    return {**dict(sorted(total.items())), "reference": sum(reference.values())}


def plot(path: Path, rows: list[dict]) -> str:
    """Draw the learned curves; return the markdown that shows the plot or says why there is none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "The plot of the rate against steps was not made: matplotlib is not installed."
    initialisers = sorted({r["initialiser"] for r in rows})
    optimizers = sorted({r["optimizer"] for r in rows})
    # One colour per implementation in every panel.
    names = sorted({r["impl"] for r in rows})
    palette = plt.get_cmap("tab20")
    colour = {name: palette(k % palette.N) for k, name in enumerate(names)}
    fig, axes = plt.subplots(
        len(initialisers), len(optimizers), figsize=(5 * len(optimizers), 3 * len(initialisers)), squeeze=False
    )
    for i, initialiser in enumerate(initialisers):
        for j, optimizer in enumerate(optimizers):
            ax = axes[i][j]
            group = [r for r in rows if r["initialiser"] == initialiser and r["optimizer"] == optimizer]
            for r in group:
                ax.plot(_steps(r["curve"]), r["curve"], linewidth=1, label=r["impl"], color=colour[r["impl"]])
            if group:
                ref = group[0]["reference"]["curve"]
                ax.plot(_steps(ref), ref, color="black", linewidth=2.5, label="reference", zorder=0)
                ax.legend(fontsize=6, loc="lower right")
            ax.set_title(f"{initialiser}, {optimizer}", fontsize=9)
            ax.set_ylim(0, 1)
            ax.set_xlabel("steps")
            ax.set_ylabel("fraction learned")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"![Fraction of nets learned against steps]({path.name})"


def _steps(curve: list[float]) -> list[int]:
    return [k * CURVE_EVERY for k in range(len(curve))]
