"""``gatespec report BENCH.json``: pytest-benchmark's JSON as ratio tables, plots and a CI gate.

Absolute timings on shared machines drift by 2× between runs, so what this report (and the
gate) trusts are *paired* ratios: each implementation timed in alternation with the baseline
(numpy) in one process, the median of the pairs' ratios and its 95% bootstrap interval
(:mod:`gatespec.conformance.benchmarks.paired`); and, as a model, the ratio to the task's
arithmetic limit (:mod:`gatespec.conformance.benchmarks.tasks` counts the flops).  A JSON
without paired samples (an older run, or ``--baseline`` other than the one it was paired
with) falls back to the ratio of medians, with no interval, and the report says so.

Written to the output folder: ``bench.md`` (tables), ``bench-tasks.png``,
``bench-parity.png`` and ``bench-batched.png`` (matplotlib; without it the tables say the
plots were not made).  ``--max-ratio IMPL[:TASK]=VALUE`` fails (exit 1) when the upper end of a
ratio's interval exceeds VALUE, so a gate passes only when the run shows the ratio is under
it; naming an implementation or task the JSON lacks is an error (exit 2), never a pass.
``--max-handwritten [IMPL[:TASK]=]VALUE`` does the same for a style's ratio to its hand-written program.
``--rerun OTHER.json`` sets two runs' ratios side by side, with the median and the largest
change between them: the spread a gate must leave room for.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from gatespec.conformance.benchmarks import paired as P
from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.report import jsonio

TASK_ORDER = tuple(t.id for t in K.TASKS)


class ReportError(ValueError):
    """The JSON, or a gate, cannot be read as asked."""


@dataclass(frozen=True)
class Row:
    """One benchmark's median and what the report needs from its extra_info."""

    name: str
    kind: str
    task: str
    impl: str
    median: float
    iqr: float
    rounds: int
    extra: dict

    @cached_property
    def paired(self) -> P.Paired | P.Processes | None:
        """The samples timed in alternation with the baseline (``extra_info["paired"]``), in one or more processes."""
        data = self.extra.get("paired")
        return P.from_json(data) if data else None

    @cached_property
    def handwritten(self) -> P.Paired | None:
        """The samples timed in alternation with the style's hand-written program (``extra_info["handwritten"]``)."""
        data = self.extra.get("handwritten")
        return P.from_json(data) if data else None


@dataclass(frozen=True)
class Ratio:
    """An implementation's time over the baseline's on one task: the estimate and its interval.

    Paired: median of the pairs' ratios and its bootstrap interval.  Unpaired: the ratio of
    the two medians, measured at different moments, with no interval (low = high = value).
    """

    value: float
    low: float
    high: float
    paired: bool

    def text(self) -> str:
        if not self.paired:
            return f"×{self.value:.3g}"
        return f"×{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


@dataclass
class Bench:
    rows: list[Row]
    excluded: dict[str, str]
    clock_hz: float
    clock_source: str
    machine: dict
    threads: dict
    baseline: str | None = None  # what the paired samples were timed against

    def of(self, kind: str) -> dict[tuple[str, str], Row]:
        """{(task, impl): row} for the included rows of one kind."""
        return {(r.task, r.impl): r for r in self.rows if r.kind == kind and r.name not in self.excluded}

    def impls(self, kind: str) -> list[str]:
        return sorted({r.impl for r in self.rows if r.kind == kind}, key=_impl_key)


def _impl_key(name: str) -> tuple:
    order = ("numpy", "autograd", "torch", "tf", "jax")
    prefix = next((i for i, p in enumerate(order) if name.startswith(p)), len(order))
    return prefix, name


