"""The conformance matrix, check × implementation, as JSON and markdown, from the results of a run or a merge.

A result is one test of one implementation: ``{impl, check, case, dtype, outcome, worst_ratio,
nodeid}``, the outcome one of :data:`RANK` and ``worst_ratio`` the largest error over tolerance
its comparisons recorded (None when it compared nothing).  :func:`render` turns the results into
the JSON payload and the markdown lines of the report; nothing here writes a file.
"""

from __future__ import annotations

import platform
from collections import defaultdict
from collections.abc import Iterable, Mapping

from gatespec.conformance.plugin import registry

# Outcomes, worst first: a cell shows the worst outcome among its results.
RANK = {"fail": 4, "xpass": 3, "xfail": 2, "pass": 1, "skip": 0}


def machine(device: str) -> str:
    """Where a run happened, for the report: OS, architecture, Python and ``--gatespec-device``.

    Nothing in it varies between runs on one machine (no host name, no time), so two runs there
    write identical reports, and a merge of per-framework runs equals the single run.
    """
    return f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, {device}"


def implementations_of(entries: list[registry.Entry], device: str) -> dict[str, dict]:
    """The selected entries as :func:`render` takes them: name → version and machine."""
    where = machine(device)
    return {e.name: {"version": _version(e), "machine": where} for e in entries}


def _version(entry: registry.Entry) -> str:
    return entry.impl.framework_version() if entry.available else f"unavailable: {entry.reason}"


def column_order(names: Iterable[str]) -> list[str]:
    """The matrix's columns: built-ins in :data:`registry.BUILTINS` order, then the others as first given.

    One rule for a single run and a merge, so merging per-framework runs gives the single run's table
    whatever order the jobs ran or were merged in.
    """
    builtin = {name: rank for rank, name in enumerate(registry.BUILTINS)}
    unique = list(dict.fromkeys(names))
    return sorted(unique, key=lambda name: (builtin.get(name, len(builtin)), unique.index(name)))


def _versions_line(impls: list[str], implementations: Mapping[str, dict]) -> str:
    """Each column's framework version and, where known, the machine it ran on (runs may be merged)."""
    described = []
    for name in impls:
        info = implementations.get(name) or {}
        where = info.get("machine")
        described.append(f"{name} {info.get('version')}" + (f" ({where})" if where else ""))
    return "Versions and machines: " + "; ".join(described) + "."


def render(results: list[dict], implementations: Mapping[str, dict]) -> tuple[dict, list[str]]:
    """The matrix check × implementation as the JSON payload and the markdown lines: each cell the worst
    outcome over its cases and dtypes.

    ``implementations`` maps each name to ``{"version": ..., "machine": ...}`` (:func:`implementations_of`);
    its columns are those with results, in :func:`column_order`.

    Beside the outcome stands the worst measured error as a fraction of its tolerance among the
    results with that outcome (so a pass shows its headroom, 1.0 = at the limit; a failure how
    far off it was; none where the check compares exactly or failed before comparing).

    A second table, and ``checks_summary`` in the JSON, give per check its distinct cases, the
    tests run (pass, fail, xfail, xpass: not skips) and the worst headroom among its passes with
    the implementation, case and dtype where it occurs (:func:`_check_summaries`).
    """
    ordered = sorted(results, key=lambda r: r["nodeid"])
    cells = _cells(ordered)
    impls = [name for name in column_order(implementations) if any(k[1] == name for k in cells)]
    checks = sorted({k[0] for k in cells})
    summaries = _check_summaries(ordered)
    payload = {
        "implementations": {
            name: {"version": implementations[name].get("version"), "machine": implementations[name].get("machine")}
            for name in impls
        },
        "checks": checks,
        "matrix": {
            f"{c}::{i}": {"outcome": v["outcome"], "counts": dict(v["counts"]), "error_over_tolerance": v["ratio"]}
            for (c, i), v in sorted(cells.items())
        },
        "results": ordered,
        "checks_summary": summaries,
    }
    return payload, _markdown(cells, impls, checks, summaries, implementations)


