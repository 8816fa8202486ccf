"""torch-autograd: raw tensors with ``requires_grad``, ``loss.backward()`` and a hand-written update.

The notebook's "using automatic differentiation" cells: leaves made with ``requires_grad``, the
loss's ``backward()``, and ``w -= eta * w.grad`` under ``torch.no_grad()``.  The MLP keeps the
notebook's raw layout ``w1, w2, b2, …`` with the bias folded into the first layer (x carries a
column of ones), and converts to and from the reference's canonical layout by slicing only.

Many nets at once (``mlp_train_batched``): the raw leaves stacked on a leading net axis, one
batched matmul per layer and one ``backward()`` of the summed loss (the nets share no
parameter, so each gets its own gradient).  ``mlp_init`` draws as the notebook does,
``torch.randn`` per raw parameter, from a seeded generator of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import ClassVar, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from gatespec.conformance.adapters.torch_impl.common import (
    Recorder,
    TorchStyle,
    as_numpy,
    as_numpy_all,
    batched_run,
    forward_op,
    summed_bce_per_net,
    sync,
    tensor,
    torch_dtype,
    trajectory,
)
from gatespec.conformance.spec.interface import Capability, Known, NativeOp, Target, Trajectory
from gatespec.reference import gates, mlp
from gatespec.reference.mlp import SGD, Adam, Params

_R = TypeVar("_R")


# ----------------------------------------------------------------------------- the notebook's raw net


def _heaviside(z: torch.Tensor) -> torch.Tensor:
    """g(z) with g(0) = 0, as ``np.heaviside(z, 0.0)``."""
    return torch.heaviside(z, torch.zeros((), dtype=z.dtype, device=z.device))


def _raw_logits(x: torch.Tensor, ws: Sequence[torch.Tensor]) -> torch.Tensor:
    """The notebook's ``x.mm(w1).sigmoid().mm(w2).add(b2)`` for any depth; x carries the bias column. (N, 1)."""
    h = x.mm(ws[0])
    for w, b in zip(ws[1::2], ws[2::2]):
        h = h.sigmoid().mm(w).add(b)
    return h


def _raw_loss(x: torch.Tensor, y: torch.Tensor, ws: Sequence[torch.Tensor]) -> torch.Tensor:
    # The notebook's -(y p + (1-y)(1-p)).log().sum() overflows to inf at saturation; the spec
    # asks for torch's stable BCE-with-logits instead.
    return F.binary_cross_entropy_with_logits(_raw_logits(x, ws), y, reduction="sum")


