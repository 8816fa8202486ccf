"""Synthetic rows for the report's tests: what a run's session collects, built one way for every test that needs one."""

from __future__ import annotations


def _statistics(learned: int) -> dict:
    """n = 1000 nets, ``learned`` of them learned; the rest classed as the notebook's minimum but for 40."""
    rate = learned / 1000
    return {
        "n": 1000,
        "learned": learned,
        "rate": rate,
        "interval": [rate - 0.03, rate + 0.03],
        "counts": {"learned": learned, "stuck": 1, "one-wrong": 30, "two-at-half": 960 - learned, "unconverged": 9},
        "curve": [0.0, 0.5, rate],
    }


def convergence_row(impl: str = "numpy", *, learned: int = 700, outcome: str = "pass") -> dict:
    """A row of XOR convergence statistics with its outcome, run times, and the reference's row (700 learned)."""
    return {
        "impl": impl,
        "framework": "numpy",
        "case": "xor-standard-normal-sgd-0.5",
        "initialiser": "standard-normal",
        "optimizer": "sgd-0.5",
        "dtype": "float32",
        "steps": 20,
        "alpha": 1e-3,
        "z": 0.5,
        "p_value": 0.6,
        "seconds": {"init": 0.1, "train": 0.6},
        "outcome": outcome,
        **_statistics(learned),
        "reference": {**_statistics(700), "seconds": 0.7},
    }
