"""torch-optim: torch-nn's ``nn.Sequential`` trained by ``torch.optim.SGD`` / ``torch.optim.Adam``.

What most torch code writes: the model and loop of torch-nn (:class:`~.nn.TorchNN`), with the
hand-written update replaced by an optimizer's ``zero_grad()`` and ``step()``.  A fresh optimizer
per run, so Adam's moments start at zero each time, as they do for a user who builds one per fit.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from gatespec.conformance.adapters.torch_impl.nn import TorchNN, _ModelStyle, _Update
from gatespec.conformance.spec.interface import Capability
from gatespec.reference.mlp import SGD, Adam

_C = Capability


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
