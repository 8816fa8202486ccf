"""torch-nn: ``torch.nn.Sequential(Linear, Sigmoid, Linear, …)``, ``BCEWithLogitsLoss`` and a hand-written SGD step.

What a torch.nn user writes: build the model, then per step predict, take the loss, ``model.zero_grad()``,
``loss.backward()`` and ``param -= lr * param.grad`` over ``model.parameters()``.  That loop is
:class:`_ModelStyle`'s, shared with the styles that change only the update (torch-optim) or the
model (torch-module); :class:`TorchNN` supplies the model and the hand-written step.

The logistic unit is the one-layer model on X without its bias column (nn.Linear carries the
bias), so its loss, gradient and training are the MLP's.  Many nets at once
(``mlp_train_batched``) are one :class:`~.common.BatchedMLP` trained by the same update: the
nets share no parameter, so the summed loss's ``backward()`` gives each its own gradient, and
SGD and Adam are elementwise, so one step updates every net as it would alone.  ``mlp_init``
draws what models built after ``torch.manual_seed(seed)`` hold: nn.Linear's own initialisation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import pairwise
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn.utils import skip_init

from gatespec.conformance.adapters.style import LogisticAsOneLayerNet
from gatespec.conformance.adapters.torch_impl.common import (
    BatchedMLP,
    _batched_run,
    _canonical,
    _canonical_grads,
    _device,
    _dtype,
    _linears,
    _loss_and_grads,
    _numpy,
    _Recorder,
    _summed_bce_per_net,
    _sync,
    _tensor,
    _TorchBase,
    _trajectory,
)
from gatespec.conformance.spec.interface import Capability, NativeOp, Target
from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params

_C = Capability

# A step of a model style: (zero the gradients, apply the update).
_Update = tuple[Callable[[], None], Callable[[], None]]


class _ModelStyle(LogisticAsOneLayerNet, _TorchBase):
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

    def _draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """What n models built one after another after ``torch.manual_seed(seed)`` hold, as a user seeds and
        builds them, inside ``torch.random.fork_rng`` so that torch's global generator is left as found.

        Building a model runs each Linear's ``reset_parameters`` in layer order, so one model built and
        then reset n − 1 times draws exactly what n new models would (1000 nets: 0.13 s, not 0.3–0.8 s).
        """
        nets = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            model = self._initialised(sizes, target)
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

        return NativeOp(run, functools.partial(_loss_and_grads, target=target))

    def _prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
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
