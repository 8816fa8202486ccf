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

from typing import Any, ClassVar

import keras
import numpy as np
import torch

from gatespec.conformance.adapters.keras_impl.local import KerasLocal, to_numpy, trajectory
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

    def _block(self, result: Any) -> Any:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
        return result

    # --- hooks ----------------------------------------------------------------------------

    def _prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        with self._scope(target):
            net, X_ = keras_sequential(params, target), self._tensor(X, target)

        def compute() -> tuple[torch.Tensor, torch.Tensor]:
            with torch.no_grad():
                z = net(X_)[:, 0]
                return z, keras.ops.sigmoid(z)

        return self._native_op(target, compute, lambda out: tuple(to_numpy(a, target) for a in out))

    def _prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with self._scope(target):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            X_, y_ = self._tensor(X, target), self._tensor(y[:, None], target)
        weights = net.trainable_weights

        def compute() -> tuple[torch.Tensor, list[torch.Tensor]]:
            net.zero_grad()
            loss = loss_fn(y_, net(X_))
            loss.backward()
            return loss.detach(), [v.value.grad.detach().clone() for v in weights]

        def convert(out: tuple[torch.Tensor, list]) -> tuple[np.ndarray, Params]:
            return to_numpy(out[0], target), tuple(to_numpy(g, target) for g in out[1])

        return self._native_op(target, compute, convert)

    def _prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with self._scope(target):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            opt = keras_optimizer(optimizer)
            weights = net.trainable_weights
            opt.build(weights)
            X_, y_ = self._tensor(X, target), self._tensor(y[:, None], target)
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

        return self._native_op(target, compute, lambda out: trajectory(*out, target))
