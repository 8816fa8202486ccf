"""The conformance matrix as a picture: checks × implementations, each cell coloured by its worst error over tolerance.

A cell's colour says its outcome first and its size second (the matrix's ``error_over_tolerance``, the
worst among the results with the cell's outcome):

- pass: a sequential scale of log₁₀(error / tolerance) from 10⁻⁴ (pale) to 1 (dark: at the limit), so
  the headroom of every check and implementation shows at a glance; exact comparisons that matched are 0
  and sit at the pale end;
- xfail (a known deviation): a second, purple scale of the same logarithm, from 1 to 10¹⁴, the deviation's size;
- fail and xpass: red, whatever the size (the size is written in the cell);
- skip (not declared, unavailable, outside the core subset): light grey; no result: white.

Each cell also carries its number (the error over tolerance, one significant digit) or its outcome's
letter, so the picture reads without the colour bar.  matplotlib draws it (Agg); without matplotlib
the report says it was not made.
"""

from __future__ import annotations

import math
from pathlib import Path

PLOT = "conformance-heatmap.png"
PASS_RANGE = (-4.0, 0.0)  # log10 of error / tolerance on the pass scale
XFAIL_RANGE = (0.0, 14.0)  # and on the known-deviation scale
RED, ORANGE, SKIP, EMPTY = "#d62728", "#ff7f0e", "#d9d9d9", "#ffffff"


def plot(path: Path, payload: dict) -> str:
    """Draw the matrix of ``payload`` (:func:`.matrix.render`'s JSON); return the markdown that shows it, or says
    why there is none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import Normalize
    except ImportError:
        return "The matrix as a heat map was not made: matplotlib is not installed."
    checks, impls = payload["checks"], list(payload["implementations"])
    if not checks or not impls:
        return "The matrix as a heat map was not made: the run has no results."
    greens, purples = plt.get_cmap("YlGn"), plt.get_cmap("Purples")
    pass_scale, xfail_scale = Normalize(*PASS_RANGE, clip=True), Normalize(*XFAIL_RANGE, clip=True)
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * len(impls), 1.6 + 0.34 * len(checks)))
    for row, check in enumerate(checks):
        for col, impl in enumerate(impls):
            cell = payload["matrix"].get(f"{check}::{impl}")
            colour, text, dark = _look(cell, greens, purples, pass_scale, xfail_scale)
            ax.add_patch(plt.Rectangle((col, row), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5))
            ink = "white" if dark else "black"
            ax.text(col + 0.5, row + 0.5, text, ha="center", va="center", fontsize=6, color=ink)
    ax.set_xlim(0, len(impls))
    ax.set_ylim(len(checks), 0)
    ax.set_xticks([k + 0.5 for k in range(len(impls))], impls, rotation=60, ha="right", fontsize=7)
    ax.set_yticks([k + 0.5 for k in range(len(checks))], [c.replace("_", " ") for c in checks], fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(
        "worst error / tolerance per check and implementation — green: pass (log scale, 1e-4 … 1), "
        "purple: known deviation (1 … 1e14), red: fail, grey: skip",
        fontsize=8,
    )
    # bbox_inches, not tight_layout: a matrix of one column leaves tight_layout no room, and it warns.
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return f"![The matrix as a heat map: worst error over tolerance per check and implementation]({path.name})"


def _look(cell: dict | None, greens, purples, pass_scale, xfail_scale) -> tuple:
    """A cell's colour, its text and whether the text needs to be white."""
    if cell is None:
        return EMPTY, "", False
    outcome, ratio = cell["outcome"], cell["error_over_tolerance"]
    size = "" if ratio is None else _short(ratio)
    if outcome == "skip":
        return SKIP, "–", False
    if outcome in ("fail", "xpass"):
        return (RED if outcome == "fail" else ORANGE), ("F " if outcome == "fail" else "X ") + size, True
    if outcome == "xfail":
        level = xfail_scale(_log(ratio, XFAIL_RANGE[0]))
        return purples(0.25 + 0.75 * level), size or "x", level > 0.5
    level = pass_scale(_log(ratio, PASS_RANGE[0]))
    return greens(0.1 + 0.8 * level), size if ratio else "0", level > 0.6


def _log(ratio: float | None, floor: float) -> float:
    return floor if not ratio else math.log10(ratio)


def _short(ratio: float) -> str:
    """One significant digit: 0.04, 3e+10 → 3e10, inf."""
    if math.isinf(ratio):
        return "inf"
    if ratio == 0:
        return "0"
    text = f"{ratio:.0e}" if ratio >= 100 or ratio < 0.01 else f"{ratio:.1g}"
    return text.replace("e+", "e").replace("e0", "e").replace("e-0", "e-")