def load(path: Path) -> Bench:
    try:
        data = jsonio.read(path)
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read benchmark JSON ({exc})") from None
    if "benchmarks" not in data:
        raise ReportError(f"{path}: not pytest-benchmark JSON (no 'benchmarks' key)")
    rows = []
    for b in data["benchmarks"]:
        extra = b.get("extra_info", {})
        if "kind" not in extra:
            continue  # someone else's benchmark in the same file
        stats = b["stats"]
        rows.append(
            Row(
                b["name"],
                extra["kind"],
                extra["task"],
                extra["implementation"],
                stats["median"],
                stats["iqr"],
                stats["rounds"],
                extra,
            )
        )
    if not rows:
        raise ReportError(f"{path}: no gatespec benchmarks in it")
    gs = data.get("gatespec", {})
    clock, source = _clock(data.get("machine_info", {}))
    return Bench(
        rows=rows,
        excluded={e["name"]: e["reason"] for e in gs.get("excluded", [])},
        clock_hz=clock,
        clock_source=source,
        machine=data.get("machine_info", {}),
        threads=gs.get("threads", {}),
        baseline=gs.get("baseline"),
    )


def _clock(machine: dict) -> tuple[float, str]:
    hz = machine.get("cpu", {}).get("hz_actual") or machine.get("cpu", {}).get("hz_advertised")
    if isinstance(hz, list) and hz and hz[0]:
        return float(hz[0]), "the CPU clock pytest-benchmark recorded"
    return K.FALLBACK_CLOCK_HZ, "no clock in the JSON: an assumed 3 GHz"


# ----------------------------------------------------------------------------- numbers


def ratios(bench: Bench, baseline: str = "numpy") -> dict[tuple[str, str], Ratio]:
    """{(task, impl): Ratio} for the comparison tasks measured for both: paired where the run paired
    the implementation with ``baseline``, else the ratio of medians; the baseline's own is 1."""
    rows = bench.of("task")
    found = {}
    for (task, impl), r in rows.items():
        pairs = r.paired if bench.baseline == baseline else None
        if impl == baseline:
            found[task, impl] = Ratio(1.0, 1.0, 1.0, paired=bench.baseline == baseline)
        elif pairs is not None:
            found[task, impl] = Ratio(pairs.ratio, *pairs.bounds, paired=True)
        elif (task, baseline) in rows:
            value = r.median / rows[task, baseline].median
            found[task, impl] = Ratio(value, value, value, paired=False)
    return found


def handwritten_ratios(bench: Bench) -> dict[tuple[str, str], Ratio]:
    """{(task, impl): native op over its hand-written program}, paired, for the styles that have one."""
    return {
        k: Ratio(r.handwritten.ratio, *r.handwritten.bounds, paired=True)
        for k, r in bench.of("task").items()
        if r.handwritten is not None
    }


def limit(row: Row, clock_hz: float) -> float:
    return K.limit_seconds(K.Work(row.extra["flops"], row.extra["transcendentals"]), clock_hz)


def per_step(row: Row) -> float:
    return row.median / max(row.extra.get("steps", 1), 1)


def overtakes(series: dict[int, float], baseline: dict[int, float]) -> int | None:
    """The smallest size from which the series is faster than the baseline at every larger size."""
    sizes = sorted(set(series) & set(baseline))
    found = None
    for s in reversed(sizes):
        if series[s] < baseline[s]:
            found = s
        else:
            break
    return found


def compile_times(bench: Bench) -> dict[tuple[str, str], tuple[float, float]]:
    """{(task, impl): (first call, first call − steady median)} for compiled styles."""
    steady, first = bench.of("task"), bench.of("compile")
    return {k: (r.median, r.median - steady[k].median) for k, r in first.items() if k in steady}


# ----------------------------------------------------------------------------- text


def _t(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in body]


