"""torch-module: the notebook's own ``nn.Module`` classes, trained by ``torch.optim``.

The notebook's last cells define the model as a class, ``SingleLayerNN`` and ``ThreeLayerNN``
(here :class:`MultiLayerNN`, for any depth), with the layers as attributes and the sigmoid in
``forward``; everything else is torch-optim's (:class:`~.optim.TorchOptim`): the loss, the loop,
the optimizers.  Each class holds one net, so this style trains no stack of nets.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import ClassVar

import torch
from torch import nn

from gatespec.conformance.adapters.torch_impl.models import Make, ModelStyle
from gatespec.conformance.adapters.torch_impl.optim import OPTIM_NUMERICS, optim_update
from gatespec.conformance.spec.interface import Capability


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


_ONE_NET_EACH = (
    "the notebook's classes hold one net each; many nets stacked in one module, trained by torch.optim, is "
    "torch-optim's BatchedMLP (the same draws and updates: its statistic would repeat)"
)


class TorchModule(ModelStyle):
    """torch-optim with one change: the model is the notebook's own classes, as its last cells write them."""

    name = "torch-module"
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        **ModelStyle.unsupported_reasons,
        Capability.MLP_TRAIN_BATCHED: _ONE_NET_EACH,
    }
    capabilities = frozenset(Capability).difference(unsupported_reasons)
    extra_numerics = OPTIM_NUMERICS

    update = staticmethod(optim_update)

    def build(self, sizes: tuple[int, ...], make: Make) -> nn.Module:
        if len(sizes) == 2:
            return make(SingleLayerNN, sizes[0], sizes[1])
        return make(MultiLayerNN, sizes)
