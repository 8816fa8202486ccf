"""The matrix as a picture: written beside conformance.md and linked from it, each outcome in its own colours."""

from __future__ import annotations

import pytest

from gatespec.conformance.report import heatmap, write_report

pytest.importorskip("matplotlib", reason="the heat map is drawn by matplotlib (in the test extra)")


def _result(check: str, impl: str, outcome: str, ratio: float | None) -> dict:
    return {
        "impl": impl,
        "check": check,
        "case": "xor",
        "dtype": "float64",
        "outcome": outcome,
        "worst_ratio": ratio,
        "nodeid": f"test_conformance.py::test_{check}[{impl}-xor-float64]",
    }


RESULTS = [
    _result("forward", "a", "pass", 0.03),
    _result("forward", "b", "fail", 4e3),
    _result("adam", "a", "xfail", 7e10),
    _result("adam", "b", "skip", None),
]


def test_the_picture_is_written_beside_the_matrix_and_linked_under_its_table(tmp_path):
    write_report(tmp_path, RESULTS, {"a": {"version": "1"}, "b": {"version": "2"}})
    assert (tmp_path / heatmap.PLOT).stat().st_size > 0
    lines = (tmp_path / "conformance.md").read_text().splitlines()
    link = next(k for k, line in enumerate(lines) if f"]({heatmap.PLOT})" in line)
    table_end = next(k for k, line in enumerate(lines) if line.startswith("Versions and machines"))
    assert link == table_end + 2  # right under the table it draws, before the per-check summary


def test_each_outcome_has_its_own_colour_and_its_size_written():
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    scales = (plt.get_cmap("YlGn"), plt.get_cmap("Purples"), Normalize(-4, 0, clip=True), Normalize(0, 14, clip=True))

    def look(outcome, ratio):
        return heatmap._look({"outcome": outcome, "error_over_tolerance": ratio}, *scales)

    assert look("fail", 4e3)[:2] == (heatmap.RED, "F 4e3")
    assert look("skip", None)[:2] == (heatmap.SKIP, "–")
    assert look("xfail", 7e10)[1] == "7e10"
    # Log scale: a pass near its limit is darker than one with a thousandfold headroom.
    near, far = look("pass", 0.9)[0], look("pass", 9e-4)[0]
    assert sum(near[:3]) < sum(far[:3])
