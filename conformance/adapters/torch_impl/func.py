"""torch-func: torch-nn's ``nn.Sequential`` called as a function of a parameter dict, the torch.func way.

    z = functional_call(model, θ, x),   (∇l(θ), l(θ)) = grad_and_value(l)(θ),   θ′ = update(θ, ∇l(θ))

The model is the one torch-nn builds (:func:`~.nn.sequential`), its parameters ``{name: tensor}``
as ``model.named_parameters()`` gives them; ``torch.func.functional_call`` runs its forward on a
dict, ``torch.func.grad_and_value`` differentiates the summed BCE-with-logits with respect to it,
and the updates are written on the dict, functionally (new tensors every step, nothing in place,
no torch.optim): SGD θ − ηg, and torch.optim.Adam's step by
:func:`~gatespec.conformance.adapters.style.adam_direction`, its scalars in Python floats as
torch.optim computes them on the CPU.

Many nets at once are the model ensembling idiom of the torch.func docs: one dict holding every
net's parameters with the net as leading axis (what ``torch.func.stack_module_state`` makes of the
nets' models, here stacked from the arrays: building 4096 models to stack them takes 8 s), and
``torch.func.vmap`` of the same ``grad_and_value`` over it; the updates are elementwise, so the
same update functions step every net as they would step it alone.  ``mlp_init`` is torch-nn's:
nn.Linear's own initialisation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from gatespec.conformance.adapters.style import adam_direction
from gatespec.conformance.adapters.torch_impl.common import (
    batched_run,
    forward_op,
    numpy_loss_and_grads,
    sync,
    tensor,
    trajectory,
)
from gatespec.conformance.adapters.torch_impl.models import ModelStyle
from gatespec.conformance.adapters.torch_impl.nn import sequential
from gatespec.conformance.spec.interface import NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params

# A model's parameters as torch.func takes them: {"0.weight": (out, in), "0.bias": (out,), "2.weight": …}.
_Dict = dict[str, torch.Tensor]
# (gradients, loss) of a parameter dict on (x, y): grad_and_value of the loss, vmapped or not.
_LossAndGrads = Callable[[_Dict, torch.Tensor, torch.Tensor], tuple[_Dict, torch.Tensor]]


def _param_dict(model: nn.Module) -> _Dict:
    return {name: p.detach() for name, p in model.named_parameters()}


def _canonical(params: _Dict) -> tuple[torch.Tensor, ...]:
    """(W₁, b₁, …) of a parameter dict, W = weightᵀ (views; a leading net axis is kept)."""
    return tuple(p.mT if name.endswith("weight") else p for name, p in params.items())


def _summed_bce(model: nn.Module, params: _Dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """l(θ) = Σ_rows BCE-with-logits(z, y), z the model's logits with parameters θ."""
    z = functional_call(model, params, (x,))[..., 0]
    return F.binary_cross_entropy_with_logits(z, y, reduction="sum")


# ----------------------------------------------------------------------------- updates on the dict


def _sgd(opt: SGD, t: int, params: _Dict, grads: _Dict, state: Any) -> tuple[_Dict, Any]:
    """θ′ = θ − ηg."""
    return {k: p - opt.lr * grads[k] for k, p in params.items()}, state


def _adam(opt: Adam, t: int, params: _Dict, grads: _Dict, state: tuple[_Dict, _Dict]) -> tuple[_Dict, Any]:
    """Step t ≥ 1 of torch.optim.Adam, θ′ = θ − Δ with adam_direction's Δ; state = (m, v)."""
    b1, b2 = opt.beta1, opt.beta2
    # torch.optim.Adam reads t with .item() on the CPU: s and c are Python floats (float64), rounded once when applied.
    step_size, bc2_sqrt = opt.lr / (1 - b1**t), math.sqrt(1 - b2**t)
    hyper = {"beta1": b1, "one_minus_beta1": 1 - b1, "beta2": b2, "one_minus_beta2": 1 - b2, "eps": opt.eps}
    m, v = state
    out = {
        k: adam_direction(g, m[k], v[k], step_size=step_size, bc2_sqrt=bc2_sqrt, sqrt=torch.sqrt, **hyper)
        for k, g in grads.items()
    }
    new_params = {k: p - out[k][0] for k, p in params.items()}
    return new_params, ({k: d[1] for k, d in out.items()}, {k: d[2] for k, d in out.items()})


