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

Alternation is symmetric: every a follows a b and every b an a, so neither side always finds
the caches the other left.  What pairing cannot remove is noise faster than one pair (a
preemption inside one sample): it widens the interval instead of biasing the median.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

# Long enough that perf_counter's resolution (~0.1 µs) and the loop's overhead are < 0.1% of a
# sample; short beside the scheduler's time slice (~4 ms), so that a preemption spoils few pairs.
SAMPLE_TIME = 2e-3
MIN_PAIRS = 5
MAX_TIME = 2.0
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
        r = self.ratios
        rng = np.random.default_rng(seed)
        medians = np.median(r[rng.integers(0, r.size, size=(resamples, r.size))], axis=1)
        tail = (1 - level) / 2 * 100
        low, high = np.percentile(medians, [tail, 100 - tail])
        return float(low), float(high)

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


def calls_per_sample(run: Callable[[], object], sample_time: float = SAMPLE_TIME, clock=time.perf_counter) -> int:
    """k such that k calls of ``run`` last about ``sample_time`` (at least 1), from one timed call of a few."""
    k = 1
    while True:
        start = clock()
        for _ in range(k):
            run()
        elapsed = clock() - start
        # Grow until the timing itself is long enough to trust (≥ sample_time / 10), then scale.
        if elapsed >= sample_time / 10 or k >= 1 << 20:
            return max(1, round(k * sample_time / max(elapsed, 1e-9)))
        k *= 10


def _sample(run: Callable[[], object], k: int, clock) -> float:
    start = clock()
    for _ in range(k):
        run()
    return (clock() - start) / k


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
