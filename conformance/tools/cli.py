"""``gatespec`` console command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatespec.conformance.plugin import registry
from gatespec.conformance.report import benchmarks as bench_report
from gatespec.conformance.report import merge as report_merge
from gatespec.conformance.tools import template


def list_implementations(out=sys.stdout) -> int:
    entries = registry.discover()
    versions = {e.name: e.impl.framework_version() if e.available else "-" for e in entries}
    # Columns as wide as their longest value: a version with extra text shifts nothing.
    w_name, w_fw, w_ver = (
        max(len(x) for x in col) for col in zip(*((e.name, e.framework, versions[e.name]) for e in entries))
    )
    for e in entries:
        head = f"{e.name:<{w_name}} {e.framework:<{w_fw}} {versions[e.name]:<{w_ver}}"
        if not e.available:
            print(f"{head} unavailable {e.reason} [{e.source}]", file=out)
            continue
        impl = e.impl
        print(
            f"{head} available   dtypes={','.join(impl.dtypes)} devices={','.join(impl.devices)} [{e.source}]\n"
            f"{'':<{w_name}} capabilities: {_capabilities(impl.capabilities)}",
            file=out,
        )
        for dtype, caps in sorted(impl.capabilities_by_dtype.items()):
            print(f"{'':<{w_name}} in {dtype}: {_capabilities(caps)}", file=out)
    return 0


def _capabilities(caps) -> str:
    return ", ".join(sorted(c.value for c in caps))


def check(args: argparse.Namespace) -> int:
    """The conformance matrix for one implementation, its report written to ``args.output``; pytest's exit code."""
    import pytest

    out = Path(args.output)
    # A module:attr that does not import is a usage error already; a name is required, so that a
    # framework missing here fails instead of leaving the column skipped.
    required = [] if ":" in args.impl else ["--gatespec-require", args.impl]
    code = pytest.main(
        ["--pyargs", "gatespec.conformance", "--gatespec-impl", args.impl, *required, "-m", "not bench"]
        + [f"--gatespec-known-deviations={path}" for path in args.known_deviations]
        + [f"--gatespec-report={out}", "-p", "no:cacheprovider", *args.pytest_args]
    )
    print(f"gatespec check: {args.impl}: report in {out / 'conformance.md'} (pytest exit code {int(code)})")
    return int(code)


def export(args: argparse.Namespace) -> int:
    """Every conformance case as JSON test vectors in ``args.directory`` (conformance/tools/export.py)."""
    import time

    from gatespec.conformance.tools import export as vectors  # builds every case of the registry: only when asked

    start = time.perf_counter()
    try:
        index = vectors.export(Path(args.directory))
    except ValueError as exc:
        print(f"gatespec export: {exc}", file=sys.stderr)
        return 2
    count = sum(f["vectors"] for f in index["files"])
    print(
        f"gatespec export: {count} vectors of {len(index['files'])} tests in {args.directory} "
        f"({len(index['not_exported'])} tests not exported, see index.json), {time.perf_counter() - start:.1f} s"
    )
    return 0


def repro(args: argparse.Namespace) -> int:
    """Write the standalone reproduction of one test (conformance/tools/repro.py)."""
    from gatespec.conformance.tools import repro as reproduction

    try:
        text = reproduction.script(args.nodeid, args.impl)
    except (reproduction.ReproError, registry.UsageError) as exc:
        print(f"gatespec repro: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"gatespec repro: {args.output}: run it with python (it needs numpy and the framework, not gatespec)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gatespec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every implementation: framework, version, availability, dtypes, devices, capabilities")
    report_parser = sub.add_parser(
        "report", help="benchmark JSON (pytest-benchmark) to ratio tables and plots; --max-ratio gates CI"
    )
    bench_report.add_arguments(report_parser)
    merge_parser = sub.add_parser(
        "merge", help="conformance.json files of separate runs (per framework, CPU and GPU) into one matrix"
    )
    report_merge.add_arguments(merge_parser)
    check_parser = sub.add_parser(
        "check",
        help="the conformance matrix for one implementation (module:attr, a registered name or exec:COMMAND), "
        "with its report",
    )
    check_parser.add_argument(
        "impl", help="package.module:attr, a registered name, or exec:COMMAND (a program speaking the exec protocol)"
    )
    check_parser.add_argument("-o", "--output", default="gatespec-report", help="report folder (default: %(default)s)")
    check_parser.add_argument(
        "--known-deviations", action="append", default=[], metavar="FILE", help="deviations file; repeatable"
    )
    check_parser.epilog = "Arguments after -- go to pytest (e.g. -- -k adam -x)."
    new_parser = sub.add_parser("new", help="a package for a new implementation: pyproject with its entry point")
    new_parser.add_argument("name", help="the implementation's name, e.g. my-mlp (the package: my_mlp)")
    new_parser.add_argument("-o", "--output", default=".", help="where to write the folder NAME (default: here)")
    repro_parser = sub.add_parser(
        "repro", help="a failing test as a standalone script (numpy and the framework, no gatespec), for a bug report"
    )
    repro_parser.add_argument(
        "nodeid", help="the test's node id, e.g. 'test_mlp_one_adam_step[torch-optim-xor-2-2-1-float32]'"
    )
    repro_parser.add_argument(
        "--impl", required=True, metavar="NAME", help="the implementation: a built-in style's name, or exec:COMMAND"
    )
    repro_parser.add_argument("-o", "--output", default=None, help="write the script here (default: standard output)")
    export_parser = sub.add_parser(
        "export", help="every conformance case as versioned JSON test vectors, for runners in any language"
    )
    export_parser.add_argument("directory", metavar="DIR", help="an empty or new folder, or an earlier export's")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "check":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra[1:] if extra[:1] == ["--"] else extra
    if args.command == "list":
        return list_implementations()
    if args.command == "report":
        return bench_report.run(args)
    if args.command == "merge":
        return report_merge.run(args)
    if args.command == "check":
        return check(args)
    if args.command == "export":
        return export(args)
    if args.command == "repro":
        return repro(args)
    if args.command == "new":
        try:
            root = template.new(args.name, Path(args.output))
        except ValueError as exc:
            parser.error(str(exc))
        # A path, never a bare name pip would look up in the registry: ./my-mlp, not my-mlp.
        shown = root.as_posix() if root.is_absolute() else f"./{root.as_posix()}"
        print(f"gatespec new: {root}: pip install {shown} (beside gatespec), then gatespec check {args.name}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