def markdown(bench: Bench, baseline: str = "numpy", plots: list[str] | None = None) -> str:
    lines = ["# gatespec benchmarks", ""]
    cpu = bench.machine.get("cpu", {})
    lines += [
        f"Machine: {cpu.get('brand_raw', '?')}, {bench.clock_hz / 1e9:.3g} GHz ({bench.clock_source}); "
        f"Python {bench.machine.get('python_version', '?')}.  Threads: "
        + "; ".join(f"{k} {v}" for k, v in bench.threads.items())
        + ".",
        "",
        "Medians of pytest-benchmark rounds, float32; absolute times drift between runs and machines.  "
        + _ratio_sentence(bench, baseline),
        "",
    ]
    lines += _tasks_section(bench, baseline)
    lines += _handwritten_section(bench)
    lines += _compile_section(bench)
    lines += _scaling_section(bench, baseline)
    if bench.excluded:
        # Each with its own reason: a result that disagreed with the reference, or a task a fresh process could not
        # time (which says nothing of its result).
        lines += ["## Not benchmarked", "", "Tasks with no published timing, and why:", ""]
        lines += [f"- `{name}`: {reason}" for name, reason in sorted(bench.excluded.items())]
        lines += [""]
    lines += ["## Plots", ""]
    if plots is None:
        lines += ["Not made: matplotlib is not installed (`pip install gatespec[bench]`).", ""]
    else:
        lines += [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(lines)


def _processes(paired: P.Paired | P.Processes) -> int:
    return len(paired.runs) if isinstance(paired, P.Processes) else 1


def _ratio_sentence(bench: Bench, baseline: str) -> str:
    rat = ratios(bench, baseline)
    if any(r.paired for (_, i), r in rat.items() if i != baseline):
        counts = sorted({_processes(r.paired) for r in bench.rows if r.paired is not None})
        if counts == [1]:
            how = f"in the same process: the median of the pairs' time ratios and its {P.LEVEL:.0%} bootstrap interval"
        else:
            n = " or ".join(str(c) for c in counts)
            how = (
                f"in the same process, in each of {n} processes: the median over processes of the pairs' median "
                f"time ratio, and its {P.LEVEL:.0%} interval by bootstrap over the processes, then their pairs"
            )
        return (
            f"*×{baseline} [low, high]*: the ratio CI gates on, each task timed in alternation with {baseline} "
            f"{how} (`gatespec.conformance.benchmarks.paired`).  The gate uses the interval's upper end."
        )
    why = "it has no paired samples" if bench.baseline is None else f"its samples were paired with {bench.baseline}"
    return (
        f"*×{baseline}*: median over {baseline}'s median on the same task, measured at different moments, "
        f"with no interval: this JSON cannot give paired ratios to {baseline} ({why})."
    )


def _tasks_section(bench: Bench, baseline: str) -> list[str]:
    rows, rat = bench.of("task"), ratios(bench, baseline)
    tasks = [t for t in TASK_ORDER if any(k[0] == t for k in rows)]
    if not tasks:
        return []
    impls = [i for i in bench.impls("task") if any((t, i) in rows for t in tasks)]
    body = []
    for i in impls:
        cells = []
        for t in tasks:
            r = rows.get((t, i))
            cells.append(
                "—" if r is None else f"{_t(r.median)} ({rat[t, i].text()})" if (t, i) in rat else _t(r.median)
            )
        body.append([i, *cells])
    out = ["## Tasks: median (× " + baseline + ")", ""] + _table(["implementation", *tasks], body) + [""]
    limits = {t: limit(next(r for (tt, _), r in rows.items() if tt == t), bench.clock_hz) for t in tasks}
    body = [["arithmetic limit", *(_t(limits[t]) for t in tasks)]]
    for i in impls:
        body.append([i, *("—" if (t, i) not in rows else f"×{rows[t, i].median / limits[t]:.3g}" for t in tasks)])
    out += [
        "## Against the arithmetic limit",
        "",
        f"Limit = (flops + {K.CYCLES_PER_TRANSCENDENTAL}·transcendentals) / clock: one scalar flop per cycle, "
        f"{K.CYCLES_PER_TRANSCENDENTAL} cycles per exp or log1p (counting rules: "
        "`gatespec.conformance.benchmarks.tasks`).  A model of the work, not a measurement.",
        "",
        *_table(["implementation", *tasks], body),
        "",
    ]
    return out


def _handwritten_section(bench: Bench) -> list[str]:
    rat = handwritten_ratios(bench)
    if not rat:
        return []
    tasks = [t for t in TASK_ORDER if any(k[0] == t for k in rat)]
    impls = [i for i in bench.impls("task") if any((t, i) in rat for t in tasks)]
    body = [[i, *("—" if (t, i) not in rat else rat[t, i].text() for t in tasks)] for i in impls]
    return [
        "## Against the hand-written program",
        "",
        "*× hand-written [low, high]*: the style's native op timed in alternation with its idiom written by hand "
        "(`gatespec.conformance.benchmarks.handwritten`: constants inlined, nothing but the framework's calls), the "
        f"median of the pairs' time ratios and its {P.LEVEL:.0%} bootstrap interval: what the suite's adapter adds "
        "to the framework's own work (×1: nothing).",
        "",
        *_table(["implementation", *tasks], body),
        "",
    ]


def _compile_section(bench: Bench) -> list[str]:
    times = compile_times(bench)
    if not times:
        return []
    tasks = [t for t in TASK_ORDER if any(k[0] == t for k in times)]
    impls = [i for i in bench.impls("compile") if any((t, i) in times for t in tasks)]
    body = [
        [i, *("—" if (t, i) not in times else f"{_t(times[t, i][1])} (first call {_t(times[t, i][0])})" for t in tasks)]
        for i in impls
    ]
    return [
        "## Compile time",
        "",
        "Median first call from cold caches (`clear_caches()`, 3 rounds) minus the steady-state median above.",
        "",
        *_table(["implementation", *tasks], body),
        "",
    ]


def _scaling_section(bench: Bench, baseline: str) -> list[str]:
    out = []
    for kind, size_key, label, rate_label in (
        ("parity", "rows", "rows (parity-n, n-n-1 net)", None),
        ("batched", "nets", "nets (XOR 2-2-1, 100 SGD steps each)", "net-steps/s"),
    ):
        rows = bench.of(kind)
        if not rows:
            continue
        sizes = sorted({r.extra[size_key] for r in rows.values()})
        impls = [i for i in bench.impls(kind) if any(k[1] == i for k in rows)]
        series = {i: {r.extra[size_key]: per_step(r) for (_, ii), r in rows.items() if ii == i} for i in impls}
        body = []
        for i in impls:
            cells = []
            for s in sizes:
                if s not in series[i]:
                    cells.append("—")
                elif rate_label:
                    cells.append(f"{_t(series[i][s])} ({s / series[i][s] / 1e6:.3g} M)")
                else:
                    cells.append(_t(series[i][s]))
            base = series.get(baseline, {})
            over = overtakes(series[i], base) if i != baseline and base else None
            cells.append("—" if i == baseline or not base else ("never" if over is None else str(over)))
            body.append([i, *cells])
        what = "time per step" + (f" ({rate_label} in millions)" if rate_label else "")
        out += [f"## Scaling: {what} against {label}", ""]
        out += _table(["implementation", *map(str, sizes), f"faster than {baseline} from"], body) + [""]
    return out


# ----------------------------------------------------------------------------- plots


def plot(bench: Bench, out: Path) -> list[str] | None:
    """Write the PNGs; their file names, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    rows = bench.of("task")
    tasks = [t for t in TASK_ORDER if any(k[0] == t for k in rows)]
    if tasks:
        fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 4.5), squeeze=False)
        for ax, t in zip(axes[0], tasks):
            impls = sorted((i for (tt, i) in rows if tt == t), key=lambda i: rows[t, i].median)
            ax.barh(impls, [rows[t, i].median * 1e3 for i in impls], color="tab:blue")
            ax.axvline(limit(rows[t, impls[0]], bench.clock_hz) * 1e3, color="tab:red", ls="--", label="limit")
            ax.set_xscale("log")
            ax.set_title(t)
            ax.set_xlabel("median, ms (log)")
            ax.invert_yaxis()
        axes[0][0].legend(loc="lower right")
        fig.suptitle("gatespec: the same work on every implementation (float32, one thread)")
        fig.tight_layout()
        fig.savefig(out / "bench-tasks.png", dpi=110)
        plt.close(fig)
        made.append("bench-tasks.png")
    for kind, size_key, xlabel, fname in (
        ("parity", "rows", "rows (2^n, parity-n, n-n-1 net)", "bench-parity.png"),
        ("batched", "nets", "independent XOR nets trained at once", "bench-batched.png"),
    ):
        krows = bench.of(kind)
        if not krows:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 5))
        colours = plt.get_cmap("tab20").colors  # 13 styles: the default 10-colour cycle would repeat
        for n, i in enumerate(bench.impls(kind)):
            pts = sorted((r.extra[size_key], per_step(r)) for (_, ii), r in krows.items() if ii == i)
            if not pts:
                continue
            xs, ys = zip(*pts)
            if kind == "batched":
                ys = [x / y for x, y in zip(xs, ys)]
            ax.plot(xs, ys, marker="o", ms=3, label=i, lw=2.5 if i == "numpy" else 1.2, color=colours[n % 20])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("net-steps per second" if kind == "batched" else "time per SGD step, s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        made.append(fname)
    return made


# ----------------------------------------------------------------------------- gate and rerun


_GATE = re.compile(r"^(?P<impl>[\w.\-]+)(?::(?P<task>[\w\-]+))?=(?P<value>[0-9.eE+]+)$")


def _gated(
    rat: dict[tuple[str, str], Ratio],
    specs: list[str],
    *,
    option: str,
    example: str,
    against: str,
    upper,
    bare: bool = False,
    known_tasks: bool = False,
) -> list[str]:
    """Each ``IMPL[:TASK]=VALUE`` (with ``bare``, also a bare VALUE: every implementation) against the upper end of
    ``rat``'s intervals; the violations, each ``upper(ratio)`` over its value.  A spec that selects nothing measured
    is an error, never a pass."""
    violations = []
    for spec in specs:
        every = bare and "=" not in spec
        m = _GATE.match(f"every={spec}" if every else spec)
        if not m:
            form = "[IMPL[:TASK]=]VALUE" if bare else "IMPL[:TASK]=VALUE"
            raise ReportError(f"{option} {spec!r}: expected {form}, e.g. {example}")
        impl, task, value = m["impl"], m["task"], float(m["value"])
        measured = {k: v for k, v in rat.items() if (every or k[1] == impl) and (task is None or k[0] == task)}
        if not measured:
            known = ", ".join(sorted({i for _, i in rat})) or "none"
            raise ReportError(
                f"{option} {spec}: no ratio to {against} measured"
                + ("" if every else f" for {impl}" + (f" on {task}" if task else ""))
                + f"; measured: {known}"
                + (f" on {', '.join(TASK_ORDER)}" if known_tasks else "")
            )
        violations += [
            f"{i} on {t}: {upper(v)} > {value:g}" for (t, i), v in sorted(measured.items()) if v.high > value
        ]
    return violations


def gate(bench: Bench, specs: list[str], baseline: str = "numpy") -> list[str]:
    """Each ``IMPL[:TASK]=VALUE`` checked against the upper end of this run's ratio to the baseline; the violations."""
    return _gated(
        ratios(bench, baseline),
        specs,
        option="--max-ratio",
        example="jax-scan:xor-train-1000=0.1",
        against=baseline,
        upper=lambda r: _upper(r, baseline),
        known_tasks=True,
    )


def gate_handwritten(bench: Bench, specs: list[str]) -> list[str]:
    """Each ``[IMPL[:TASK]=]VALUE`` checked against the upper end of the native op's ratio to its hand-written
    program (a bare VALUE: every style that has one, every task); the violations."""
    return _gated(
        handwritten_ratios(bench),
        specs,
        option="--max-handwritten",
        example="jax-scan=1.25 or 1.25",
        against="a hand-written program",
        upper=lambda r: f"×{r.value:.3g} its hand-written program, interval up to ×{r.high:.3g}",
        bare=True,
    )


def _upper(r: Ratio, baseline: str) -> str:
    if not r.paired:
        return f"×{r.value:.3g} {baseline} (unpaired: no interval)"
    return f"×{r.value:.3g} {baseline}, interval up to ×{r.high:.3g}"


@dataclass(frozen=True)
class Spread:
    """How far two runs' ratios moved: |r₂/r₁ − 1| over the ratios both measured (baseline's own left out)."""

    changes: dict[tuple[str, str], float]

    @property
    def median(self) -> float:
        return statistics.median(abs(c) for c in self.changes.values())

    @property
    def largest(self) -> float:
        return max(abs(c) for c in self.changes.values())


def spread(first: Bench, second: Bench, baseline: str = "numpy") -> Spread:
    a, b = ratios(first, baseline), ratios(second, baseline)
    keys = [k for k in set(a) & set(b) if k[1] != baseline]
    if not keys:
        raise ReportError(f"--rerun: the two runs have no ratio to {baseline} in common")
    return Spread({k: b[k].value / a[k].value - 1 for k in keys})


def rerun(first: Bench, second: Bench, baseline: str = "numpy", names: tuple[str, str] = ("run 1", "run 2")):
    """Both runs' ratios side by side (columns headed ``names``); the table's lines and the Spread."""
    a, b = ratios(first, baseline), ratios(second, baseline)
    moved = spread(first, second, baseline)
    body = []
    for k in sorted(moved.changes, key=lambda k: (_task_key(k[0]), _impl_key(k[1]))):
        overlap = a[k].low <= b[k].high and b[k].low <= a[k].high
        cells = [a[k].text(), b[k].text(), f"{moved.changes[k]:+.0%}"]
        body.append([k[1], k[0], *cells, ("yes" if overlap else "**no**") if a[k].paired and b[k].paired else "—"])
    table = _table(["implementation", "task", *names, "change", "intervals overlap"], body)
    lines = ["## Rerun: ratio to " + baseline + " in two runs", "", *table, ""]
    lines += [
        f"Change of a ratio between the runs, over {len(moved.changes)} ratios: median {moved.median:.1%}, "
        f"largest {moved.largest:.1%}.",
        "",
    ]
    return lines, moved


def _task_key(task: str) -> tuple:
    return (TASK_ORDER.index(task), "") if task in TASK_ORDER else (len(TASK_ORDER), task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gatespec report", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("json", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    parser.add_argument("--out", type=Path, default=None, help="folder for bench.md and plots (default: the JSON's)")
    parser.add_argument("--baseline", default="numpy", help="implementation the ratios divide by (default: numpy)")
    parser.add_argument(
        "--max-ratio",
        action="append",
        default=[],
        metavar="IMPL[:TASK]=VALUE",
        help="fail when the upper end of IMPL's ratio to the baseline exceeds VALUE (on TASK, or every task); "
        "repeatable",
    )
    parser.add_argument(
        "--max-handwritten",
        action="append",
        default=[],
        metavar="[IMPL[:TASK]=]VALUE",
        help="fail when the upper end of a native op's ratio to its hand-written program exceeds VALUE (a bare VALUE: "
        "every style and task); repeatable",
    )
    parser.add_argument(
        "--instructions",
        type=Path,
        default=None,
        metavar="JSON",
        help="instruction counts (python -m gatespec.conformance.benchmarks.instructions --out JSON) to add",
    )
    parser.add_argument(
        "--rerun",
        type=Path,
        default=None,
        help="a second run's JSON: both runs' ratios, their median and largest change",
    )


def run(args: argparse.Namespace) -> int:
    try:
        bench = load(args.json)
        out = args.out or args.json.parent
        out.mkdir(parents=True, exist_ok=True)
        if not any(r.impl == args.baseline for r in bench.rows):
            raise ReportError(f"--baseline {args.baseline}: not in {args.json}")
        text = markdown(bench, args.baseline, plot(bench, out))
        if args.rerun:
            names = (f"{args.json.name} (this run)", f"{args.rerun.name} (--rerun)")
            table, _ = rerun(bench, load(args.rerun), args.baseline, names)
            text += "\n" + "\n".join(table)
        if args.instructions:
            from gatespec.conformance.report import instructions

            try:
                counts = instructions.load(args.instructions)
            except instructions.InstructionsReportError as exc:
                raise ReportError(str(exc)) from None
            text += "\n" + "\n".join(instructions.section(counts, args.baseline)) + "\n"
        (out / "bench.md").write_text(text)
        print(f"gatespec: benchmark report written to {out / 'bench.md'}")
        violations = gate(bench, args.max_ratio, args.baseline) + gate_handwritten(bench, args.max_handwritten)
    except ReportError as exc:
        print(f"gatespec report: error: {exc}", file=sys.stderr)
        return 2
    for v in violations:
        print(f"gatespec report: ratio over its gate: {v}", file=sys.stderr)
    return 1 if violations else 0
