"""A third-party implementation, complete and minimal: the README's "Testing your own implementation"."""

import numpy as np

from gatespec.conformance import Capability, Implementation


class TinyNumpyMLP(Implementation):
    name = "tiny-mlp"
    framework = "numpy"
    dtypes = ("float64",)
    capabilities = frozenset({Capability.MLP_FORWARD, Capability.MLP_LOSS_GRADS})
    unsupported_reasons = {c: "this example implements the MLP forward pass and gradients only" for c in Capability}

    def framework_version(self):
        return np.__version__

    def mlp_forward(self, params, X, target):
        z = self._layers(params, X)[-1][:, 0]
        return z, _sigmoid(z)

    def mlp_loss_and_grads(self, params, X, y, target):
        hs = self._layers(params, X)
        z = hs[-1][:, 0]
        loss = np.sum(np.logaddexp(0, z) - y * z)
        delta = (_sigmoid(z) - y)[:, None]
        grads = []
        for layer in reversed(range(len(params) // 2)):
            grads[:0] = [hs[layer].T @ delta, delta.sum(axis=0)]
            delta = (delta @ params[2 * layer].T) * hs[layer] * (1 - hs[layer])
        return np.asarray(loss), tuple(grads)

    @staticmethod
    def _layers(params, X):
        hs = [X]
        for k in range(0, len(params), 2):
            a = hs[-1] @ params[k] + params[k + 1]
            hs.append(a if k == len(params) - 2 else _sigmoid(a))
        return hs


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))  # 1/(1 + e^{−z}) without overflowing e^{−z} for z ≪ 0
