"""torch-nn: ``torch.nn.Sequential(Linear, Sigmoid, Linear, …)``, ``BCEWithLogitsLoss`` and a hand-written SGD step.

What a torch.nn user writes: build the model, then per step predict, take the loss, ``model.zero_grad()``,
``loss.backward()`` and ``param -= lr * param.grad`` over ``model.parameters()``.  The loop is
:class:`~.models.ModelStyle`'s; this style is the model (:func:`sequential`, which torch-optim, torch-func
and torch-compile build too) and the hand-written step.
"""

from __future__ import annotations

from itertools import pairwise
from typing import ClassVar

import torch
from torch import nn

from gatespec.conformance.adapters.torch_impl.models import Make, ModelStyle, Update
from gatespec.conformance.spec.interface import Capability
from gatespec.reference.mlp import SGD, Adam


def sequential(sizes: tuple[int, ...], make: Make) -> nn.Module:
    """``nn.Sequential(Linear(d, h₁), Sigmoid(), Linear(h₁, h₂), …)`` for layer sizes (d, h₁, …, 1)."""
    layers: list[nn.Module] = [make(nn.Linear, sizes[0], sizes[1], bias=True)]
    for d_in, d_out in pairwise(sizes[1:]):
        layers += [nn.Sigmoid(), make(nn.Linear, d_in, d_out, bias=True)]
    return nn.Sequential(*layers)


_SGD_BY_HAND = "this style updates by hand with SGD; Adam is torch.optim's (torch-optim, torch-module)"


class TorchNN(ModelStyle):
    """nn.Sequential, BCEWithLogitsLoss, ``model.zero_grad()`` and a hand-written SGD step."""

    name = "torch-nn"
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        **ModelStyle.unsupported_reasons,
        Capability.MLP_TRAIN_ADAM: _SGD_BY_HAND,
    }
    capabilities = frozenset(Capability).difference(unsupported_reasons)

    build = staticmethod(sequential)

    def update(self, model: nn.Module, optimizer: SGD | Adam) -> Update:
        def step() -> None:
            with torch.no_grad():
                for param in model.parameters():
                    param -= optimizer.lr * param.grad

        return model.zero_grad, step
