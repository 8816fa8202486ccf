"""PyTorch, in the four styles the notebook writes it.

- ``torch-autograd``: raw tensors with ``requires_grad``, ``loss.backward()`` and a hand-written
  update under ``torch.no_grad()`` (the "using automatic differentiation" cells; the MLP keeps
  the notebook's raw layout ``w1, w2, b2, …`` with the bias folded into the first layer).
- ``torch-nn``: ``torch.nn.Sequential(Linear, Sigmoid, Linear, …)``, ``BCEWithLogitsLoss``,
  ``model.zero_grad()`` and ``param -= lr * param.grad`` over ``model.parameters()``.
- ``torch-optim``: the same model trained by ``torch.optim.SGD`` / ``torch.optim.Adam``.
- ``torch-module``: the notebook's own ``nn.Module`` classes, trained by ``torch.optim``.

Every operation is built on :meth:`native`: prepare tensors and models once, run, convert.

Many nets at once (``mlp_train_batched``): every style stacks the nets' parameters on a
leading axis and trains them with one batched matmul per layer and one ``backward()`` of the
summed loss (the nets share no parameter, so each gets its own gradient, and SGD and Adam are
elementwise, so one optimizer step updates every net as it would alone).  ``mlp_init`` draws
as each style's users do: the notebook's ``torch.randn`` (torch-autograd) or ``nn.Linear``'s
default (the module styles), from a seeded generator that leaves torch's global one as found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import skip_init

from gatespec.reference import gates, mlp
from gatespec.reference.mlp import SGD, Adam, Params

from ..interface import (
    BatchedRun,
    Capability,
    MLPTrajectory,
    NativeBackedMLP,
    NativeOp,
    NotSupported,
    Target,
    Trajectory,
    check_native_op,
)

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_C = Capability


# ----------------------------------------------------------------------------- shared helpers


def _dtype(target: Target) -> torch.dtype:
    return _DTYPES[target.dtype]


def _device(target: Target) -> torch.device:
    return torch.device(target.device)


def _tensor(a: np.ndarray, target: Target, requires_grad: bool = False) -> torch.Tensor:
    """A copy of ``a`` in the target dtype on the target device (torch.tensor always copies,
    so in-place updates never reach the caller's array)."""
    return torch.tensor(a, dtype=_dtype(target), device=_device(target), requires_grad=requires_grad)


def _numpy(t: torch.Tensor, target: Target) -> np.ndarray:
    """A numpy copy (never a view of a tensor that may still be updated in place)."""
    return np.array(t.detach().cpu().numpy(), dtype=target.np_dtype)


def _sync(device: torch.device) -> None:
    # CUDA kernels are asynchronous; a timed run must wait for them.
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _heaviside(z: torch.Tensor) -> torch.Tensor:
    """g(z) with g(0) = 0, as ``np.heaviside(z, 0.0)``."""
    return torch.heaviside(z, torch.zeros((), dtype=z.dtype, device=z.device))


class _Recorder:
    """Snapshots of some tensors after every step, stacked on their device at the end."""

    def __init__(self, tensors: Sequence[torch.Tensor]) -> None:
        self._tensors = tuple(tensors)
        self._history: list[list[torch.Tensor]] = [[] for _ in self._tensors]
        self._losses: list[torch.Tensor] = []
        self.snapshot()

    def snapshot(self) -> None:
        for history, t in zip(self._history, self._tensors):
            history.append(t.detach().clone())

    def loss(self, loss: torch.Tensor) -> None:
        # Kept on the device: .item() every step would force a CUDA sync.
        self._losses.append(loss.detach())

    def stacked(self) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        like = self._tensors[0]
        losses = torch.stack(self._losses) if self._losses else like.new_empty(0)
        return tuple(torch.stack(h) for h in self._history), losses


def _trajectory(params: Sequence[torch.Tensor], losses: torch.Tensor, target: Target) -> MLPTrajectory:
    return MLPTrajectory(tuple(_numpy(p, target) for p in params), _numpy(losses, target))


def _logistic_as_mlp(Xb: np.ndarray, w: np.ndarray) -> tuple[Params, np.ndarray]:
    """w = (weights, bias) on Xb = (X, 1) as the one-layer net (W (d−1, 1), b (1,)) on X: exact slicing."""
    if Xb.ndim != 2 or not np.all(Xb[:, -1] == 1.0):
        raise ValueError("Xb: expected the bias column of ones last (nn.Linear carries the bias itself)")
    return (w[:-1, None].copy(), w[-1:].copy()), Xb[:, :-1]


def _mlp_as_logistic(params: Params) -> np.ndarray:
    """Inverse of :func:`_logistic_as_mlp` for one parameter set or a trajectory (leading axis)."""
    W, b = params
    return np.concatenate([W[..., 0], b], axis=-1)


# ----------------------------------------------------------------------------- base


class _TorchBase(NativeBackedMLP):
    """What every torch style shares: identity, numerics, conversions, and ops built on :meth:`native`."""

    framework = "torch"
    dtypes = ("float32", "float64")
    devices = ("cpu", "cuda")

    def framework_version(self) -> str:
        return str(torch.__version__)

    def numerics(self) -> dict[str, str]:
        return {
            "threads": str(torch.get_num_threads()),
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "cuda_matmul_allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
            "cudnn_allow_tf32": str(torch.backends.cudnn.allow_tf32),
            "mkldnn": str(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
            "deterministic_algorithms": str(torch.are_deterministic_algorithms_enabled()),
        }

    # --- MLP ops: NativeBackedMLP prepares, runs once and converts what native() builds ----

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        check_native_op(op)
        prepare = {
            "mlp_forward": self._prepare_forward,
            "mlp_loss_and_grads": self._prepare_loss_and_grads,
            "mlp_train": self._prepare_train,
            "mlp_train_batched": self._prepare_train_batched,
        }[op]
        return prepare(target=target, **inputs)

    def _check_initialiser(self, initialiser: str) -> None:
        if initialiser not in self.initialisers:
            raise ValueError(f"initialiser: {self.name} draws {self.initialisers}, got {initialiser!r}")

    def _check_optimizer(self, optimizer: SGD | Adam) -> None:
        if not isinstance(optimizer, (SGD, Adam)):
            raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
        cap = _C.MLP_TRAIN_SGD if isinstance(optimizer, SGD) else _C.MLP_TRAIN_ADAM
        if cap not in self.capabilities:
            raise NotSupported(cap.value)

    # Each style prepares the three MLP ops its own way.
    def _prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        raise NotImplementedError

    def _prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        raise NotImplementedError

    def _prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotImplementedError

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotSupported(_C.MLP_TRAIN_BATCHED.value)


def _batched_run(params: Sequence[torch.Tensor], losses: torch.Tensor, target: Target) -> BatchedRun:
    return BatchedRun(tuple(_numpy(p, target) for p in params), _numpy(losses, target))


def _summed_bce_per_net(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each net's Σ_rows BCE-with-logits, (B,), from logits z (B, N) and labels y (N,)."""
    return F.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none").sum(dim=1)


# ----------------------------------------------------------------------------- torch-autograd


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
    recorder = _Recorder(ws)
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


def _raw_batched_losses(x: torch.Tensor, y: torch.Tensor, ws: Sequence[torch.Tensor]) -> torch.Tensor:
    """The notebook's raw forward for B nets at once: x (N, d + 1) @ w1 (B, d + 1, h) broadcasts to (B, N, h)."""
    return _summed_bce_per_net(_raw_logits_batched(x, ws), y)


def _raw_logits_batched(x: torch.Tensor, ws: Sequence[torch.Tensor]) -> torch.Tensor:
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
        loss = _raw_batched_losses(x, y, ws)
        loss.sum().backward()
        with torch.no_grad():
            for w in ws:
                w -= eta * w.grad
                w.grad.zero_()
        losses[t] = loss.detach()
    return tuple(w.detach() for w in ws), losses


def _raw_batched(params: Params) -> tuple[np.ndarray, ...]:
    """:func:`mlp.to_notebook_raw` for stacked nets: w1 = [W₁; b₁] (B, d + 1, h), then W_l, b_l as (B, 1, out)."""
    out = [np.concatenate([params[0], params[1][:, None, :]], axis=1)]
    for W, b in zip(params[2::2], params[3::2]):
        out += [W, b[:, None, :]]
    return tuple(out)


def _raw_shapes(sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The notebook's raw parameter shapes for ``sizes``: w1 (d + 1, h₁), then (in, out) and (1, out) per layer."""
    shapes = [(sizes[0] + 1, sizes[1])]
    for d_in, d_out in pairwise(sizes[1:]):
        shapes += [(d_in, d_out), (1, d_out)]
    return shapes


class TorchAutograd(_TorchBase):
    """Raw tensors, autograd, hand-written updates."""

    name = "torch-autograd"
    capabilities = frozenset(
        {
            _C.TLU_PREDICT,
            _C.PERCEPTRON_STEP,
            _C.PERCEPTRON_ONLINE,
            _C.LOGISTIC_LOSS_GRAD,
            _C.SINGLE_EXAMPLE_LOSS_GRAD,
            _C.LOGISTIC_TRAIN,
            _C.MLP_FORWARD,
            _C.MLP_LOSS_GRADS,
            _C.MLP_TRAIN_SGD,
            _C.MLP_INIT,
            _C.MLP_TRAIN_BATCHED,
            _C.NATIVE,
        }
    )
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        _C.MLP_TRAIN_ADAM: "the raw style updates by hand with SGD; Adam is torch.optim's (torch-optim, torch-module)",
    }
    initialisers = ("standard-normal",)  # the notebook's w1 = torch.randn(3, 2), w2 = torch.randn(2, 1), …

    # --- threshold unit and perceptron -----------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        x, w_ = _tensor(Xb, target), _tensor(w, target)
        return _numpy(_heaviside(x.mv(w_)), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        x, y_, w_ = _tensor(Xb, target), _tensor(y, target), _tensor(w, target)
        y_pred = _heaviside(x.mv(w_))
        return _numpy(w_ + eta * (y_ - y_pred).matmul(x), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        x, y_, w = _tensor(Xb, target), _tensor(y, target), _tensor(w0, target)
        weights = [w]
        for i in np.asarray(order).tolist():
            w = w + eta * (y_[i] - _heaviside(x[i].dot(w))) * x[i]
            weights.append(w)
        return _numpy(torch.stack(weights), target)

    # --- logistic regression: the notebook's single-layer cell, w a (d, 1) leaf on Xb -----

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        x, y_ = _tensor(Xb, target), _tensor(y[:, None], target)
        w_ = _tensor(w[:, None], target, requires_grad=True)
        loss = _raw_loss(x, y_, [w_])
        loss.backward()
        return _numpy(loss, target), _numpy(w_.grad[:, 0], target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        x_, w_ = _tensor(x, target), _tensor(w, target, requires_grad=True)
        # Exactly the notebook's cell, naive log of a sigmoid included (inf at saturation, on purpose).
        loss = -torch.dot(x_, w_).sigmoid().log()
        loss.backward()
        return _numpy(loss, target), _numpy(w_.grad, target)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        x, y_ = _tensor(Xb, target), _tensor(y[:, None], target)
        w = _tensor(w0[:, None], target, requires_grad=True)
        (weights,), losses = _raw_sgd(x, y_, [w], eta, steps)
        return Trajectory(_numpy(weights[:, :, 0], target), _numpy(losses, target))

    # --- MLP in the notebook's raw layout ----------------------------------------------------

    def _raw_inputs(
        self, params: Params, X: np.ndarray, y: np.ndarray | None, target: Target, requires_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
        x = _tensor(gates.with_bias(X), target)
        y_ = None if y is None else _tensor(y[:, None], target)
        ws = [_tensor(w, target, requires_grad=requires_grad) for w in mlp.to_notebook_raw(params)]
        return x, y_, ws

    def _prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        x, _, ws = self._raw_inputs(params, X, None, target, requires_grad=False)

        def run() -> tuple[torch.Tensor, torch.Tensor]:
            z = _raw_logits(x, ws)[:, 0]
            out = z, z.sigmoid()
            _sync(x.device)
            return out

        return NativeOp(run, lambda out: tuple(_numpy(t, target) for t in out))

    def _prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        x, y_, ws = self._raw_inputs(params, X, y, target, requires_grad=True)

        def run() -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            for w in ws:
                w.grad = None  # so every call computes, not accumulates
            loss = _raw_loss(x, y_, ws)
            loss.backward()
            _sync(x.device)
            return loss.detach(), tuple(w.grad for w in ws)

        def to_numpy(out: tuple[torch.Tensor, tuple[torch.Tensor, ...]]) -> tuple[np.ndarray, Params]:
            loss, grads = out
            return _numpy(loss, target), tuple(_numpy(g, target) for g in _raw_to_canonical(grads))

        return NativeOp(run, to_numpy)

    def _prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        self._check_optimizer(optimizer)
        x, y_, ws0 = self._raw_inputs(params, X, y, target, requires_grad=False)

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            ws = [w0.clone().requires_grad_() for w0 in ws0]  # fresh leaves: each call starts over
            out = _raw_sgd(x, y_, ws, optimizer.lr, steps)
            _sync(x.device)
            return out

        def to_numpy(out: tuple[tuple[torch.Tensor, ...], torch.Tensor]) -> MLPTrajectory:
            raw, losses = out
            return _trajectory(_raw_to_canonical(raw), losses, target)

        return NativeOp(run, to_numpy)

    # --- many nets: the raw leaves stacked on a leading net axis --------------------------------

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """The notebook's ``torch.randn`` per raw parameter, for n nets at once, from ``torch.Generator`` seeded
        with ``seed`` (a generator of its own: the global one is never touched)."""
        self._check_initialiser(initialiser)
        generator = torch.Generator().manual_seed(seed)
        raw = [torch.randn((n, *shape), generator=generator, dtype=_dtype(target)) for shape in _raw_shapes(sizes)]
        return tuple(_numpy(p, target) for p in _raw_to_canonical(raw))

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        self._check_optimizer(optimizer)
        x, y_ = _tensor(gates.with_bias(X), target), _tensor(y, target)
        ws0 = [_tensor(w, target) for w in _raw_batched(params)]

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            ws = [w0.clone().requires_grad_() for w0 in ws0]  # fresh leaves: each call starts over
            out = _raw_sgd_batched(x, y_, ws, optimizer.lr, steps)
            _sync(x.device)
            return out

        def to_numpy(out: tuple[tuple[torch.Tensor, ...], torch.Tensor]) -> BatchedRun:
            raw, losses = out
            return _batched_run(_raw_to_canonical(raw), losses, target)

        return NativeOp(run, to_numpy)


# ----------------------------------------------------------------------------- module-based styles

# A step of a model style: (zero the gradients, apply the update).
_Update = tuple[Callable[[], None], Callable[[], None]]


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _canonical(model: nn.Module) -> tuple[torch.Tensor, ...]:
    """The model's parameters as (W₁, b₁, …), W = weight.T (views, no copies)."""
    return tuple(t for lin in _linears(model) for t in (lin.weight.mT, lin.bias))


def _canonical_grads(model: nn.Module) -> tuple[torch.Tensor, ...]:
    return tuple(t for lin in _linears(model) for t in (lin.weight.grad.mT, lin.bias.grad))


class BatchedMLP(nn.Module):
    """B independent nets as one module: per layer, the nets' nn.Linear weights stacked (B, out, in) and
    biases (B, out), applied by one ``torch.baddbmm``; a sigmoid between layers, logits (B, N) out."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.weights = nn.ParameterList(nn.Parameter(w) for w in weights)
        self.biases = nn.ParameterList(nn.Parameter(b) for b in biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.expand(self.weights[0].shape[0], *x.shape)  # (B, N, in): a view, the inputs are shared
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.unsqueeze(1), h.sigmoid() if k else h, w.mT)
        return h[..., 0]

    def canonical(self) -> tuple[torch.Tensor, ...]:
        """(W₁, b₁, …) with W = weightᵀ, net axis leading (views)."""
        return tuple(t for w, b in zip(self.weights, self.biases) for t in (w.mT, b))


class _ModelStyle(_TorchBase):
    """A model built from nn.Linear layers, BCEWithLogitsLoss, and an update rule chosen by the subclass."""

    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        _C.TLU_PREDICT: "nn has no threshold unit; the raw-tensor TLU is torch-autograd's",
        _C.PERCEPTRON_STEP: "the perceptron rule is no gradient step of an nn model or optimizer; see torch-autograd",
        _C.PERCEPTRON_ONLINE: "the perceptron rule is no gradient step of an nn model or optimizer; see torch-autograd",
        _C.SINGLE_EXAMPLE_LOSS_GRAD: "the notebook writes −log σ(w·x) with raw tensors only; see torch-autograd",
    }

    def _build(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        raise NotImplementedError

    def _update(self, model: nn.Module, optimizer: SGD | Adam) -> _Update:
        raise NotImplementedError

    def _initialised(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        """The style's model as its users build it, with torch's own initialisation (on the CPU)."""
        raise NotImplementedError

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """What n models built one after another after ``torch.manual_seed(seed)`` hold, as a user seeds and
        builds them, inside ``torch.random.fork_rng`` so that torch's global generator is left as found.

        Building a model runs each Linear's ``reset_parameters`` in layer order, so one model built and
        then reset n − 1 times draws exactly what n new models would (1000 nets: 0.13 s, not 0.3–0.8 s).
        """
        self._check_initialiser(initialiser)
        nets = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            model = self._initialised(tuple(sizes), target)
            for k in range(n):
                if k:
                    for linear in _linears(model):
                        linear.reset_parameters()
                nets.append([p.clone() for p in _canonical(model)])
        return tuple(_numpy(torch.stack(column), target) for column in zip(*nets))

    def _model(self, params: Params, target: Target) -> nn.Module:
        """The style's model holding exactly ``params`` in the target dtype and device."""
        model = self._build(mlp.layer_sizes(params), target)
        torch_params = mlp.to_torch(params)  # weight (out, in) = Wᵀ, bias (out,)
        with torch.no_grad():
            for lin, weight, bias in zip(_linears(model), torch_params[0::2], torch_params[1::2]):
                lin.weight.copy_(torch.from_numpy(weight.astype(target.np_dtype)))
                lin.bias.copy_(torch.from_numpy(bias.astype(target.np_dtype)))
        return model

    def _fit(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, update: _Update, steps: int
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """The notebook's loop: predict, loss, zero the gradients, backward, step."""
        zero_grad, step = update
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
        recorder = _Recorder(_canonical(model))
        for _ in range(steps):
            y_pred = model(x)
            loss = loss_fn(y_pred, y)
            zero_grad()
            loss.backward()
            step()
            recorder.loss(loss)
            recorder.snapshot()
        return recorder.stacked()

    # --- logistic regression: the one-layer model on Xb without its bias column -------------

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        params, X = _logistic_as_mlp(Xb, w)
        loss, grads = self.mlp_loss_and_grads(params, X, y, target)
        return loss, _mlp_as_logistic(grads)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        params, X = _logistic_as_mlp(Xb, w0)
        run = self.mlp_train(params, X, y, SGD(eta), steps, target)
        return Trajectory(_mlp_as_logistic(run.params), run.losses)

    # --- native MLP ops ------------------------------------------------------------------

    def _prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        model, x = self._model(params, target), _tensor(X, target)

        def run() -> tuple[torch.Tensor, torch.Tensor]:
            with torch.no_grad():
                z = model(x)[:, 0]
                out = z, z.sigmoid()
            _sync(x.device)
            return out

        return NativeOp(run, lambda out: tuple(_numpy(t, target) for t in out))

    def _prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        model, x, y_ = self._model(params, target), _tensor(X, target), _tensor(y[:, None], target)
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")

        def run() -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            loss = loss_fn(model(x), y_)
            model.zero_grad()  # grads set to None: backward writes fresh tensors every call
            loss.backward()
            _sync(x.device)
            return loss.detach(), _canonical_grads(model)

        def to_numpy(out: tuple[torch.Tensor, tuple[torch.Tensor, ...]]) -> tuple[np.ndarray, Params]:
            loss, grads = out
            return _numpy(loss, target), tuple(_numpy(g, target) for g in grads)

        return NativeOp(run, to_numpy)

    def _prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        self._check_optimizer(optimizer)
        model, x, y_ = self._model(params, target), _tensor(X, target), _tensor(y[:, None], target)
        start = [p.detach().clone() for p in model.parameters()]

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            with torch.no_grad():  # every call starts from the same parameters...
                for p, p0 in zip(model.parameters(), start):
                    p.copy_(p0)
            model.zero_grad()
            out = self._fit(model, x, y_, self._update(model, optimizer), steps)  # ...and a fresh optimizer
            _sync(x.device)
            return out

        return NativeOp(run, lambda out: _trajectory(*out, target))

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        self._check_optimizer(optimizer)
        model = BatchedMLP(
            [_tensor(np.swapaxes(W, 1, 2), target) for W in params[0::2]], [_tensor(b, target) for b in params[1::2]]
        )
        x, y_ = _tensor(X, target), _tensor(y, target)
        start = [p.detach().clone() for p in model.parameters()]
        n_nets = params[0].shape[0]

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            with torch.no_grad():  # every call starts from the same parameters...
                for p, p0 in zip(model.parameters(), start):
                    p.copy_(p0)
            model.zero_grad()
            zero_grad, step = self._update(model, optimizer)  # ...and a fresh optimizer
            losses = x.new_empty((steps, n_nets))
            for t in range(steps):
                loss = _summed_bce_per_net(model(x), y_)
                zero_grad()
                loss.sum().backward()
                step()
                losses[t] = loss.detach()
            _sync(x.device)
            return tuple(p.detach().clone() for p in model.canonical()), losses

        return NativeOp(run, lambda out: _batched_run(*out, target))


class TorchNN(_ModelStyle):
    """nn.Sequential, BCEWithLogitsLoss, ``model.zero_grad()`` and a hand-written SGD step."""

    name = "torch-nn"
    capabilities = frozenset(
        {
            _C.LOGISTIC_LOSS_GRAD,
            _C.LOGISTIC_TRAIN,
            _C.MLP_FORWARD,
            _C.MLP_LOSS_GRADS,
            _C.MLP_TRAIN_SGD,
            _C.MLP_INIT,
            _C.MLP_TRAIN_BATCHED,
            _C.NATIVE,
        }
    )
    initialisers = ("torch-linear",)  # nn.Linear's reset_parameters
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        **_ModelStyle.unsupported_reasons,
        _C.MLP_TRAIN_ADAM: "this style updates by hand with SGD; Adam is torch.optim's (torch-optim, torch-module)",
    }

    def _build(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        # skip_init: the reference supplies every parameter, so torch's random init (which would
        # also advance the global RNG) is skipped.
        kw = {"dtype": _dtype(target), "device": _device(target)}
        layers: list[nn.Module] = [skip_init(nn.Linear, sizes[0], sizes[1], bias=True, **kw)]
        for d_in, d_out in pairwise(sizes[1:]):
            layers += [nn.Sigmoid(), skip_init(nn.Linear, d_in, d_out, bias=True, **kw)]
        return nn.Sequential(*layers)

    def _initialised(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        layers: list[nn.Module] = [nn.Linear(sizes[0], sizes[1], bias=True, dtype=_dtype(target))]
        for d_in, d_out in pairwise(sizes[1:]):
            layers += [nn.Sigmoid(), nn.Linear(d_in, d_out, bias=True, dtype=_dtype(target))]
        return nn.Sequential(*layers)

    def _update(self, model: nn.Module, optimizer: SGD | Adam) -> _Update:
        def step() -> None:
            with torch.no_grad():
                for param in model.parameters():
                    param -= optimizer.lr * param.grad

        return model.zero_grad, step


class TorchOptim(TorchNN):
    """The same nn.Sequential trained by torch.optim.SGD / torch.optim.Adam.

    ``foreach``/``fused`` are left at their defaults (None): torch picks the for-loop kernels
    on CPU and the foreach kernels on CUDA; neither is fused.
    """

    name = "torch-optim"
    capabilities = TorchNN.capabilities | {_C.MLP_TRAIN_ADAM}
    unsupported_reasons: ClassVar[dict[Capability, str]] = dict(_ModelStyle.unsupported_reasons)

    def numerics(self) -> dict[str, str]:
        return {**super().numerics(), "optim_impl": "torch.optim defaults (cpu: for-loop, cuda: foreach)"}

    def _update(self, model: nn.Module, optimizer: SGD | Adam) -> _Update:
        opt: torch.optim.Optimizer
        if isinstance(optimizer, SGD):
            opt = torch.optim.SGD(model.parameters(), lr=optimizer.lr)
        else:
            opt = torch.optim.Adam(
                model.parameters(), lr=optimizer.lr, betas=(optimizer.beta1, optimizer.beta2), eps=optimizer.eps
            )
        return opt.zero_grad, opt.step


class SingleLayerNN(nn.Module):
    """The notebook's single-layer class."""

    def __init__(self, d_in: int, d_out: int, device: torch.device | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        self.linear1 = nn.Linear(d_in, d_out, bias=True, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear1(x)


class MultiLayerNN(nn.Module):
    """The notebook's ``ThreeLayerNN`` for any depth: Linear layers with a sigmoid between them."""

    def __init__(
        self, sizes: Sequence[int], device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> None:
        super().__init__()
        self.linears = nn.ModuleList(
            nn.Linear(d_in, d_out, bias=True, device=device, dtype=dtype) for d_in, d_out in pairwise(sizes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linears[0](x)
        for linear in self.linears[1:]:
            h = linear(h.sigmoid())
        return h


class TorchModule(TorchOptim):
    """Custom nn.Module classes trained by torch.optim, as the notebook's last cells."""

    name = "torch-module"
    capabilities = TorchOptim.capabilities - {_C.MLP_TRAIN_BATCHED}
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        **TorchOptim.unsupported_reasons,
        _C.MLP_TRAIN_BATCHED: "the notebook's classes hold one net each; many nets stacked in one module, "
        "trained by torch.optim, is torch-optim's BatchedMLP (the same draws and updates: its statistic would repeat)",
    }

    def _build(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        kw = {"dtype": _dtype(target), "device": _device(target)}
        if len(sizes) == 2:
            return skip_init(SingleLayerNN, sizes[0], sizes[1], **kw)
        return skip_init(MultiLayerNN, sizes, **kw)

    def _initialised(self, sizes: tuple[int, ...], target: Target) -> nn.Module:
        if len(sizes) == 2:
            return SingleLayerNN(sizes[0], sizes[1], dtype=_dtype(target))
        return MultiLayerNN(sizes, dtype=_dtype(target))
