"""Bad input to the reference is a ValueError that names the argument and what was expected."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from gatespec.reference import gates, init, logistic, mlp, perceptron

NAND = gates.gate("nand")
Xb, y, w = NAND.Xb, NAND.y, np.zeros(3)
XOR = gates.gate("xor")
P = init.standard_normal((2, 2, 1), np.random.default_rng(0))


def _with(arr, index, value):
    out = arr.copy()
    out[index] = value
    return out


@dataclass(frozen=True)
class Bad:
    id: str
    call: Callable[[], Any]
    message: str  # regex: the argument's name and what was expected


BAD = [
    Bad("list-not-array", lambda: perceptron.predict(Xb.tolist(), w), r"Xb: expected a numpy.ndarray"),
    Bad("float32-not-cast", lambda: perceptron.predict(Xb.astype(np.float32), w), r"Xb: expected dtype float64"),
    Bad("int-inputs-not-cast", lambda: logistic.loss(Xb.astype(int), y, w), r"Xb: expected dtype float64"),
    Bad("rank-1-inputs", lambda: perceptron.predict(Xb[0], w), r"Xb: expected rank 2"),
    Bad("weight-too-short", lambda: perceptron.predict(Xb, np.zeros(2)), r"w: expected shape \(3,\)"),
    Bad("column-weight-not-broadcast", lambda: logistic.loss(Xb, y, np.zeros((3, 1))), r"w: expected rank 1"),
    Bad("labels-outside-01", lambda: logistic.loss(Xb, _with(y, 0, 2.0), w), r"y: expected labels in \{0, 1\}"),
    Bad("labels-minus-one", lambda: perceptron.batch_step(Xb, y * 2 - 1, w, 1.0), r"y: expected labels in \{0, 1\}"),
    Bad("label-rows-mismatch", lambda: logistic.loss(Xb, y[:3], w), r"y: expected 4 labels"),
    Bad("nan-input", lambda: logistic.loss(_with(Xb, (0, 0), np.nan), y, w), r"Xb: expected finite values"),
    Bad("inf-weight", lambda: logistic.loss(Xb, y, _with(w, 1, np.inf)), r"w: expected finite values"),
    Bad("zero-step", lambda: logistic.gradient_descent(Xb, y, w, 0.0, 10), r"eta: expected a positive"),
    Bad("negative-step", lambda: perceptron.train_batch(Xb, y, w, -1.0, 10), r"eta: expected a positive"),
    Bad("nan-step", lambda: perceptron.batch_step(Xb, y, w, float("nan")), r"eta: expected a positive"),
    Bad("zero-steps", lambda: logistic.gradient_descent(Xb, y, w, 1.0, 0), r"steps: expected an integer >= 1"),
    Bad("float-steps", lambda: perceptron.train_batch(Xb, y, w, 1.0, 2.5), r"steps: expected an integer"),
    Bad(
        "order-out-of-range",
        lambda: perceptron.train_online(Xb, y, w, 1.0, np.array([0, 4])),
        r"order: expected indices in \[0, 4\)",
    ),
    Bad(
        "order-floats",
        lambda: perceptron.train_online(Xb, y, w, 1.0, np.array([0.0, 1.0])),
        r"order: expected a 1-D integer",
    ),
    Bad(
        "rng-not-generator",
        lambda: perceptron.random_order(np.random.RandomState(0), 4, 3),
        r"rng: expected a numpy.random.Generator",
    ),
    Bad("mlp-odd-params", lambda: mlp.forward(P[:3], XOR.X), r"params: expected a non-empty sequence"),
    Bad("mlp-width-mismatch", lambda: mlp.forward(P, XOR.Xb), r"params\[W1\]: expected shape \(3, any\)"),
    Bad(
        "mlp-bias-shape",
        lambda: mlp.forward((P[0], P[1][None, :], P[2], P[3]), XOR.X),
        r"params\[b1\]: expected rank 1",
    ),
    Bad("mlp-two-outputs", lambda: mlp.forward((P[0], P[1], np.zeros((2, 2)), np.zeros(2)), XOR.X), r"one output unit"),
    Bad(
        "mlp-nan-param",
        lambda: mlp.loss((P[0], P[1], _with(P[2], (0, 0), np.nan), P[3]), XOR.X, XOR.y),
        r"params\[W2\]: expected finite",
    ),
    Bad("mlp-label-rows", lambda: mlp.loss(P, XOR.X, XOR.y[:2]), r"y: expected 4 labels"),
    Bad("mlp-zero-steps", lambda: mlp.train(P, XOR.X, XOR.y, mlp.SGD(0.5), 0), r"steps: expected an integer >= 1"),
    Bad("mlp-not-an-optimizer", lambda: mlp.train(P, XOR.X, XOR.y, 0.5, 3), r"optimizer: expected"),
    Bad("sgd-negative-lr", lambda: mlp.SGD(-0.5), r"lr: expected a real number ≥ 0"),
    Bad("adam-beta-one", lambda: mlp.Adam(beta2=1.0), r"beta2: expected a number in \[0, 1\)"),
    Bad("init-bad-sizes", lambda: init.standard_normal((2, 0, 1), np.random.default_rng(0)), r"sizes: expected"),
    Bad("gates-too-many-inputs", lambda: gates.all_inputs(17), r"n: expected at most 16"),
    Bad("with-bias-rank", lambda: gates.with_bias(np.zeros(3)), r"X: expected rank 2"),
]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: b.id)
def test_bad_input_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=bad.message):
        bad.call()


def test_good_input_is_not_mutated():
    before = [a.copy() for a in (Xb, y, w)]
    logistic.gradient_descent(Xb, y, w, 1.0, 3)
    perceptron.train_batch(Xb, y, w, 1.0, 3)
    for a, b in zip((Xb, y, w), before):
        assert np.array_equal(a, b)
