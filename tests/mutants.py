"""Deliberately wrong implementations: the numpy one with ONE planted bug each, to prove every check bites.

Each mutant subclasses :class:`~gatespec.conformance.adapters.numpy_impl.NumpyImplementation`
(whose gradients are class-level hooks, so most bugs replace one hook) and carries its own
``name``, which the failure message must show.  ``tests/test_planted_bugs.py`` runs the
conformance check meant for each mutant against it and demands a failure.

============================  ======================================================================
mutant                        check meant to catch it (the planted bug: the mutant's ``# BUG`` line)
============================  ======================================================================
mutant-heaviside-one-at-zero  test_threshold_predictions_are_exact
mutant-perceptron-no-eta      test_perceptron_batch_step_is_exact
mutant-online-skips-last      test_perceptron_online_trajectory_is_exact
mutant-perceptron-always      test_perceptron_learns_exactly_the_separable_gates
mutant-sigmoid-tanh           test_mlp_forward_matches_reference
mutant-weight-transposed      test_mlp_forward_matches_reference
mutant-bias-grad-dropped      test_mlp_loss_and_gradients_match_reference
mutant-float16-accumulation   test_mlp_loss_and_gradients_match_reference
mutant-logistic-mean-loss     test_logistic_loss_and_gradient_match_reference
mutant-label-flipped          test_logistic_loss_and_gradient_match_reference
mutant-mlp-no-sigmoid-prime   test_mlp_autodiff_matches_finite_differences_of_its_own_loss
mutant-logistic-grad-sign     test_logistic_autodiff_matches_finite_differences_of_its_own_loss
mutant-gd-mean-step           test_logistic_one_gradient_descent_step
mutant-sgd-mean-step          test_mlp_one_sgd_step
mutant-history-initial        test_mlp_one_sgd_step
mutant-adam-no-bias-corr      test_mlp_one_adam_step
mutant-gd-hoisted-grad        test_logistic_gradient_descent_trajectory
mutant-grad-not-zeroed        test_logistic_gradient_descent_trajectory
mutant-sgd-momentum           test_mlp_sgd_trajectory
mutant-stale-activations      test_mlp_sgd_trajectory
mutant-gd-frozen-bias         test_logistic_regression_learns_separable_gates
mutant-mlp-frozen-hidden      test_mlp_learns_its_gate
mutant-logistic-naive-bce     test_logistic_loss_and_gradient_survive_saturation
mutant-mlp-naive-bce          test_mlp_loss_and_gradients_survive_saturation
mutant-single-example-tanh    test_single_example_loss_matches_reference
============================  ======================================================================

``test_reference_gradients_match_finite_differences`` has no implementation (it checks the
reference against central differences); its planted bug is :func:`reference_backprop_without_sigmoid_prime`,
patched into the reference by the test.  ``Control`` is the unmutated implementation under
another name: it must pass everything, so the failures above come from the bugs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gatespec.conformance.adapters import numpy_impl as base
from gatespec.conformance.interface import MLPTrajectory, Target, Trajectory
from gatespec.reference.mlp import SGD, Adam, Params

Numpy = base.NumpyImplementation
# (step t ≥ 1, params, grads, optimiser state) -> (params, state)
Update = Callable[[int, Params, Params, object], tuple[Params, object]]


def _cast(target: Target, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a, dtype=target.np_dtype) for a in arrays)


def _train(impl: Numpy, params: Params, X: np.ndarray, y: np.ndarray, steps: int, target: Target, update: Update):
    """The numpy training loop with a replaceable update rule, for the optimiser mutants."""
    params, (X, y) = _cast(target, *params), _cast(target, X, y)
    history, losses, state = [params], [], None
    for t in range(1, steps + 1):
        loss, grads = impl._mlp_loss_and_grads(params, X, y)
        params, state = update(t, params, grads, state)
        history.append(params)
        losses.append(loss)
    return MLPTrajectory(tuple(np.stack(p) for p in zip(*history)), np.stack(losses))


class Control(Numpy):
    """No bug: the numpy implementation under another name."""

    name = "control"


# ----------------------------------------------------------------------------- threshold logic unit


class HeavisideOneAtZero(Numpy):
    name = "mutant-heaviside-one-at-zero"

    def tlu_predict(self, Xb, w, target):
        Xb, w = _cast(target, Xb, w)
        return np.heaviside(Xb @ w, 1)  # BUG: g(0) = 1


class PerceptronIgnoresEta(Numpy):
    name = "mutant-perceptron-no-eta"

    def perceptron_step(self, Xb, y, w, eta, target):
        return super().perceptron_step(Xb, y, w, 1.0, target)  # BUG: η dropped


class OnlineSkipsLast(Numpy):
    name = "mutant-online-skips-last"

    def perceptron_online(self, Xb, y, w0, eta, order, target):
        weights = super().perceptron_online(Xb, y, w0, eta, order[:-1], target)  # BUG: range(len(order) - 1)
        return np.concatenate([weights, weights[-1:]])


class PerceptronAlwaysUpdates(Numpy):
    name = "mutant-perceptron-always"

    def perceptron_online(self, Xb, y, w0, eta, order, target):
        Xb, y, w = _cast(target, Xb, y, w0)
        history = [w]
        for i in order:
            w = w + eta * (2 * y[i] - 1) * Xb[i]  # BUG: the ±1 rule without its "if misclassified"
            history.append(w)
        return np.stack(history)


# ----------------------------------------------------------------------------- forward, loss, gradients


def _tanh_sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(z) + 1)  # BUG: that is σ(2z); σ(z) = 0.5·(tanh(z/2) + 1)


class SigmoidTanh(Numpy):
    name = "mutant-sigmoid-tanh"

    @staticmethod
    def _mlp_forward(params, X):
        z, _ = base._mlp_forward(params, X)
        return z, _tanh_sigmoid(z)


class WeightTransposed(Numpy):
    """Written torch-style: ``nn.Linear`` keeps its weight (out, in) and computes x·weightᵀ + bias.

    On xor-2-2-1's square hidden layer the reshape leaves W₁ as it is, so the forward pass uses
    W₁ᵀ: visible because W₁ (standard normal, seed 0) is not symmetric.  On 3-8-1 it scrambles
    W₁; on a one-unit output layer reshape and transpose agree, so W₂ is right.
    """

    name = "mutant-weight-transposed"

    @staticmethod
    def _mlp_forward(params, X):
        torch_layout = tuple(p.reshape(p.shape[::-1]) if p.ndim == 2 else p for p in params)  # BUG: reshape, not .T
        h = X
        for W, b in zip(torch_layout[0:-2:2], torch_layout[1:-2:2]):
            h = base._sigmoid(h @ W.T + b)
        z = (h @ torch_layout[-2].T + torch_layout[-1])[:, 0]
        return z, base._sigmoid(z)


class BiasGradDropped(Numpy):
    name = "mutant-bias-grad-dropped"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        loss, grads = base._mlp_loss_and_grads(params, X, y)
        return loss, tuple(np.zeros_like(g) if k % 2 else g for k, g in enumerate(grads))  # BUG: db = 0


class Float16Accumulation(Numpy):
    name = "mutant-float16-accumulation"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        z = base._forward(params, X)[1]
        # BUG: the rows' losses summed in a half-precision accumulator (ε = 2⁻¹⁰), as under a float16 autocast
        loss = np.sum(np.logaddexp(0, z) - y * z, dtype=np.float16).astype(z.dtype)
        return np.asarray(loss), base._mlp_loss_and_grads(params, X, y)[1]


class LogisticMeanLoss(Numpy):
    name = "mutant-logistic-mean-loss"

    @staticmethod
    def _logistic_loss_and_grad(Xb, y, w):
        loss, grad = base._logistic_loss_and_grad(Xb, y, w)
        return loss / len(y), grad / len(y)  # BUG: mean, the spec sums


class LabelFlipped(Numpy):
    name = "mutant-label-flipped"

    @staticmethod
    def _logistic_loss_and_grad(Xb, y, w):
        y = np.concatenate([1 - y[:1], y[1:]])  # BUG: the first row's label inverted, as in a truth table typed by hand
        return base._logistic_loss_and_grad(Xb, y, w)


class MLPNoSigmoidPrime(Numpy):
    name = "mutant-mlp-no-sigmoid-prime"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        hs, z = base._forward(params, X)
        delta = (base._sigmoid(z) - y)[:, None]
        grads: list[np.ndarray] = []
        for layer in range(len(params) // 2 - 1, -1, -1):
            grads = [hs[layer].T @ delta, delta.sum(axis=0), *grads]
            delta = delta @ params[2 * layer].T  # BUG: missing * h * (1 − h)
        return np.asarray(np.sum(np.logaddexp(0, z) - y * z)), tuple(grads)


class LogisticGradSign(Numpy):
    name = "mutant-logistic-grad-sign"

    @staticmethod
    def _logistic_loss_and_grad(Xb, y, w):
        z = Xb @ w
        return np.sum(np.logaddexp(0, z) - y * z), (y - base._sigmoid(z)) @ Xb  # BUG: σ − y reversed


# ----------------------------------------------------------------------------- training


class GDMeanStep(Numpy):
    name = "mutant-gd-mean-step"

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        return super().logistic_train(Xb, y, w0, eta / len(y), steps, target)  # BUG: η/N


class SGDMeanStep(Numpy):
    name = "mutant-sgd-mean-step"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, SGD):
            optimizer = SGD(optimizer.lr / len(y))  # BUG: lr/N
        return super().mlp_train(params, X, y, optimizer, steps, target)


class HistoryInitial(Numpy):
    name = "mutant-history-initial"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, SGD):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        params, (X, y) = _cast(target, *params), _cast(target, X, y)
        theta, history, losses = params, [params], []
        for _ in range(steps):
            loss, grads = self._mlp_loss_and_grads(theta, X, y)
            theta = tuple(p - optimizer.lr * g for p, g in zip(theta, grads))
            history.append(params)  # BUG: the argument, the initial parameters, not the updated theta
            losses.append(loss)
        return MLPTrajectory(tuple(np.stack(p) for p in zip(*history)), np.stack(losses))


class AdamNoBiasCorrection(Numpy):
    name = "mutant-adam-no-bias-corr"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        b1, b2 = optimizer.beta1, optimizer.beta2

        def update(t, params, grads, state):
            m, v = state or ([0.0] * len(grads), [0.0] * len(grads))
            m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
            v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
            # BUG: m/(1 − β₁ᵗ) and v/(1 − β₂ᵗ) left out
            params = tuple(p - optimizer.lr * mi / (np.sqrt(vi) + optimizer.eps) for p, mi, vi in zip(params, m, v))
            return params, (m, v)

        return _train(self, params, X, y, steps, target, update)


class GDHoistedGradient(Numpy):
    name = "mutant-gd-hoisted-grad"

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        Xb, y, w = _cast(target, Xb, y, w0)
        _, grad = self._logistic_loss_and_grad(Xb, y, w)  # BUG: hoisted out of the loop
        weights, losses = [w], []
        for _ in range(steps):
            losses.append(self._logistic_loss_and_grad(Xb, y, w)[0])
            w = w - eta * grad
            weights.append(w)
        return Trajectory(np.stack(weights), np.stack(losses))


class GradNotZeroed(Numpy):
    """Written as a torch user writes it: ``loss.backward()`` adds into ``w.grad``, which must be zeroed each step."""

    name = "mutant-grad-not-zeroed"

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        Xb, y, w = _cast(target, Xb, y, w0)
        w_grad = np.zeros_like(w)
        weights, losses = [w], []
        for _ in range(steps):
            loss, grad = self._logistic_loss_and_grad(Xb, y, w)
            w_grad = w_grad + grad  # BUG: backward() accumulates and no w.grad.zero_() follows the step
            w = w - eta * w_grad
            weights.append(w)
            losses.append(loss)
        return Trajectory(np.stack(weights), np.stack(losses))


class SGDMomentum(Numpy):
    name = "mutant-sgd-momentum"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, SGD):
            return super().mlp_train(params, X, y, optimizer, steps, target)

        def update(t, params, grads, velocity):
            # BUG: momentum 0.9 (torch.optim.SGD's buffer starts at the first gradient, so step 1 is exact)
            velocity = grads if velocity is None else tuple(0.9 * v + g for v, g in zip(velocity, grads))
            return tuple(p - optimizer.lr * v for p, v in zip(params, velocity)), velocity

        return _train(self, params, X, y, steps, target, update)


def _backprop(params: Params, hs: list[np.ndarray], z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Params]:
    """The numpy backward pass from given activations ``hs`` = [X, h₁, …] and logits ``z``."""
    delta = (base._sigmoid(z) - y)[:, None]
    grads: list[np.ndarray] = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = hs[layer]
        grads = [h.T @ delta, delta.sum(axis=0), *grads]
        if layer:
            delta = (delta @ params[2 * layer].T) * h * (1 - h)
    return np.asarray(np.sum(np.logaddexp(0, z) - y * z)), tuple(grads)


class StaleActivations(Numpy):
    """A net that caches its hidden activations on the object, and a loop that reads the cache too early."""

    name = "mutant-stale-activations"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        cache: list[list[np.ndarray]] = []

        def loss_and_grads(params, X, y):
            hs, z = base._forward(params, X)
            stale = cache[-1] if cache else hs  # BUG: backprop reads the activations of the previous step's forward
            cache.append(hs)
            return _backprop(params, stale, z, y)

        params, (X, y) = _cast(target, *params), _cast(target, X, y)
        return base._mlp_train(params, X, y, optimizer, steps, loss_and_grads=loss_and_grads)


class GDFrozenBias(Numpy):
    name = "mutant-gd-frozen-bias"

    @staticmethod
    def _logistic_loss_and_grad(Xb, y, w):
        loss, grad = base._logistic_loss_and_grad(Xb, y, w)
        return loss, np.concatenate([grad[:-1], np.zeros_like(grad[-1:])])  # BUG: bias weight never updated


class MLPFrozenHidden(Numpy):
    name = "mutant-mlp-frozen-hidden"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        def update(t, params, grads, state):
            # BUG: the optimiser was given only the output layer's parameters
            hidden = len(params) - 2
            return (*params[:hidden], *(p - optimizer.lr * g for p, g in zip(params[hidden:], grads[hidden:]))), state

        return _train(self, params, X, y, steps, target, update)


# ----------------------------------------------------------------------------- saturation


def _naive_bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    # BUG: log of a probability that has rounded to 0 or 1 (inf, and inf·0 = nan), not softplus of the logit
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(-y * np.log(p) - (1 - y) * np.log(1 - p))


class LogisticNaiveBCE(Numpy):
    name = "mutant-logistic-naive-bce"

    @staticmethod
    def _logistic_loss_and_grad(Xb, y, w):
        z = Xb @ w
        return _naive_bce(base._sigmoid(z), y), base._logistic_loss_and_grad(Xb, y, w)[1]


class MLPNaiveBCE(Numpy):
    name = "mutant-mlp-naive-bce"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        p = base._mlp_forward(params, X)[1]
        return np.asarray(_naive_bce(p, y)), base._mlp_loss_and_grads(params, X, y)[1]


class SingleExampleTanh(Numpy):
    name = "mutant-single-example-tanh"

    @staticmethod
    def _single_example(x, w):
        y_pred = _tanh_sigmoid(np.dot(x, w))
        with np.errstate(divide="ignore"):
            return np.asarray(-np.log(y_pred)), -(1 - y_pred) * x


# ----------------------------------------------------------------------------- the reference itself


def reference_backprop_without_sigmoid_prime(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """A stand-in for the reference's ``mlp._loss_and_grads`` with σ' forgotten, for patching into the reference."""
    loss, grads = MLPNoSigmoidPrime._mlp_loss_and_grads(params, X, y)
    return float(loss), grads
