"""Paired, interleaved timing: an implementation's speed relative to a baseline, with its uncertainty.

On a shared machine the speed drifts by 2× over minutes, so a ratio of two medians measured
at different moments carries the drift between those moments.  Here the baseline ``a`` and
the implementation ``b`` are timed in alternation, a b a b …, each *sample* ``k`` calls long
(``k`` calibrated so a sample lasts about ``sample_time``).  Pair i is (aᵢ, bᵢ), two samples
taken back to back under the same machine state, and its ratio is

    rᵢ = bᵢ / aᵢ          (per-call times; rᵢ < 1: b is faster)

The estimate is the median of the rᵢ, which a burst of load on one pair cannot move far, and
its 95% interval is the percentile bootstrap of that median over the pairs (pairs resampled
with replacement, 2000 times, a fixed seed, so the same samples give the same interval).

Each sample starts with one untimed call: the sample before it was the other side's, which left
the caches, branch predictors and allocator to its own code, so an implementation's first call
after the switch runs cold (a sample of one or two calls came out at 1.6–2× the steady state
for jax-grad's and tf.function's calls of 0.07–1 ms). The timed calls are then warm, the steady
state that pytest-benchmark's back-to-back rounds measure. ``k`` is calibrated from the fastest
of a few timings: one cold or preempted calibration used to set k = 1–2 in one run and k = 26
in the next, and with no warm-up call k decided how much of each sample was cold, so the same
ratio moved by up to 88% between two runs.

What pairing cannot remove is noise faster than one pair (a preemption inside one sample): it
widens the interval instead of biasing the median.  Nor what differs between processes: each
carries an offset of its own (memory layout, the code it compiled, what ran before), the same
for every pair it times, so two runs' ratios moved by up to 34% while each interval was a few
percent wide.  :class:`Processes` holds the paired samples of several fresh processes
(:mod:`.processes`): the ratio is the median of the processes' paired medians,

    r = median_p median_i rₚᵢ

and its interval a two-level bootstrap (processes resampled, then each one's pairs), so the
spread between processes widens it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gatespec.conformance.plugin.defaults import BENCH_MIN_PAIRS, BENCH_PAIRED_TIME

# Long enough that perf_counter's resolution (~0.1 µs) and the loop's overhead are < 0.1% of a
# sample; short beside the scheduler's time slice (~4 ms), so that a preemption spoils few pairs.
SAMPLE_TIME = 2e-3
# Calibration rounds after the first long enough one: k follows the fastest, the steady state.
CALIBRATION_REPEATS = 3
MIN_PAIRS = BENCH_MIN_PAIRS
MAX_TIME = BENCH_PAIRED_TIME
LEVEL = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Paired:
    """Per-call seconds of each sample of the baseline (``a``) and the implementation (``b``), pair by pair."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    iterations: tuple[int, int]  # calls per sample of a, of b

    def __post_init__(self) -> None:
        if len(self.a) != len(self.b) or not self.a:
            raise ValueError(f"paired samples need equal, non-zero counts; got {len(self.a)} and {len(self.b)}")

    @property
    def ratios(self) -> np.ndarray:
        return np.asarray(self.b) / np.asarray(self.a)

    @property
    def ratio(self) -> float:
        """median(bᵢ / aᵢ)."""
        return float(np.median(self.ratios))

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """:meth:`interval` at the defaults, computed once (a report asks for it in every table)."""
        return self.interval()

    def interval(self, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap of median(rᵢ) over the pairs: (low, high) at ``level``."""
        return _percentiles(_resampled_medians(self.ratios, np.random.default_rng(seed), resamples), level)

    def as_json(self) -> dict:
        low, high = self.bounds
        return {
            "ratio": self.ratio,
            "low": low,
            "high": high,
            "level": LEVEL,
            "pairs": len(self.a),
            "iterations": list(self.iterations),
            "a": list(self.a),
            "b": list(self.b),
        }

    @classmethod
    def from_json(cls, data: dict) -> Paired:
        return cls(tuple(data["a"]), tuple(data["b"]), tuple(data["iterations"]))


@dataclass(frozen=True)
class Processes:
    """The paired samples of several processes against the same baseline: the median of their paired medians."""

    runs: tuple[Paired, ...]

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError("a ratio over processes needs at least one process's pairs")

    @property
    def ratio(self) -> float:
        """median over processes p of median_i(bₚᵢ / aₚᵢ)."""
        return float(np.median([run.ratio for run in self.runs]))

    @cached_property
    def bounds(self) -> tuple[float, float]:
        return self.interval()

    def interval(self, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
        """Two-level percentile bootstrap at ``level``: processes drawn with replacement, then each one's pairs."""
        rng = np.random.default_rng(seed)
        # medians[p, k]: process p's median ratio in resample k, its pairs drawn with replacement.
        medians = np.stack([_resampled_medians(run.ratios, rng, resamples) for run in self.runs])
        picks = rng.integers(0, len(self.runs), size=(resamples, len(self.runs)))
        return _percentiles(np.median(medians[picks, np.arange(resamples)[:, None]], axis=1), level)

    def as_json(self) -> dict:
        low, high = self.bounds
        return {
            "ratio": self.ratio,
            "low": low,
            "high": high,
            "level": LEVEL,
            "processes": [run.as_json() for run in self.runs],
        }


def _resampled_medians(r: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """The median of ``r`` drawn with replacement, ``resamples`` times."""
    return np.median(r[rng.integers(0, r.size, size=(resamples, r.size))], axis=1)


def _percentiles(estimates: np.ndarray, level: float) -> tuple[float, float]:
    """(low, high): the central ``level`` of the bootstrap estimates."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def from_json(data: dict) -> Paired | Processes:
    """What :meth:`Paired.as_json` or :meth:`Processes.as_json` wrote."""
    if "processes" in data:
        return Processes(tuple(Paired.from_json(run) for run in data["processes"]))
    return Paired.from_json(data)


def calls_per_sample(
    run: Callable[[], object],
    sample_time: float = SAMPLE_TIME,
    clock=time.perf_counter,
    repeats: int = CALIBRATION_REPEATS,
) -> int:
    """k such that k calls of ``run`` last about ``sample_time`` (at least 1), from the fastest of a few timings.

    k grows tenfold until k calls last ≥ sample_time / 10 (long enough to trust the clock), then
    ``repeats`` more rounds of k calls are timed and k is scaled by the fastest round.
    """
    k = 1
    while True:
        elapsed = _elapsed(run, k, clock)
        if elapsed >= sample_time / 10 or k >= 1 << 20:
            break
        k *= 10
    fastest = min([elapsed, *(_elapsed(run, k, clock) for _ in range(repeats))])
    return max(1, round(k * sample_time / max(fastest, 1e-9)))


def _elapsed(run: Callable[[], object], k: int, clock) -> float:
    start = clock()
    for _ in range(k):
        run()
    return clock() - start


def _sample(run: Callable[[], object], k: int, clock) -> float:
    """Per-call seconds of k warm calls: one untimed call first, after the other side's sample."""
    run()
    return _elapsed(run, k, clock) / k


def measure(
    a: Callable[[], object],
    b: Callable[[], object],
    *,
    min_pairs: int = MIN_PAIRS,
    max_time: float = MAX_TIME,
    sample_time: float = SAMPLE_TIME,
    clock=time.perf_counter,
) -> Paired:
    """Time ``a`` and ``b`` in alternation until ``max_time`` has passed and there are ``min_pairs`` pairs.

    Both must already be warm (compiled, caches filled): every call here is counted.  One
    pair first, discarded, settles the alternation itself.
    """
    ka, kb = calls_per_sample(a, sample_time, clock), calls_per_sample(b, sample_time, clock)
    _sample(a, ka, clock), _sample(b, kb, clock)
    ta, tb = [], []
    start = clock()
    while len(ta) < min_pairs or clock() - start < max_time:
        ta.append(_sample(a, ka, clock))
        tb.append(_sample(b, kb, clock))
    return Paired(tuple(ta), tuple(tb), (ka, kb))
