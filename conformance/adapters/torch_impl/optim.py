"""torch-optim: torch-nn's ``nn.Sequential`` trained by ``torch.optim.SGD`` / ``torch.optim.Adam``.

What most torch code writes: the model and loop of torch-nn, with the hand-written update replaced by an
optimizer's ``zero_grad()`` and ``step()`` (:func:`optim_update`, torch-module's update too).  A fresh
optimizer per run, so Adam's moments start at zero each time, as they do for a user who builds one per fit.
"""

from __future__ import annotations

import torch
from torch import nn

from gatespec.conformance.adapters.torch_impl.models import ModelStyle, Update
from gatespec.conformance.adapters.torch_impl.nn import sequential
from gatespec.reference.mlp import SGD, Adam

# ``foreach``/``fused`` are left at their defaults (None): torch picks the for-loop kernels on CPU and the
# foreach kernels on CUDA; neither is fused.
OPTIM_NUMERICS = {"optim_impl": "torch.optim defaults (cpu: for-loop, cuda: foreach)"}


def torch_optimizer(model: nn.Module, optimizer: SGD | Adam) -> torch.optim.Optimizer:
    """``torch.optim.SGD(lr)`` or ``torch.optim.Adam(lr, betas, eps)`` on the model's parameters, as ``optimizer``."""
    if isinstance(optimizer, SGD):
        return torch.optim.SGD(model.parameters(), lr=optimizer.lr)
    return torch.optim.Adam(
        model.parameters(), lr=optimizer.lr, betas=(optimizer.beta1, optimizer.beta2), eps=optimizer.eps
    )


def optim_update(model: nn.Module, optimizer: SGD | Adam) -> Update:
    """A fresh torch.optim optimizer's ``zero_grad`` and ``step``."""
    opt = torch_optimizer(model, optimizer)
    return opt.zero_grad, opt.step


class TorchOptim(ModelStyle):
    """torch-nn with one change: the update is torch.optim.SGD's / torch.optim.Adam's (and so Adam is supported)."""

    name = "torch-optim"
    extra_numerics = OPTIM_NUMERICS

    build = staticmethod(sequential)
    update = staticmethod(optim_update)
