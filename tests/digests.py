"""The reference's numbers in one digest: what tests/test_determinism.py compares between processes.

A module of its own (not the test module) because a fresh process imports it: test modules are leaves.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np


def _add(h, value) -> None:
    """Feed arrays (and tuples of them) to the hash with their shapes, as float64 bytes."""
    if isinstance(value, tuple):
        for v in value:
            _add(h, v)
    elif isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value, dtype=np.float64)
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())


def reference_digest() -> str:
    """sha256 of every array of every case in gatespec.conformance.spec.cases and of the reference's runs on them."""
    from gatespec.conformance.spec import cases as C
    from gatespec.reference import logistic, mlp, perceptron

    h = hashlib.sha256()
    for name in sorted(vars(C)):
        value = getattr(C, name)
        for case in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(case) and not isinstance(case, type):
                h.update(f"{name}/{getattr(case, 'id', '')}".encode())
                for f in dataclasses.fields(case):
                    _add(h, getattr(case, f.name))
    for c in C.GATES:
        _add(h, perceptron.train_online(c.gate.Xb, c.gate.y, c.w, C.PERCEPTRON_ETA, c.order).weights)
    for c in C.MLP_CASES:
        g = c.gate
        _add(h, mlp.loss_and_grads(c.params, g.X, g.y)[1])
        _add(h, C.reference_adam_step(c.params, g.X, g.y, C.ADAM))
        if c.steps:
            run = mlp.train(c.params, g.X, g.y, c.optimizer, c.steps)
            _add(h, (*run.params, run.losses))
    for c in C.LOGISTIC_CASES:
        run = logistic.gradient_descent(c.gate.Xb, c.gate.y, c.w, c.eta, c.steps)
        _add(h, (run.weights, run.losses))
    for c in C.SINGLE_EXAMPLE:
        with np.errstate(over="ignore"):
            _add(h, logistic.single_example_loss_and_grad(c.x, c.w))
    return h.hexdigest()
