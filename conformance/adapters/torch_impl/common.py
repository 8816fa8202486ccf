"""What every torch style shares: tensors in and out, the CUDA sync, the step recorder, and :class:`TorchStyle`.

Every style computes in the target's dtype on the target's device and hands numpy copies back
(:func:`tensor`, :func:`as_numpy`); a timed run ends with :func:`sync`, since CUDA kernels are
asynchronous.  Training records its parameters after every step on the device (:class:`Recorder`)
and converts once at the end.  :class:`TorchStyle` is the base every torch style subclasses: the
framework's identity and numerics, and the hooks a style writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from gatespec.conformance.adapters.style import Style
from gatespec.conformance.spec.interface import BatchedRun, MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import Params

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ----------------------------------------------------------------------------- tensors in and out


def torch_dtype(target: Target) -> torch.dtype:
    return _DTYPES[target.dtype]


def torch_device(target: Target) -> torch.device:
    return torch.device(target.device)


def tensor(a: np.ndarray, target: Target, requires_grad: bool = False) -> torch.Tensor:
    """A copy of ``a`` in the target dtype on the target device (torch.tensor always copies,
    so in-place updates never reach the caller's array)."""
    return torch.tensor(a, dtype=torch_dtype(target), device=torch_device(target), requires_grad=requires_grad)


def as_numpy(t: torch.Tensor, target: Target) -> np.ndarray:
    """A numpy copy (never a view of a tensor that may still be updated in place)."""
    return np.array(t.detach().cpu().numpy(), dtype=target.np_dtype)


def as_numpy_all(tensors: Sequence[torch.Tensor], target: Target) -> tuple[np.ndarray, ...]:
    return tuple(as_numpy(t, target) for t in tensors)


def sync(device: torch.device) -> None:
    # CUDA kernels are asynchronous; a timed run must wait for them.
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------- native ops' results


def forward_op(logits: Callable[[], torch.Tensor], device: torch.device, target: Target) -> NativeOp:
    """mlp_forward's op: ``run()`` evaluates the logits z (N,) by ``logits()`` and returns (z, σ(z)) once
    ``device`` is done; converted, the numpy operation's (z, p)."""

    def run() -> tuple[torch.Tensor, torch.Tensor]:
        z = logits()
        out = z, z.sigmoid()
        sync(device)
        return out

    return NativeOp(run, functools.partial(as_numpy_all, target=target))


def numpy_loss_and_grads(out: tuple[torch.Tensor, Sequence[torch.Tensor]], target: Target) -> tuple[np.ndarray, Params]:
    """A native (loss, gradients) as the numpy operation returns them."""
    loss, grads = out
    return as_numpy(loss, target), as_numpy_all(grads, target)


def trajectory(params: Sequence[torch.Tensor], losses: torch.Tensor, target: Target) -> MLPTrajectory:
    """A native run (every parameter stacked over the steps, the losses) as mlp_train returns it."""
    return MLPTrajectory(as_numpy_all(params, target), as_numpy(losses, target))


def batched_run(params: Sequence[torch.Tensor], losses: torch.Tensor, target: Target) -> BatchedRun:
    """A native run of many nets (final parameters, losses (steps, nets)) as mlp_train_batched returns it."""
    return BatchedRun(as_numpy_all(params, target), as_numpy(losses, target))


# ----------------------------------------------------------------------------- training runs


class Recorder:
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


def summed_bce_per_net(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each net's Σ_rows BCE-with-logits, (B,), from logits z (B, N) and labels y (N,)."""
    return F.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none").sum(dim=1)


# ----------------------------------------------------------------------------- the base


class TorchStyle(Style):
    """Base of the torch styles: torch's identity (framework, dtypes, devices, version, numerics) declared once.

    A style is its idiom and little else.  It declares, as class attributes:

    - ``name``: the style's name, as ``--gatespec-impl`` takes it;
    - ``unsupported_reasons``: {Capability: why not}, and ``capabilities`` as every capability but those,
      ``frozenset(Capability).difference(unsupported_reasons)``;
    - where it has them: ``initialisers``, ``known_deviations``, ``execution`` and ``compiled`` (the
      :class:`~gatespec.conformance.spec.interface.Implementation` contract's), and ``extra_numerics``, what it
      adds to :meth:`numerics` (its optimizer's kernels, its compiler's settings).

    and writes each operation it supports once, as these hooks (:class:`~gatespec.conformance.adapters.style.Style`'s,
    whose :meth:`~gatespec.conformance.adapters.style.Style.native` checks the arguments first; the ``prepare_*``
    hooks take them by keyword, numpy data as the contract has it):

    - ``prepare_forward(params, X, target) -> NativeOp``: its ``run()`` gives the logits and probabilities,
      converted (z, p) as ``mlp_forward``'s; :func:`forward_op` makes it from the logits;
    - ``prepare_loss_and_grads(params, X, y, target) -> NativeOp``: (loss, gradients in the canonical
      layout), converted by :func:`numpy_loss_and_grads`;
    - ``prepare_train(params, X, y, optimizer, steps, target) -> NativeOp``: every step's parameters and
      the losses, converted by :func:`trajectory`;
    - ``prepare_train_batched(...)``, the same arguments with a leading net axis on ``params``: the final
      parameters and the losses (steps, nets), converted by :func:`batched_run`;
    - ``draw_initial(initialiser, sizes, n, seed, target) -> Params``: n nets drawn by the framework's
      initialiser, a leading net axis on every parameter;
    - and the perceptron's and logistic unit's numpy operations themselves (``tlu_predict``,
      ``logistic_loss_and_grad`` …), where the style has them.

    Every ``run()`` computes from tensors prepared on the target's device (:func:`tensor`), ends with
    :func:`sync`, and does the same work on every call.  Styles of a model of nn.Linear layers subclass
    :class:`~gatespec.conformance.adapters.torch_impl.models.ModelStyle` instead, whose hooks are the model
    and the update.
    """

    framework = "torch"
    dtypes = ("float32", "float64")
    devices = ("cpu", "cuda")
    # What the style adds to numerics(): switches of its own that change the numbers.
    extra_numerics: ClassVar[dict[str, str]] = {}

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
            **self.extra_numerics,
        }
