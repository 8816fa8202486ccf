"""What the four torch styles share: tensors in and out, the CUDA sync, the step recorder, the models' parameters.

Every style computes in the target's dtype on the target's device and hands numpy copies back
(:func:`_tensor`, :func:`_numpy`); a timed run ends with :func:`_sync`, since CUDA kernels are
asynchronous.  Training records its parameters after every step on the device
(:class:`_Recorder`) and converts once at the end.  The module styles read a model's parameters
in the reference's canonical layout, W = weightᵀ (:func:`_canonical`), and train many nets at
once as one :class:`BatchedMLP`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gatespec.conformance.adapters.style import Style
from gatespec.conformance.spec.interface import BatchedRun, MLPTrajectory, Target
from gatespec.reference.mlp import Params

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ----------------------------------------------------------------------------- tensors in and out


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


# ----------------------------------------------------------------------------- training runs


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


def _batched_run(params: Sequence[torch.Tensor], losses: torch.Tensor, target: Target) -> BatchedRun:
    return BatchedRun(tuple(_numpy(p, target) for p in params), _numpy(losses, target))


def _loss_and_grads(out: tuple[torch.Tensor, Sequence[torch.Tensor]], target: Target) -> tuple[np.ndarray, Params]:
    """A native (loss, gradients) as the numpy operation returns them."""
    loss, grads = out
    return _numpy(loss, target), tuple(_numpy(g, target) for g in grads)


def _summed_bce_per_net(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each net's Σ_rows BCE-with-logits, (B,), from logits z (B, N) and labels y (N,)."""
    return F.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none").sum(dim=1)


# ----------------------------------------------------------------------------- models' parameters


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


# ----------------------------------------------------------------------------- base


class _TorchBase(Style):
    """What every torch style declares alike: the framework, its dtypes and devices, and the numerics it runs with."""

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
