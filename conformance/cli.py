"""``gatespec`` console command."""

from __future__ import annotations

import argparse
import sys

from . import registry
from .report import benchmarks as bench_report
from .report import merge as report_merge


def list_implementations(out=sys.stdout) -> int:
    for e in registry.discover():
        if e.available:
            impl = e.impl
            caps = ", ".join(sorted(c.value for c in impl.capabilities))
            print(
                f"{e.name:<15} {e.framework:<11} {impl.framework_version():<12} available   "
                f"dtypes={','.join(impl.dtypes)} devices={','.join(impl.devices)} [{e.source}]\n"
                f"{'':<15} capabilities: {caps}",
                file=out,
            )
        else:
            print(f"{e.name:<15} {e.framework:<11} {'-':<12} unavailable {e.reason} [{e.source}]", file=out)
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
    args = parser.parse_args(argv)
    if args.command == "list":
        return list_implementations()
    if args.command == "report":
        return bench_report.run(args)
    if args.command == "merge":
        return report_merge.run(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