def _cells(ordered: list[dict]) -> dict[tuple[str, str], dict]:
    """(check, implementation) → its worst outcome, the count of each outcome, and the worst ratio of that outcome."""
    cells: dict[tuple[str, str], dict] = {}
    for r in ordered:
        cell = cells.setdefault((r["check"], r["impl"]), {"outcome": "skip", "counts": defaultdict(int), "ratio": None})
        cell["counts"][r["outcome"]] += 1
        if RANK[r["outcome"]] > RANK[cell["outcome"]]:
            cell["outcome"], cell["ratio"] = r["outcome"], None
        if r["outcome"] == cell["outcome"] and r["worst_ratio"] is not None:
            cell["ratio"] = max(cell["ratio"] or 0.0, r["worst_ratio"])
    return cells


def _markdown(cells, impls: list[str], checks: list[str], summaries: dict, implementations) -> list[str]:
    lines = [
        "# gatespec conformance matrix",
        "",
        "Each cell: the worst outcome over the check's cases and dtypes — pass, **FAIL**, xfail (a known "
        "deviation), skip (not declared, or unavailable) — and, in brackets, the worst error as a fraction "
        "of its tolerance among those results (a pass's headroom: 1 is at the limit).",
        "",
        "| check | " + " | ".join(impls) + " |",
        "|---|" + "---|" * len(impls),
    ]
    for c in checks:
        row = []
        for i in impls:
            v = cells.get((c, i))
            text = "" if v is None else {"fail": "**FAIL**", "xpass": "**XPASS**"}.get(v["outcome"], v["outcome"])
            if v is not None and v["ratio"] is not None:
                text += f" ({v['ratio']:.2g})"
            row.append(text)
        lines.append(f"| {c.replace('_', ' ')} | " + " | ".join(row) + " |")
    lines += ["", _versions_line(impls, implementations)]
    lines += [
        "",
        "## Cases and headroom per check",
        "",
        "Per check, over every implementation and dtype: its distinct cases, the tests run (pass, fail, xfail, "
        "xpass; skips not counted), and the worst headroom among its passes — the largest error as a fraction of "
        "its tolerance (1 is at the limit, 0 an exact comparison that matched) — with the implementation, case "
        "and dtype where it occurs.",
        "",
        "| check | cases | tests run | worst pass (error / tolerance) | at |",
        "|---|---|---|---|---|",
    ]
    for c, v in summaries.items():
        ratio = "—" if v["worst_pass_ratio"] is None else f"{v['worst_pass_ratio']:.2g}"  # —: no pass compared
        at = " / ".join(str(x) for x in (v["worst_pass_at"] or {}).values() if x is not None) or "—"
        lines.append(f"| {c.replace('_', ' ')} | {v['cases']} | {v['tests_run']} | {ratio} | {at} |")
    return lines


def _check_summaries(ordered: list[dict]) -> dict[str, dict]:
    """Per check: distinct cases (a check without cases has one), tests run, and its worst pass and where.

    ``worst_pass_ratio`` is the largest ``worst_ratio`` among the check's passes (None when no
    pass recorded one); ``worst_pass_at`` its implementation, case and dtype, the first in node-id
    order on a tie.
    """
    found: dict[str, dict] = {}
    for r in ordered:
        s = found.setdefault(r["check"], {"cases": set(), "tests_run": 0, "worst_pass_ratio": None})
        s["cases"].add(r["case"])
        s["tests_run"] += int(r["outcome"] != "skip")
        ratio, worst = r["worst_ratio"], s["worst_pass_ratio"]
        if r["outcome"] == "pass" and ratio is not None and (worst is None or ratio > worst):
            s["worst_pass_ratio"] = ratio
            s["worst_pass_at"] = {"impl": r["impl"], "case": r["case"], "dtype": r["dtype"]}
    return {c: {"worst_pass_at": None, **s, "cases": len(s["cases"])} for c, s in sorted(found.items())}