def _descend(
    loss_and_grads: _LossAndGrads,
    params: _Dict,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: SGD | Adam,
    steps: int,
    history: list[_Dict] | None = None,
) -> tuple[_Dict, list[torch.Tensor]]:
    """(final θ, the loss at the start of every step) after ``steps`` updates; every θ_t appended to ``history``."""
    update = _sgd if isinstance(optimizer, SGD) else _adam
    state = None
    if isinstance(optimizer, Adam):
        zeros = {k: torch.zeros_like(p) for k, p in params.items()}
        state = (zeros, zeros)
    losses = []
    for t in range(1, steps + 1):
        grads, loss = loss_and_grads(params, x, y)
        params, state = update(optimizer, t, params, grads, state)
        losses.append(loss)
        if history is not None:
            history.append(params)
    return params, losses


def _stacked(losses: list[torch.Tensor], like: torch.Tensor, *shape: int) -> torch.Tensor:
    """The losses stacked (steps, *shape); an empty (0, *shape) for a run of no steps."""
    return torch.stack(losses) if losses else like.new_empty((0, *shape))


# ----------------------------------------------------------------------------- the style


class TorchFunc(ModelStyle):
    """torch-nn's nn.Sequential under torch.func: functional_call, grad_and_value, vmap, hand-written updates.

    Every MLP operation is its own (the ``prepare_*`` hooks); the model (torch-nn's), ``draw_initial`` and the
    logistic unit are :class:`~.models.ModelStyle`'s.
    """

    name = "torch-func"

    build = staticmethod(sequential)

    def _func_model(self, params: Params, target: Target) -> tuple[nn.Module, _Dict]:
        """torch-nn's model holding ``params``, and its parameters as a dict."""
        model = self.model(params, target)
        return model, _param_dict(model)

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        (model, theta), x = self._func_model(params, target), tensor(X, target)
        return forward_op(lambda: functional_call(model, theta, (x,))[:, 0], x.device, target)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        (model, theta), x, y_ = self._func_model(params, target), tensor(X, target), tensor(y, target)
        loss_and_grads = grad_and_value(functools.partial(_summed_bce, model))

        def run() -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            grads, loss = loss_and_grads(theta, x, y_)
            sync(x.device)
            return loss, _canonical(grads)

        return NativeOp(run, functools.partial(numpy_loss_and_grads, target=target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        (model, theta), x, y_ = self._func_model(params, target), tensor(X, target), tensor(y, target)
        loss_and_grads = grad_and_value(functools.partial(_summed_bce, model))

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            # Every θ_t is a new tensor, never updated in place: the history holds them without copies.
            history = [theta]
            _, losses = _descend(loss_and_grads, theta, x, y_, optimizer, steps, history)
            out = tuple(torch.stack(column) for column in zip(*map(_canonical, history))), _stacked(losses, x)
            sync(x.device)
            return out

        return NativeOp(run, lambda out: trajectory(*out, target))

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        n_nets = params[0].shape[0]
        model = self.model(tuple(p[0] for p in params), target)  # the first net's: a template for functional_call
        # stack_module_state's dict: {name: (B, …)} in nn.Linear's layout (weight = Wᵀ).
        theta = {
            name: tensor(np.swapaxes(p, 1, 2) if name.endswith("weight") else p, target)
            for name, p in zip(_param_dict(model), params, strict=True)
        }
        x, y_ = tensor(X, target), tensor(y, target)
        # Each net's gradients and loss, the data shared: (grads (B, …), losses (B,)).
        loss_and_grads = vmap(grad_and_value(functools.partial(_summed_bce, model)), in_dims=(0, None, None))

        def run() -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
            final, losses = _descend(loss_and_grads, theta, x, y_, optimizer, steps)
            out = _canonical(final), _stacked(losses, x, n_nets)
            sync(x.device)
            return out

        return NativeOp(run, lambda out: batched_run(*out, target))
