"""Implementations that compute the right numbers but leave global state changed, for ``tests/test_state_check.py``.

Each is the numpy implementation (or torch's raw style) whose ``mlp_forward`` — called only by
``test_mlp_forward_matches_reference`` — also touches one piece of process-wide state, so the
plugin's state check must fail that test and no other:

==============================  =====================================================================
implementation                  what its ``mlp_forward`` does besides computing
==============================  =====================================================================
state-numpy-draws               draws from numpy's global generator (``np.random.rand()``): every call
                                moves it, so every forward test fails
state-numpy-seeds               reseeds it (``np.random.seed(0)``): only the first forward test changes
                                the state; later ones find it already seeded and leave it so
state-numpy-seterr              ``np.seterr(all="ignore")``: likewise caught once, by the first
state-numpy-draws-and-breaks    draws, and returns doubled logits: the wrong values are the failure,
                                the state change a note beside it
state-torch-manual-seed         ``torch.manual_seed(0)`` in torch-autograd (built on first access, so
                                that importing this module never imports torch)
==============================  =====================================================================
"""

from __future__ import annotations

import numpy as np

from gatespec.conformance.adapters.numpy_impl import NumpyImplementation
from gatespec.conformance.spec.interface import Target
from gatespec.reference.mlp import Params


class NumpyDraws(NumpyImplementation):
    name = "state-numpy-draws"

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        np.random.rand()  # noqa: NPY002 - the planted leak: a draw from the global generator
        return super().mlp_forward(params, X, target)


class NumpySeeds(NumpyImplementation):
    name = "state-numpy-seeds"

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        np.random.seed(0)  # noqa: NPY002 - the planted leak: the global generator reseeded
        return super().mlp_forward(params, X, target)


class NumpySeterr(NumpyImplementation):
    name = "state-numpy-seterr"

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        np.seterr(all="ignore")  # the planted leak: numpy's error state, never restored
        return super().mlp_forward(params, X, target)


class NumpyDrawsAndBreaks(NumpyImplementation):
    name = "state-numpy-draws-and-breaks"

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        np.random.rand()  # noqa: NPY002
        z, p = super().mlp_forward(params, X, target)
        return 2 * z, p


def _torch_manual_seed() -> type:
    from gatespec.conformance.adapters.torch_impl import TorchAutograd

    class TorchManualSeed(TorchAutograd):
        name = "state-torch-manual-seed"

        def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
            import torch

            torch.manual_seed(0)  # the planted leak: torch's global generator reseeded
            return super().mlp_forward(params, X, target)

    return TorchManualSeed


def __getattr__(name: str) -> type:
    if name == "TorchManualSeed":
        cls = globals()[name] = _torch_manual_seed()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
