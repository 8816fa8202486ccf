"""``python -m gatespec.conformance.benchmarks.handwritten STYLE [TASK …]``: each task's native op against its
hand-written program, checked, then timed in alternation (the ratio test_task records), one thread.

Set ``OMP_NUM_THREADS=1`` and ``XLA_FLAGS`` as ``tox -e bench`` does (the command refuses otherwise).
"""

from __future__ import annotations

import argparse
import sys

from gatespec.conformance.benchmarks import paired as P
from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.benchmarks.expected import check_task
from gatespec.conformance.benchmarks.handwritten import PROGRAMS, program
from gatespec.conformance.benchmarks.threads import pin_tensorflow_threads, thread_settings, unpinned
from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.interface import Target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gatespec.conformance.benchmarks.handwritten")
    parser.add_argument("style", choices=sorted(PROGRAMS))
    parser.add_argument("tasks", nargs="*", help="task ids (default: every task)")
    parser.add_argument("--seconds", type=float, default=2.0, help="paired timing per task")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    entry = registry.builtin(args.style)
    if not entry.available:
        print(f"{args.style}: {entry.reason}", file=sys.stderr)
        return 2
    impl = entry.impl
    pin_tensorflow_threads()
    target = Target(K.DTYPE, args.device)
    tasks = [t for t in K.TASKS if not args.tasks or t.id in args.tasks]
    for task in tasks:
        op = impl.native(task.op, target, **task.inputs())
        hand = program(args.style, task, target)
        if hand is None:
            print(f"{task.id}: no program")
            continue
        check_task(impl, task, op.once())
        check_task(impl, task, hand.once())
        if bad := unpinned(thread_settings(), impl.framework):
            print("not pinned to one thread: " + "; ".join(bad), file=sys.stderr)
            return 2
        pairs = P.measure(hand.run, op.run, max_time=args.seconds)
        low, high = pairs.bounds
        print(
            f"{args.style:14s} {task.id:18s} native/hand-written ×{pairs.ratio:.3f} [{low:.3f}, {high:.3f}]  "
            f"hand-written median {sorted(pairs.a)[len(pairs.a) // 2] * 1e6:.1f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