def _raw_sgd(
    x: torch.Tensor, y: torch.Tensor, ws: Sequence[torch.Tensor], eta: float, steps: int
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The notebook's loop: loss, backward, ``w -= eta * w.grad`` under no_grad, zero the grads."""
    recorder = Recorder(ws)
    for _ in range(steps):
        loss = _raw_loss(x, y, ws)
        loss.backward()
        with torch.no_grad():
            for w in ws:
                w -= eta * w.grad
                w.grad.zero_()
        recorder.loss(loss)
        recorder.snapshot()
    return recorder.stacked()


def _raw_to_canonical(raw: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """:func:`mlp.from_notebook_raw` on tensors, with or without a leading (step) axis: slicing only."""
    w1 = raw[0]
    out = [w1[..., :-1, :], w1[..., -1, :]]
    for w, b in zip(raw[1::2], raw[2::2]):
        out += [w, b[..., 0, :]]
    return tuple(out)


def _raw_shapes(sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The notebook's raw parameter shapes for ``sizes``: w1 (d + 1, h₁), then (in, out) and (1, out) per layer."""
    shapes = [(sizes[0] + 1, sizes[1])]
    for d_in, d_out in pairwise(sizes[1:]):
        shapes += [(d_in, d_out), (1, d_out)]
    return shapes


# ----------------------------------------------------------------------------- many raw nets at once


def _raw_batched(params: Params) -> tuple[np.ndarray, ...]:
    """:func:`mlp.to_notebook_raw` for stacked nets: w1 = [W₁; b₁] (B, d + 1, h), then W_l, b_l as (B, 1, out)."""
    out = [np.concatenate([params[0], params[1][:, None, :]], axis=1)]
    for W, b in zip(params[2::2], params[3::2]):
        out += [W, b[:, None, :]]
    return tuple(out)


def _raw_logits_batched(x: torch.Tensor, ws: Sequence[torch.Tensor]) -> torch.Tensor:
    """The notebook's raw forward for B nets at once: x (N, d + 1) @ w1 (B, d + 1, h) broadcasts to (B, N, h)."""
    h = x.matmul(ws[0])
    for w, b in zip(ws[1::2], ws[2::2]):
        h = h.sigmoid().matmul(w).add(b)
    return h[..., 0]


def _raw_sgd_batched(
    x: torch.Tensor, y: torch.Tensor, ws: Sequence[torch.Tensor], eta: float, steps: int
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The notebook's loop for B nets: the summed loss's backward gives every net its own gradient."""
    losses = x.new_empty((steps, ws[0].shape[0]))
    for t in range(steps):
        loss = summed_bce_per_net(_raw_logits_batched(x, ws), y)
        loss.sum().backward()
        with torch.no_grad():
            for w in ws:
                w -= eta * w.grad
                w.grad.zero_()
        losses[t] = loss.detach()
    return tuple(w.detach() for w in ws), losses


def _raw_inputs(
    params: Params, X: np.ndarray, y: np.ndarray | None, target: Target, requires_grad: bool
) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
    """x with its bias column, y as a column, and the raw leaves w1, w2, b2, … on the target."""
    x = tensor(gates.with_bias(X), target)
    y_ = None if y is None else tensor(y[:, None], target)
    ws = [tensor(w, target, requires_grad=requires_grad) for w in mlp.to_notebook_raw(params)]
    return x, y_, ws


def _from_fresh_leaves(
    ws0: Sequence[torch.Tensor], device: torch.device, fit: Callable[[list[torch.Tensor]], _R]
) -> Callable[[], _R]:
    """A run: ``fit`` on fresh leaves cloned from ``ws0`` (so each call starts over), ``device`` synchronised."""

    def run() -> _R:
        out = fit([w0.clone().requires_grad_() for w0 in ws0])
        sync(device)
        return out

    return run


# ----------------------------------------------------------------------------- the style

_SGD_BY_HAND = "the raw style updates by hand with SGD; Adam is torch.optim's (torch-optim, torch-module)"


class TorchAutograd(TorchStyle):
    """Raw tensors, autograd, hand-written updates."""

    name = "torch-autograd"
    unsupported_reasons: ClassVar[dict[Capability, str]] = {Capability.MLP_TRAIN_ADAM: _SGD_BY_HAND}
    capabilities = frozenset(Capability).difference(unsupported_reasons)
    initialisers = ("standard-normal",)  # the notebook's w1 = torch.randn(3, 2), w2 = torch.randn(2, 1), …
    # The notebook's single-example loss, kept as written: −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ
    # underflows to 0 and the loss is inf (the reference's softplus(−w·x) is finite): no size to bound.
    known_deviations: ClassVar[dict[str, str | Known]] = {
        "test_single_example_loss_matches_reference[saturating-wrong": (
            "naive -torch.dot(x, w).sigmoid().log() as the notebook's torch cell: inf at saturation"
        ),
    }

    # --- threshold unit and perceptron -----------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        x, w_ = tensor(Xb, target), tensor(w, target)
        return as_numpy(_heaviside(x.mv(w_)), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        x, y_, w_ = tensor(Xb, target), tensor(y, target), tensor(w, target)
        y_pred = _heaviside(x.mv(w_))
        return as_numpy(w_ + eta * (y_ - y_pred).matmul(x), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        x, y_, w = tensor(Xb, target), tensor(y, target), tensor(w0, target)
        weights = [w]
        for i in np.asarray(order).tolist():
            w = w + eta * (y_[i] - _heaviside(x[i].dot(w))) * x[i]
            weights.append(w)
        return as_numpy(torch.stack(weights), target)

    # --- logistic regression: the notebook's single-layer cell, w a (d, 1) leaf on Xb -----

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        x, y_ = tensor(Xb, target), tensor(y[:, None], target)
        w_ = tensor(w[:, None], target, requires_grad=True)
        loss = _raw_loss(x, y_, [w_])
        loss.backward()
        return as_numpy(loss, target), as_numpy(w_.grad[:, 0], target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        x_, w_ = tensor(x, target), tensor(w, target, requires_grad=True)
        # Exactly the notebook's cell, naive log of a sigmoid included (inf at saturation, on purpose).
        loss = -torch.dot(x_, w_).sigmoid().log()
        loss.backward()
        return as_numpy(loss, target), as_numpy(w_.grad, target)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        x, y_ = tensor(Xb, target), tensor(y[:, None], target)
        w = tensor(w0[:, None], target, requires_grad=True)
        (weights,), losses = _raw_sgd(x, y_, [w], eta, steps)
        return Trajectory(as_numpy(weights[:, :, 0], target), as_numpy(losses, target))

    # --- MLP in the notebook's raw layout ----------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        x, _, ws = _raw_inputs(params, X, None, target, requires_grad=False)
        return forward_op(lambda: _raw_logits(x, ws)[:, 0], x.device, target)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        x, y_, ws = _raw_inputs(params, X, y, target, requires_grad=True)

        def run() -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            for w in ws:
                w.grad = None  # so every call computes, not accumulates
            loss = _raw_loss(x, y_, ws)
            loss.backward()
            sync(x.device)
            return loss.detach(), tuple(w.grad for w in ws)

        def to_numpy(out: tuple[torch.Tensor, tuple[torch.Tensor, ...]]) -> tuple[np.ndarray, Params]:
            loss, grads = out
            return as_numpy(loss, target), as_numpy_all(_raw_to_canonical(grads), target)

        return NativeOp(run, to_numpy)

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        x, y_, ws0 = _raw_inputs(params, X, y, target, requires_grad=False)
        run = _from_fresh_leaves(ws0, x.device, lambda ws: _raw_sgd(x, y_, ws, optimizer.lr, steps))
        return NativeOp(run, lambda out: trajectory(_raw_to_canonical(out[0]), out[1], target))

    # --- many nets: the raw leaves stacked on a leading net axis --------------------------------

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """The notebook's ``torch.randn`` per raw parameter, for n nets at once, from ``torch.Generator`` seeded
        with ``seed`` (a generator of its own: the global one is never touched)."""
        generator = torch.Generator().manual_seed(seed)
        raw = [torch.randn((n, *shape), generator=generator, dtype=torch_dtype(target)) for shape in _raw_shapes(sizes)]
        return as_numpy_all(_raw_to_canonical(raw), target)

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        x, y_ = tensor(gates.with_bias(X), target), tensor(y, target)
        ws0 = [tensor(w, target) for w in _raw_batched(params)]
        run = _from_fresh_leaves(ws0, x.device, lambda ws: _raw_sgd_batched(x, y_, ws, optimizer.lr, steps))
        return NativeOp(run, lambda out: batched_run(_raw_to_canonical(out[0]), out[1], target))
