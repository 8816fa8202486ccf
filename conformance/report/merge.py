"""``gatespec merge``: conformance reports of separate runs combined into one matrix.

Per-framework tox envs run as parallel CI jobs, or a CPU run and a GPU run, each write their own
``conformance.json``; merging them gives the report a single run over all of them would have
given.  Only the JSON is read: its ``results`` are the raw outcomes, from which
:func:`gatespec.conformance.report.write_report` recomputes the matrix, the per-check summary and
the markdown, and its ``convergence`` rows (absent in reports written before they were kept
there: none) the convergence section and plot.  Run times are no part of ``conformance.json``, so
a merge writes no ``convergence.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gatespec.conformance.report import convergence, jsonio, matrix, write_report

_RESULT_KEYS = {"impl", "check", "case", "dtype", "outcome", "worst_ratio", "nodeid"}


class MergeError(ValueError):
    """An input that cannot be merged; the message names the file."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="conformance.json files to merge")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DIR", help="where to write conformance.md and .json"
    )


def run(args: argparse.Namespace) -> int:
    """The subcommand: 0 when merged, 1 with a message on stderr when an input is unusable or conflicts."""
    try:
        implementations, results, rows = merge([read(path) for path in args.reports])
    except MergeError as exc:
        print(f"gatespec merge: {exc}", file=sys.stderr)
        return 1
    try:
        write_report(args.output, results, implementations, rows)
    except OSError as exc:
        print(f"gatespec merge: {args.output}: cannot write the report: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"gatespec merge: {len(args.reports)} reports, {len(results)} results written to {args.output}")
    return 0


def read(path: Path) -> tuple[Path, dict]:
    """A report's path and its JSON, checked to be a gatespec conformance report."""
    try:
        payload = jsonio.read(path)
    except OSError as exc:
        raise MergeError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MergeError(f"{path}: not a gatespec conformance report (not JSON: {exc})") from None
    problem = _shape_problem(payload)
    if problem:
        raise MergeError(f"{path}: not a gatespec conformance report ({problem})")
    return path, payload


def _shape_problem(payload) -> str | None:
    """What keeps ``payload`` from being a report write_report wrote, or None."""
    if not isinstance(payload, dict) or not isinstance(payload.get("implementations"), dict):
        return "no 'implementations' object"
    if not all(isinstance(info, dict) for info in payload["implementations"].values()):
        return "an implementation that is not an object of version and machine"
    if not isinstance(payload.get("results"), list):
        return "no 'results' list"
    for r in payload["results"]:
        if not isinstance(r, dict) or set(r) != _RESULT_KEYS:
            return f"a result without exactly the keys {', '.join(sorted(_RESULT_KEYS))}: {r!r}"
        if r["outcome"] not in matrix.RANK:
            return f"unknown outcome {r['outcome']!r} in {r['nodeid']}"
        if not _is_ratio(r["worst_ratio"]):
            return f"worst_ratio {r['worst_ratio']!r} in {r['nodeid']} is no number"
        if r["impl"] not in payload["implementations"]:
            return f"result {r['nodeid']} of implementation {r['impl']!r}, which is not in 'implementations'"
    return _convergence_problem(payload)


def _convergence_problem(payload: dict) -> str | None:
    """What keeps the report's convergence rows (none in a report older than them) from being rows, or None."""
    rows = payload.get("convergence", [])
    if not isinstance(rows, list):
        return "'convergence' is not a list of rows"
    for row in rows:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in convergence.TEXT):
            return f"a convergence row without the text fields {', '.join(convergence.TEXT)}: {row!r}"
        if row["impl"] not in payload["implementations"]:
            return f"convergence row {_key(row)} of implementation {row['impl']!r}, which is not in 'implementations'"
    return None


def _is_ratio(value) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value is None or value in jsonio.NONFINITE or number


def merge(reports: list[tuple[Path, dict]]) -> tuple[dict[str, dict], list[dict], list[dict]]:
    """The union of the reports' implementations, results and convergence rows, in order of first appearance.

    One implementation may come from several reports (a run split by ``-k``) only with the same
    version and machine; one test, or one convergence row (an implementation and case), from
    several only with the identical result.  Anything else would silently pick a winner, so it is
    an error naming both files.
    """
    implementations: dict[str, tuple[Path, dict]] = {}
    results: dict[str, tuple[Path, dict]] = {}
    rows: dict[str, tuple[Path, dict]] = {}
    for path, payload in reports:
        for name, info in payload["implementations"].items():
            info = {"version": info.get("version"), "machine": info.get("machine")}
            seen = implementations.setdefault(name, (path, info))
            if seen[1] != info:
                raise MergeError(
                    f"{path}: implementation {name!r} is {_describe(info)} here but {_describe(seen[1])} in {seen[0]}"
                )
        # As written (non-finite numbers still strings), so that a nan equals a nan: the same NaN error in both runs.
        for r in payload["results"]:
            if other := _add(results, r["nodeid"], path, r):
                raise MergeError(f"{path}: test {r['nodeid']} has a result that differs from the one in {other}")
        for row in payload.get("convergence", []):
            if other := _add(rows, _key(row), path, row):
                raise MergeError(f"{path}: the convergence statistics of {_key(row)} differ from those in {other}")
    return (
        {name: info for name, (_, info) in implementations.items()},
        [{**r, "worst_ratio": jsonio.decode(r["worst_ratio"])} for _, r in results.values()],
        [convergence.from_json(row) for _, row in rows.values()],
    )


def _add(found: dict[str, tuple[Path, dict]], key: str, path: Path, record: dict) -> Path | None:
    """Keep ``record`` under ``key``, unless one is there already; the report of one there that differs, or None."""
    seen_in, seen = found.setdefault(key, (path, record))
    return seen_in if seen != record else None


def _key(row: dict) -> str:
    return f"{row['impl']} / {row['case']}"


def _describe(info: dict) -> str:
    return f"version {info['version']} on {info['machine']}"
