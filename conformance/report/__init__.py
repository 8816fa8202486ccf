"""gatespec's reports, each written once from the data of a run or of a merge:

- ``matrix``: the conformance matrix check × implementation and the per-check summary;
- ``heatmap``: the matrix as a picture, beside it;
- ``convergence``: the XOR convergence section, its plot and its run times;
- ``merge``: ``gatespec merge``, reports of separate runs as one;
- ``benchmarks``: ``gatespec report``, pytest-benchmark's JSON as ratio tables, plots and a CI gate;
- ``jsonio``: the one JSON writer (and reader) of them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from gatespec.conformance.report import convergence, heatmap, jsonio, matrix
from gatespec.conformance.report.matrix import column_order, implementations_of, machine

__all__ = ["column_order", "implementations_of", "machine", "write_report"]


def write_report(
    out: Path, results: list[dict], implementations: Mapping[str, dict], convergence_rows: Iterable[dict] = ()
) -> None:
    """Write ``conformance.md`` and ``conformance.json`` to ``out``: the matrix of ``results``
    (:func:`matrix.render`) and its picture (:mod:`.heatmap`, ``conformance-heatmap.png``), then the
    convergence rows, if any (:mod:`.convergence`), with their plot and, when the rows carry their run
    times, ``convergence.json``.

    The JSON holds ``implementations``, ``checks``, ``matrix``, ``results``, ``checks_summary``
    and ``convergence`` (the rows without their times), all a merge needs to write the same report.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = convergence.ordered(convergence_rows)
    payload, lines = matrix.render(results, implementations)
    # The picture right under the table it draws: after the table's versions line.
    below = next(k for k, line in enumerate(lines) if line.startswith("Versions and machines")) + 1
    lines[below:below] = ["", heatmap.plot(out / heatmap.PLOT, payload)]
    if rows:
        lines += ["", *convergence.section(rows, convergence.plot(out / convergence.PLOT, rows))]
    jsonio.write(out / "conformance.json", {**payload, "convergence": [convergence.untimed(r) for r in rows]})
    (out / "conformance.md").write_text("\n".join(lines) + "\n")
    if convergence.is_timed(rows):
        jsonio.write(out / "convergence.json", convergence.timings(rows))
