"""``gatespec merge``: conformance reports of separate runs combined into one matrix.

Per-framework tox envs run as parallel CI jobs, or a CPU run and a GPU run, each write their own
``conformance.json``; merging them gives the matrix a single run over all of them would have
given.  Only the JSON is read: its ``results`` are the raw outcomes, from which
:func:`plugin.write_report` recomputes the matrix, the per-check summary and the markdown.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from . import plugin

_RESULT_KEYS = {"impl", "check", "case", "dtype", "outcome", "worst_ratio", "nodeid"}
_NONFINITE = ("inf", "-inf", "nan")  # how plugin._json writes them


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
        implementations, results = merge([read(path) for path in args.reports])
    except MergeError as exc:
        print(f"gatespec merge: {exc}", file=sys.stderr)
        return 1
    try:
        plugin.write_report(args.output, results, implementations)
    except OSError as exc:
        print(f"gatespec merge: {args.output}: cannot write the report: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"gatespec merge: {len(args.reports)} reports, {len(results)} results written to {args.output}")
    return 0


def read(path: Path) -> tuple[Path, dict]:
    """A report's path and its JSON, checked to be a gatespec conformance report."""
    try:
        payload = json.loads(path.read_text())
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
        if r["outcome"] not in plugin._RANK:
            return f"unknown outcome {r['outcome']!r} in {r['nodeid']}"
        if not _is_ratio(r["worst_ratio"]):
            return f"worst_ratio {r['worst_ratio']!r} in {r['nodeid']} is no number"
        if r["impl"] not in payload["implementations"]:
            return f"result {r['nodeid']} of implementation {r['impl']!r}, which is not in 'implementations'"
    return None


def _is_ratio(value) -> bool:
    return value is None or value in _NONFINITE or (isinstance(value, (int, float)) and not isinstance(value, bool))


def merge(reports: list[tuple[Path, dict]]) -> tuple[dict[str, dict], list[dict]]:
    """The union of the reports' implementations and results, in order of first appearance.

    One implementation may come from several reports (a run split by ``-k``) only with the same
    version and machine; one test from several only with the identical result.  Anything else
    would silently pick a winner, so it is an error naming both files.
    """
    implementations: dict[str, tuple[Path, dict]] = {}
    results: dict[str, tuple[Path, dict]] = {}
    for path, payload in reports:
        for name, info in payload["implementations"].items():
            info = {"version": info.get("version"), "machine": info.get("machine")}
            seen = implementations.setdefault(name, (path, info))
            if seen[1] != info:
                raise MergeError(
                    f"{path}: implementation {name!r} is {_describe(info)} here but {_describe(seen[1])} in {seen[0]}"
                )
        for r in payload["results"]:
            r = {**r, "worst_ratio": _ratio(r["worst_ratio"])}
            seen = results.setdefault(r["nodeid"], (path, r))
            if not _same_result(seen[1], r):
                raise MergeError(f"{path}: test {r['nodeid']} has a result that differs from the one in {seen[0]}")
    return {name: info for name, (_, info) in implementations.items()}, [r for _, r in results.values()]


def _describe(info: dict) -> str:
    return f"version {info['version']} on {info['machine']}"


def _ratio(value: float | str | None) -> float | None:
    """Undo :func:`plugin._json`: inf and nan were written as strings."""
    return float(value) if isinstance(value, str) else value


def _same_result(a: dict, b: dict) -> bool:
    """Equal results; a nan ratio equals a nan (a NaN error is reported as one, in both runs)."""
    ra, rb = a["worst_ratio"], b["worst_ratio"]
    both_nan = isinstance(ra, float) and isinstance(rb, float) and math.isnan(ra) and math.isnan(rb)
    return {**a, "worst_ratio": None} == {**b, "worst_ratio": None} and (both_nan or ra == rb)
