"""A made-up framework with process-wide state of its own (a seed, a context flag), and a style on it."""

import numpy as np

from gatespec.conformance.adapters.numpy_impl import NumpyImplementation
from gatespec.conformance.spec.interface import MLPTrajectory
from gatespec.reference.mlp import Adam

STATE = {"seed": 0, "fast_math": False}


class TinyFw(NumpyImplementation):
    """numpy underneath, but Adam as optax computes it in float32: bias corrections 1 − β̃ᵗ, β̃ = float32(β)."""

    name = "tiny-fw"
    framework = "tiny-fw"
    known_deviation_sets = ("adam-float32-beta-powers",)

    def framework_version(self):
        return "0.1"

    def global_state(self):
        return dict(STATE)

    def threads(self):
        return {"pool": "1"}

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if target.dtype != "float32" or not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        f32 = np.float32
        b1, b2, lr, eps = f32(optimizer.beta1), f32(optimizer.beta2), f32(optimizer.lr), f32(optimizer.eps)
        params = tuple(np.asarray(p, dtype=f32) for p in params)
        X, y = np.asarray(X, dtype=f32), np.asarray(y, dtype=f32)
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        history, losses = [params], []
        for t in range(1, steps + 1):
            loss, grads = self._mlp_loss_and_grads(params, X, y)
            losses.append(loss)
            m = [b1 * mi + f32(1 - optimizer.beta1) * g for mi, g in zip(m, grads)]
            v = [b2 * vi + f32(1 - optimizer.beta2) * g * g for vi, g in zip(v, grads)]
            step_size = lr / (f32(1) - b1 ** f32(t))
            bc2_sqrt = np.sqrt(f32(1) - b2 ** f32(t))
            params = tuple(p - step_size * mi / (np.sqrt(vi) / bc2_sqrt + eps) for p, mi, vi in zip(params, m, v))
            history.append(params)
        return MLPTrajectory(tuple(np.stack(p) for p in zip(*history)), np.stack(losses))


class Leaky(TinyFw):
    name = "tiny-fw-leaky"

    def mlp_forward(self, params, X, target):
        STATE["seed"] += 1  # BUG: reseeds the framework's global generator
        return super().mlp_forward(params, X, target)
