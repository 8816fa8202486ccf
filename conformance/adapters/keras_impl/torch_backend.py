"""keras-torch in its own process: :mod:`.model`'s net trained by the loop of Keras's guide
"Writing a training loop from scratch in PyTorch".

The guide's loop, as written there: ``logits = model(x)``, the Keras loss, ``model.zero_grad()``,
``loss.backward()``, the gradients read from ``v.value.grad`` of ``model.trainable_weights``, and
``optimizer.apply(gradients, trainable_weights)`` under ``torch.no_grad()``; a Python loop over
that step, eager (no torch.compile).  Each prepared run builds the model and the optimizer once
and resets the weights and every optimizer variable (iterations, learning rate, moments) to
their starting values at the start of each run, so every run does the same work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from gatespec.conformance.adapters.keras_impl.local import KerasLocal, loss_and_grads, trajectory
from gatespec.conformance.adapters.keras_impl.model import keras_loss, keras_optimizer, keras_sequential
from gatespec.conformance.spec.interface import NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params


def _values(variables: list) -> list[torch.Tensor]:
    """A detached copy of every variable's current value."""
    return [v.value.detach().clone() for v in variables]


class KerasTorchLocal(KerasLocal):
    """Keras 3 on PyTorch, in a process whose KERAS_BACKEND is torch."""

    name: ClassVar[str] = "keras-torch"
    framework: ClassVar[str] = "torch"
    backend: ClassVar[str] = "torch"
    execution: ClassVar[str] = "eager"

    def framework_version(self) -> str:
        return torch.__version__

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {
            "torch": torch.__version__,
            "torch_threads": str(torch.get_num_threads()),
            "torch_default_dtype": str(torch.get_default_dtype()),
        }

    # --- hooks ----------------------------------------------------------------------------

    def block(self, result: Any) -> Any:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
        return result

    def forward_only(self, compute: Callable[[], Any]) -> Callable[[], Any]:
        # Keras on PyTorch records the autograd graph of every call; the forward pass needs none.
        def run() -> Any:
            with torch.no_grad():
                return compute()

        return run

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with self.scope(target):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            X_, y_ = self.tensor(X, target), self.tensor(y[:, None], target)
        weights = net.trainable_weights

        def compute() -> tuple[torch.Tensor, list[torch.Tensor]]:
            net.zero_grad()
            loss = loss_fn(y_, net(X_))
            loss.backward()
            return loss.detach(), [v.value.grad.detach().clone() for v in weights]

        return self.native_op(target, compute, functools.partial(loss_and_grads, target=target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with self.scope(target):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            opt = keras_optimizer(optimizer)
            weights = net.trainable_weights
            opt.build(weights)
            X_, y_ = self.tensor(X, target), self.tensor(y[:, None], target)
            # Everything a run mutates, as it is before the first step: weights, iterations, lr, moments.
            state = [*weights, *opt.variables]
            start = _values(state)

        def compute() -> tuple[list[list[torch.Tensor]], list[torch.Tensor]]:
            for v, s in zip(state, start):
                v.assign(s)
            history, losses = [_values(weights)], []
            for _ in range(steps):
                logits = net(X_)
                loss = loss_fn(y_, logits)
                net.zero_grad()
                loss.backward()
                gradients = [v.value.grad for v in weights]
                with torch.no_grad():
                    opt.apply(gradients, weights)
                losses.append(loss.detach())
                history.append(_values(weights))
            return history, losses

        return self.native_op(target, compute, lambda out: trajectory(*out, target))
