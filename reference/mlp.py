"""Multi-layer perceptron with sigmoid hidden layers and one logit output, with hand-written backprop.

Canonical parameter layout: ``params = (W₁, b₁, W₂, b₂, …, W_L, b_L)`` with W_l of shape
(in_l, out_l) and b_l of shape (out_l,), float64; the last layer has one output.  Inputs X
are (N, n) *without* a bias column.

    h₀ = X,   h_l = σ(h_{l−1} W_l + b_l)   for l < L,   z = h_{L−1} W_L + b_L   (logits, (N,))
    p  = σ(z),   l = Σ_i softplus(z_i) − y_i z_i

Backward, layer by layer beside the forward above:

    δ_L = ∂l/∂z = σ(z) − y
    ∂l/∂W_l = h_{l−1}ᵀ δ_l,   ∂l/∂b_l = Σ_rows δ_l
    δ_{l−1} = (δ_l W_lᵀ) ⊙ h_{l−1}(1 − h_{l−1})     (σ' = σ(1−σ))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from .activations import bce_with_logits, sigmoid
from .runs import MLPTrajectory, Params

# ----------------------------------------------------------------------------- layout


def check_params(params: Params, n_inputs: int | None = None) -> Params:
    """Validate the canonical layout; return it as a tuple."""
    if not isinstance(params, (tuple, list)) or len(params) < 2 or len(params) % 2:
        raise ValueError(
            "params: expected a non-empty sequence (W₁, b₁, …, W_L, b_L), "
            f"got {type(params).__name__} of length {len(params) if hasattr(params, '__len__') else '?'}"
        )
    width = n_inputs
    for layer in range(len(params) // 2):
        W = _validate.float_array(f"params[W{layer + 1}]", params[2 * layer], 2, (width, None))
        _validate.float_array(f"params[b{layer + 1}]", params[2 * layer + 1], 1, (W.shape[1],))
        width = W.shape[1]
    if width != 1:
        raise ValueError(f"params: expected one output unit in the last layer, got {width}")
    return tuple(params)


def layer_sizes(params: Params) -> tuple[int, ...]:
    """(n_inputs, hidden₁, …, 1), e.g. (2, 2, 1) for the XOR net."""
    params = check_params(params)
    return (params[0].shape[0],) + tuple(W.shape[1] for W in params[0::2])


def to_folded(params: Params) -> tuple[np.ndarray, ...]:
    """W′_l = [W_l; b_lᵀ] of shape (in_l + 1, out_l): the bias as the last row, for inputs (h, 1)."""
    params = check_params(params)
    return tuple(np.vstack([W, b[None, :]]) for W, b in zip(params[0::2], params[1::2]))


def from_folded(folded: tuple[np.ndarray, ...]) -> Params:
    """Inverse of :func:`to_folded`: exact, only slicing."""
    out: list[np.ndarray] = []
    for i, Wf in enumerate(folded):
        Wf = _validate.float_array(f"folded[{i}]", Wf, 2)
        out += [Wf[:-1].copy(), Wf[-1].copy()]
    return check_params(tuple(out))


def to_notebook_raw(params: Params) -> tuple[np.ndarray, ...]:
    """The notebook's raw-autograd layout: ``(w1, w2, b2, w3, b3, …)``.

    The first layer is folded (x carries the bias column, so w1 is (n + 1, h₁)); later
    layers keep W_l (in, out) and the bias as a (1, out) row, as the cell ``w2 = randn(2, 1);
    b2 = randn(1, 1)`` does.  A single-layer net is just ``(w1,)`` with w1 of shape (n + 1, 1).
    """
    params = check_params(params)
    first = np.vstack([params[0], params[1][None, :]])
    rest: list[np.ndarray] = []
    for W, b in zip(params[2::2], params[3::2]):
        rest += [W.copy(), b[None, :].copy()]
    return (first, *rest)


def from_notebook_raw(raw: tuple[np.ndarray, ...]) -> Params:
    """Inverse of :func:`to_notebook_raw`: exact, only slicing and reshaping."""
    if not isinstance(raw, (tuple, list)) or len(raw) % 2 != 1:
        raise ValueError("raw: expected (w1, w2, b2, …) with an odd number of arrays")
    w1 = _validate.float_array("raw[0]", raw[0], 2)
    out: list[np.ndarray] = [w1[:-1].copy(), w1[-1].copy()]
    for i in range(1, len(raw), 2):
        W = _validate.float_array(f"raw[{i}]", raw[i], 2)
        b = _validate.float_array(f"raw[{i + 1}]", raw[i + 1], 2, (1, W.shape[1]))
        out += [W.copy(), b[0].copy()]
    return check_params(tuple(out))


def to_torch(params: Params) -> Params:
    """torch.nn.Linear layout: weight (out, in) = W_lᵀ, bias (out,) — exact (a transpose)."""
    params = check_params(params)
    return tuple(np.ascontiguousarray(p.T) if p.ndim == 2 else p.copy() for p in params)


def from_torch(torch_params: Params) -> Params:
    """Inverse of :func:`to_torch`."""
    if not isinstance(torch_params, (tuple, list)):
        raise ValueError("torch_params: expected a sequence (weight₁, bias₁, …)")
    return check_params(tuple(np.ascontiguousarray(p.T) if p.ndim == 2 else p.copy() for p in torch_params))


# ----------------------------------------------------------------------------- forward / backward


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, p): logits z = h_{L−1} W_L + b_L and probabilities p = σ(z), each of shape (N,)."""
    params, X = _check(params, X)
    z = _activations(params, X)[-1]
    return z, sigmoid(z)


def loss(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """l = Σ_i softplus(z_i) − y_i z_i (summed BCE with logits)."""
    return loss_and_grads(params, X, y)[0]


def loss_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """l and (∂l/∂W₁, ∂l/∂b₁, …) in the canonical layout, by the backprop in the module docstring."""
    params, X = _check(params, X)
    y = _validate.labels("y", y, X.shape[0])
    return _loss_and_grads(params, X, y)


def _activations(params: Params, X: np.ndarray) -> list[np.ndarray]:
    """[h₀ = X, h₁, …, h_{L−1}, z]: every layer's output, z flattened to (N,)."""
    hs = [X]
    n_layers = len(params) // 2
    for layer in range(n_layers):
        a = hs[-1] @ params[2 * layer] + params[2 * layer + 1]
        hs.append(sigmoid(a) if layer < n_layers - 1 else a[:, 0])
    return hs


def _loss_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    hs = _activations(params, X)
    z = hs[-1]
    delta = (sigmoid(z) - y)[:, None]  # δ_L, (N, 1)
    grads: list[np.ndarray] = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        h_prev = hs[layer]
        grads += [np.sum(delta, axis=0), h_prev.T @ delta]  # reversed below: (dW, db) per layer
        if layer:
            delta = (delta @ params[2 * layer].T) * h_prev * (1.0 - h_prev)
    return float(np.sum(bce_with_logits(z, y))), tuple(reversed(grads))


# ----------------------------------------------------------------------------- optimisers


@dataclass(frozen=True)
class SGD:
    """θ ← θ − η ∇l(θ).  η = 0 is allowed: it must leave θ exactly as it is (a metamorphic check)."""

    lr: float = 0.5

    def __post_init__(self) -> None:
        _validate.non_negative("lr", self.lr)

    @property
    def id(self) -> str:
        return f"sgd-{self.lr:g}"


@dataclass(frozen=True)
class Adam:
    """Adam exactly as torch.optim.Adam (amsgrad=False, weight_decay=0, maximize=False) defines it.

    For step t = 1, 2, …:
        m ← β₁ m + (1−β₁) g,   v ← β₂ v + (1−β₂) g²
        θ ← θ − (η / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)

    ε is added *after* the bias correction of √v (Keras adds it before, to √v, and so differs).
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        _validate.non_negative("lr", self.lr)  # 0: θ stays exactly as it is
        _validate.positive("eps", self.eps)
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1), got {_validate.shown(value)!r}")

    @property
    def id(self) -> str:
        return f"adam-{self.lr:g}"


@dataclass(frozen=True, eq=False)
class AdamState:
    """Moments m, v (canonical layout) after ``step`` updates."""

    step: int
    m: Params
    v: Params


def adam_init(params: Params) -> AdamState:
    """t = 0, m = v = 0."""
    return AdamState(0, tuple(np.zeros_like(p) for p in params), tuple(np.zeros_like(p) for p in params))


def sgd_update(params: Params, grads: Params, opt: SGD) -> Params:
    """θ ← θ − η g for every parameter."""
    return tuple(p - opt.lr * g for p, g in zip(params, grads))


def adam_update(params: Params, grads: Params, state: AdamState, opt: Adam) -> tuple[Params, AdamState]:
    """One Adam update as :class:`Adam` defines it; returns the new parameters and state."""
    t = state.step + 1
    m = tuple(opt.beta1 * mi + (1 - opt.beta1) * g for mi, g in zip(state.m, grads))
    v = tuple(opt.beta2 * vi + (1 - opt.beta2) * g * g for vi, g in zip(state.v, grads))
    step_size = opt.lr / (1 - opt.beta1**t)
    bc2_sqrt = np.sqrt(1 - opt.beta2**t)
    new = tuple(p - step_size * mi / (np.sqrt(vi) / bc2_sqrt + opt.eps) for p, mi, vi in zip(params, m, v))
    return new, AdamState(t, m, v)


# ----------------------------------------------------------------------------- training


def train(params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int) -> MLPTrajectory:
    """``steps`` full-batch updates with ``optimizer`` from ``params``, loss computed every step."""
    params, X = _check(params, X)
    y = _validate.labels("y", y, X.shape[0])
    steps = _validate.count("steps", steps)
    if not isinstance(optimizer, (SGD, Adam)):
        raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
    trajectory = [np.empty((steps + 1, *p.shape)) for p in params]
    losses = np.empty(steps)
    state = adam_init(params)
    for k, p in enumerate(params):
        trajectory[k][0] = p
    for t in range(steps):
        losses[t], grads = _loss_and_grads(params, X, y)
        if isinstance(optimizer, SGD):
            params = sgd_update(params, grads, optimizer)
        else:
            params, state = adam_update(params, grads, state, optimizer)
        for k, p in enumerate(params):
            trajectory[k][t + 1] = p
    return MLPTrajectory(tuple(trajectory), losses)


def _check(params: Params, X: np.ndarray) -> tuple[Params, np.ndarray]:
    X = _validate.float_array("X", X, 2)
    return check_params(params, X.shape[1]), X


__all__ = [
    "SGD",
    "Adam",
    "AdamState",
    "MLPTrajectory",
    "Params",
    "adam_init",
    "adam_update",
    "check_params",
    "forward",
    "from_folded",
    "from_notebook_raw",
    "from_torch",
    "layer_sizes",
    "loss",
    "loss_and_grads",
    "sgd_update",
    "to_folded",
    "to_notebook_raw",
    "to_torch",
    "train",
]
