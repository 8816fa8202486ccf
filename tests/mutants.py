"""Deliberately wrong implementations: the numpy one with ONE planted bug each, to prove every check bites.

Each mutant subclasses :class:`~gatespec.conformance.adapters.numpy_impl.NumpyImplementation`
(whose gradients are class-level hooks, so most bugs replace one hook) and carries its own
``name``, which the failure message must show.  ``tests/test_planted_bugs.py`` runs the
conformance check meant for each mutant against it and demands a failure.

================================  ======================================================================
mutant                            check meant to catch it (the planted bug: the mutant's ``# BUG`` line)
================================  ======================================================================
mutant-heaviside-one-at-zero      test_threshold_predictions_are_exact
mutant-perceptron-no-eta          test_perceptron_batch_step_is_exact
mutant-online-skips-last          test_perceptron_online_trajectory_is_exact
mutant-perceptron-always          test_perceptron_learns_exactly_the_separable_gates
mutant-sigmoid-tanh               test_mlp_forward_matches_reference
mutant-weight-transposed          test_mlp_forward_matches_reference
mutant-bias-grad-dropped          test_mlp_loss_and_gradients_match_reference
mutant-float16-accumulation       test_mlp_loss_and_gradients_match_reference
mutant-logistic-mean-loss         test_logistic_loss_and_gradient_match_reference
mutant-label-flipped              test_logistic_loss_and_gradient_match_reference
mutant-mlp-no-sigmoid-prime       test_mlp_autodiff_matches_finite_differences_of_its_own_loss
mutant-logistic-grad-sign         test_logistic_autodiff_matches_finite_differences_of_its_own_loss
mutant-gd-mean-step               test_logistic_one_gradient_descent_step
mutant-sgd-mean-step              test_mlp_one_sgd_step
mutant-history-initial            test_mlp_one_sgd_step
mutant-adam-no-bias-corr          test_mlp_one_adam_step
mutant-gd-hoisted-grad            test_logistic_gradient_descent_trajectory
mutant-grad-not-zeroed            test_logistic_gradient_descent_trajectory
mutant-sgd-momentum               test_mlp_sgd_trajectory
mutant-stale-activations          test_mlp_sgd_trajectory
mutant-gd-frozen-bias             test_logistic_regression_learns_separable_gates
mutant-mlp-frozen-hidden          test_mlp_learns_its_gate
mutant-logistic-naive-bce         test_logistic_loss_and_gradient_survive_saturation
mutant-mlp-naive-bce              test_mlp_loss_and_gradients_survive_saturation
mutant-single-example-tanh        test_single_example_loss_matches_reference
mutant-hidden-loop-once           test_mlp_forward_matches_reference
mutant-deep-linear-hidden         test_mlp_forward_matches_reference
mutant-backprop-two-layers        test_mlp_loss_and_gradients_match_reference
mutant-backprop-reshaped-weight   test_hidden_units_permuted
mutant-grad-weight-reshaped       test_hidden_units_permuted
mutant-sgd-lr-ignored             test_mlp_one_sgd_step
mutant-sgd-lr-float32             test_mlp_one_sgd_step
mutant-logistic-eta-ignored       test_logistic_one_gradient_descent_step
mutant-adam-beta1-default         test_mlp_adam_trajectory
mutant-adam-beta2-default         test_mlp_adam_trajectory
mutant-adam-eps-default           test_mlp_adam_trajectory
mutant-sgd-zero-lr-default        test_zero_step_size_leaves_parameters_unchanged
mutant-logistic-zero-eta-default  test_zero_step_size_leaves_parameters_unchanged
mutant-adam-step-frozen           test_mlp_adam_trajectory
mutant-adam-recreated             test_mlp_adam_trajectory
mutant-adam-m-not-decayed         test_mlp_adam_trajectory
mutant-adam-v-not-decayed         test_mlp_adam_trajectory
mutant-mlp-grad-not-zeroed        test_steps_equal_single_steps_chained
mutant-model-built-once           test_steps_equal_single_steps_chained
mutant-mlp-mean-reduction         test_rows_permuted_or_duplicated
mutant-mlp-skips-last-row         test_rows_permuted_or_duplicated
mutant-sigmoid-exp-ratio          test_mlp_loss_and_gradients_survive_saturation
mutant-softplus-log-1-plus-exp    test_mlp_loss_and_gradients_survive_saturation
mutant-softplus-clipped-88        test_mlp_loss_and_gradients_survive_saturation
mutant-reseeds-global-rng         test_mlp_one_sgd_step (the plugin's global-state check)
mutant-prepared-adam-state        test_native_op_repeats_its_first_run
mutant-float64-in-float32         test_float32_run_is_float32_arithmetic
mutant-inputs-rounded-to-float32  test_mlp_forward_matches_reference (inputs not 0/1)
mutant-adam-beta2-clamped         test_mlp_adam_trajectory (β near 1)
mutant-adam-state-kept            test_repeated_run_repeats_the_trajectory
================================  ======================================================================

The mutants from ``mutant-hidden-loop-once`` on are aimed at the generated cases
(``conformance/spec/generated.py``: 3–4 weight layers, step sizes ≠ 0.5, Adam's β₁, β₂ and ε varied
over 25 steps, |z| ≥ 1000) and the checks that need no reference (η = 0, rows permuted or
duplicated, hidden units permuted, k steps against k chained single steps): all but the
gradient-reshape, grad-not-zeroed, mean-reduction and skips-last-row ones pass every check on
the notebook's own cases.  Each declares no batched training (:class:`SingleNet`), so the
checks reach it through ``mlp_train``, one net at a time.

``test_reference_gradients_match_finite_differences`` has no implementation (it checks the
reference against central differences); its planted bug is :func:`reference_backprop_without_sigmoid_prime`,
patched into the reference by the test.  ``Control`` is the unmutated implementation under
another name: it must pass everything, so the failures above come from the bugs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gatespec.conformance.adapters.numpy_impl import handwritten as base
from gatespec.conformance.spec.interface import Capability, MLPTrajectory, NativeOp, Target, Trajectory
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


# ----------------------------------------------------------------------------- the generated cases' mutants
#
# Slips the notebook's cases cannot see (two weight layers, η = 0.5, one Adam step at default β,
# |z| ≤ 62) and the generated cases and reference-free checks can.  None declares batched
# training, so every check reaches the bug through mlp_train, one net at a time.


class SingleNet:
    """Mixin: the numpy implementation's capabilities without MLP_TRAIN_BATCHED (the bug is on the single-net path)."""

    capabilities = Numpy.capabilities - {Capability.MLP_TRAIN_BATCHED}
    unsupported_reasons = {Capability.MLP_TRAIN_BATCHED: "a planted bug on the single-net path (mlp_train) only"}


def _zeros(params: Params) -> Params:
    return tuple(np.zeros_like(p) for p in params)


def _loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(np.logaddexp(0, z) - y * z))


# ---- deeper nets: right for the notebook's two weight layers, wrong from three on


class HiddenLoopOnce(SingleNet, Numpy):
    """The hidden loop runs once: right for one or two weight layers, deeper nets skip their later hidden layers.

    Where the first hidden width differs from the last, the output layer's matmul raises; where they agree (some
    generated nets, e.g. 3-3-3-1) the logits are silently those of a shallower net, and the forward check says so.
    """

    name = "mutant-hidden-loop-once"

    @staticmethod
    def _mlp_forward(params, X):
        h = X
        for W, b in zip(params[0:-2:2], params[1:2:2]):  # BUG: [1:2:2], a typo for [1:-2:2]: zip stops after one
            h = base._sigmoid(h @ W + b)
        z = (h @ params[-2] + params[-1])[:, 0]
        return z, base._sigmoid(z)


class LinearDeepHidden(SingleNet, Numpy):
    """The notebook's one-hidden-layer forward pass, extended to deeper nets by copying its output line."""

    name = "mutant-deep-linear-hidden"

    @staticmethod
    def _mlp_forward(params, X):
        h = base._sigmoid(X @ params[0] + params[1]) if len(params) > 2 else X
        for W, b in zip(params[2:-2:2], params[3:-2:2]):
            h = h @ W + b  # BUG: no σ after hidden layers 2, 3, … (only the first hidden layer is squashed)
        z = (h @ params[-2] + params[-1])[:, 0]
        return z, base._sigmoid(z)


class BackpropTwoLayers(SingleNet, Numpy):
    """dW₂ and dW₁ as the notebook derives them; a deeper net's lower layers never get their gradient."""

    name = "mutant-backprop-two-layers"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        hs, z = base._forward(params, X)
        delta = (base._sigmoid(z) - y)[:, None]
        grads, n_layers = list(_zeros(params)), len(params) // 2
        for layer in range(n_layers - 1, max(n_layers - 3, -1), -1):  # BUG: the top two layers only, dW₂ and dW₁
            h = hs[layer]
            grads[2 * layer], grads[2 * layer + 1] = h.T @ delta, delta.sum(axis=0)
            if layer:
                delta = (delta @ params[2 * layer].T) * h * (1 - h)
        return _loss(z, y), tuple(grads)


class BackpropReshapedWeight(SingleNet, Numpy):
    """δ sent down through W in torch's (out, in) layout, made by reshape: right for a one-column W, the output layer's.

    So right for every net of two weight layers; from three on, a hidden W (in ≠ out, or square) is scrambled.
    """

    name = "mutant-backprop-reshaped-weight"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        hs, z = base._forward(params, X)
        delta = (base._sigmoid(z) - y)[:, None]
        grads: list[np.ndarray] = []
        for layer in range(len(params) // 2 - 1, -1, -1):
            h, W = hs[layer], params[2 * layer]
            grads = [h.T @ delta, delta.sum(axis=0), *grads]
            if layer:
                delta = (delta @ W.reshape(W.shape[::-1])) * h * (1 - h)  # BUG: W.reshape(out, in), not W.T
        return _loss(z, y), tuple(grads)


# ---- hidden units mixed up


class GradWeightReshaped(SingleNet, Numpy):
    """Backprop written torch-style, ∂l/∂W = δᵀh in (out, in), handed back in the canonical (in, out) by reshape."""

    name = "mutant-grad-weight-reshaped"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        loss, grads = base._mlp_loss_and_grads(params, X, y)
        return loss, tuple(g.T.reshape(g.shape) if g.ndim == 2 else g for g in grads)  # BUG: reshape, not .T


# ---- hyperparameters ignored or rounded


class SGDLrIgnored(SingleNet, Numpy):
    name = "mutant-sgd-lr-ignored"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, SGD):
            optimizer = SGD(0.5)  # BUG: the notebook's lr = 0.5 hard-coded, optimizer.lr never read
        return super().mlp_train(params, X, y, optimizer, steps, target)


class SGDLrFloat32(SingleNet, Numpy):
    name = "mutant-sgd-lr-float32"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, SGD):
            optimizer = SGD(float(np.float32(optimizer.lr)))  # BUG: lr held as torch.tensor(lr), float32, in any run
        return super().mlp_train(params, X, y, optimizer, steps, target)


class LogisticEtaIgnored(SingleNet, Numpy):
    name = "mutant-logistic-eta-ignored"

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        return super().logistic_train(Xb, y, w0, 1.0, steps, target)  # BUG: w -= grad, as cell 58 (eta = 0.5 unused)


class AdamBeta1Default(SingleNet, Numpy):
    name = "mutant-adam-beta1-default"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, Adam):
            optimizer = Adam(optimizer.lr, 0.9, optimizer.beta2, optimizer.eps)  # BUG: betas=(0.9, β₂): β₁ dropped
        return super().mlp_train(params, X, y, optimizer, steps, target)


class AdamBeta2Default(SingleNet, Numpy):
    name = "mutant-adam-beta2-default"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, Adam):
            optimizer = Adam(optimizer.lr, optimizer.beta1, 0.999, optimizer.eps)  # BUG: betas=(β₁, 0.999): β₂ dropped
        return super().mlp_train(params, X, y, optimizer, steps, target)


class AdamEpsDefault(SingleNet, Numpy):
    name = "mutant-adam-eps-default"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, Adam):
            optimizer = Adam(optimizer.lr, optimizer.beta1, optimizer.beta2)  # BUG: eps not passed on: torch's 1e-8
        return super().mlp_train(params, X, y, optimizer, steps, target)


# ---- a zero step size taken for "not given"


class SGDZeroLrDefault(SingleNet, Numpy):
    name = "mutant-sgd-zero-lr-default"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, SGD):
            optimizer = SGD(optimizer.lr or 0.5)  # BUG: `lr or 0.5`: lr = 0 is falsy, so it trains at the default
        return super().mlp_train(params, X, y, optimizer, steps, target)


class LogisticZeroEtaDefault(SingleNet, Numpy):
    name = "mutant-logistic-zero-eta-default"

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        return super().logistic_train(Xb, y, w0, eta or 1.0, steps, target)  # BUG: `eta or 1.0`: η = 0 is falsy


# ---- optimiser state across steps


def _adam_apply(opt: Adam, t: int, params: Params, m: Params, v: Params) -> Params:
    """θ − (lr/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε) from step t's moments: numpy_impl._adam_update's last line."""
    step_size, bc2_sqrt = opt.lr / (1 - opt.beta1**t), math.sqrt(1 - opt.beta2**t)
    return tuple(p - step_size * mi / (np.sqrt(vi) / bc2_sqrt + opt.eps) for p, mi, vi in zip(params, m, v))


class AdamStepFrozen(SingleNet, Numpy):
    name = "mutant-adam-step-frozen"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)

        def update(t, params, grads, state):
            m, v = state or (_zeros(grads), _zeros(grads))
            params, m, v = base._adam_update(optimizer, 1, params, grads, m, v)  # BUG: self.t = 1, never incremented
            return params, (m, v)

        return _train(self, params, X, y, steps, target, update)


class AdamRecreatedEachStep(SingleNet, Numpy):
    name = "mutant-adam-recreated"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)

        def update(t, params, grads, state):
            # BUG: torch.optim.Adam(...) constructed inside the loop: every step is its first (t = 1, m = v = 0)
            params, _, _ = base._adam_update(optimizer, 1, params, grads, _zeros(grads), _zeros(grads))
            return params, state

        return _train(self, params, X, y, steps, target, update)


class AdamMNotDecayed(SingleNet, Numpy):
    name = "mutant-adam-m-not-decayed"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        b1, b2 = optimizer.beta1, optimizer.beta2

        def update(t, params, grads, state):
            m, v = state or (_zeros(grads), _zeros(grads))
            m = tuple(mi + (1 - b1) * g for mi, g in zip(m, grads))  # BUG: m += (1 − β₁)g, the β₁·m decay left out
            v = tuple(b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads))
            return _adam_apply(optimizer, t, params, m, v), (m, v)

        return _train(self, params, X, y, steps, target, update)


class AdamVNotDecayed(SingleNet, Numpy):
    name = "mutant-adam-v-not-decayed"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        b1, b2 = optimizer.beta1, optimizer.beta2

        def update(t, params, grads, state):
            m, v = state or (_zeros(grads), _zeros(grads))
            m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads))
            v = tuple(vi + (1 - b2) * g * g for vi, g in zip(v, grads))  # BUG: v += (1 − β₂)g², the β₂·v decay left out
            return _adam_apply(optimizer, t, params, m, v), (m, v)

        return _train(self, params, X, y, steps, target, update)


# ---- state carried between steps or between calls


class MLPGradNotZeroed(SingleNet, Numpy):
    """The MLP loop as a torch user writes it: ``loss.backward()`` adds into ``.grad``; no ``zero_grad()`` follows."""

    name = "mutant-mlp-grad-not-zeroed"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, SGD):
            return super().mlp_train(params, X, y, optimizer, steps, target)

        def update(t, params, grads, accumulated):
            accumulated = grads if accumulated is None else tuple(a + g for a, g in zip(accumulated, grads))  # BUG
            return tuple(p - optimizer.lr * a for p, a in zip(params, accumulated)), accumulated

        return _train(self, params, X, y, steps, target, update)


class ModelBuiltOnce(SingleNet, Numpy):
    """A model object kept on the implementation and rebuilt only when the architecture changes.

    A call on a net of the same shapes and dtype as the last call's trains on from where that call
    ended, ignoring the parameters it was given: the notebook's model trained further by re-running a cell.
    """

    name = "mutant-model-built-once"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        key = (tuple(np.shape(p) for p in params), target)
        if self.__dict__.get("_built") != key:  # BUG: the given θ is loaded only when the architecture changes
            self._built, self._theta = key, tuple(params)
        run = super().mlp_train(self._theta, X, y, optimizer, steps, target)
        self._theta = run.final
        return run


class AdamStateKeptWithModel(SingleNet, Numpy):
    """The torch pattern of a model kept on the implementation, with its optimizer beside it.

    Model and optimizer are built when the architecture, dtype or hyperparameters change, and the
    given θ is loaded into the model on every call; but the optimizer's step count and moments carry
    over into the next call on the same net.  It passed every check until one ran the same Adam
    training twice in a row (test_repeated_run_repeats_the_trajectory).
    """

    name = "mutant-adam-state-kept"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if not isinstance(optimizer, Adam):
            return super().mlp_train(params, X, y, optimizer, steps, target)
        key = (tuple(np.shape(p) for p in params), target, optimizer)
        if self.__dict__.get("_built") != key:
            self._built, self._adam = key, (0, _zeros(_cast(target, *params)), _zeros(_cast(target, *params)))

        def update(t, params, grads, state):
            step, m, v = self._adam  # BUG: step count and moments live with the model, across calls, not per run
            params, m, v = base._adam_update(optimizer, step + 1, params, grads, m, v)
            self._adam = (step + 1, m, v)
            return params, state

        return _train(self, params, X, y, steps, target, update)


# ---- row order and data size


class MLPMeanReduction(SingleNet, Numpy):
    """torch.nn.BCEWithLogitsLoss()'s default reduction="mean", where the spec sums over rows."""

    name = "mutant-mlp-mean-reduction"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        loss, grads = base._mlp_loss_and_grads(params, X, y)
        return loss / len(y), tuple(g / len(y) for g in grads)  # BUG: mean over rows, not the sum


class MLPSkipsLastRow(SingleNet, Numpy):
    name = "mutant-mlp-skips-last-row"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        return base._mlp_loss_and_grads(params, X[:-1], y[:-1])  # BUG: a row loop over range(len(X) − 1)


# ---- overflow beyond |z| = 88 (float32's e^z overflows at 88.7, float64's at 709.8)


def _ratio_sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):  # the result, inf/inf = nan, is what the checks see
        return np.exp(z) / (1 + np.exp(z))  # BUG: e^z/(1 + e^z) is nan once e^z overflows


def _ratio_forward(params: Params, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    hs = [X]
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        hs.append(_ratio_sigmoid(hs[-1] @ W + b))
    return hs, (hs[-1] @ params[-2] + params[-1])[:, 0]


class SigmoidExpRatio(SingleNet, Numpy):
    """σ(a) written e^a/(1 + e^a), in the hidden layers and in δ = σ(z) − y; the loss stays softplus of z."""

    name = "mutant-sigmoid-exp-ratio"

    @staticmethod
    def _mlp_forward(params, X):
        z = _ratio_forward(params, X)[1]
        return z, _ratio_sigmoid(z)

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        hs, z = _ratio_forward(params, X)
        delta = (_ratio_sigmoid(z) - y)[:, None]
        grads: list[np.ndarray] = []
        for layer in range(len(params) // 2 - 1, -1, -1):
            h = hs[layer]
            grads = [h.T @ delta, delta.sum(axis=0), *grads]
            if layer:
                delta = (delta @ params[2 * layer].T) * h * (1 - h)
        return _loss(z, y), tuple(grads)


class SoftplusLogOnePlusExp(SingleNet, Numpy):
    name = "mutant-softplus-log-1-plus-exp"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        z = base._forward(params, X)[1]
        with np.errstate(over="ignore"):  # the result, inf, is what the checks see
            loss = np.sum(np.log(1 + np.exp(z)) - y * z)  # BUG: softplus as log(1 + e^z): inf once e^z overflows
        return np.asarray(loss), base._mlp_loss_and_grads(params, X, y)[1]


class SoftplusClipped(SingleNet, Numpy):
    name = "mutant-softplus-clipped-88"

    @staticmethod
    def _mlp_loss_and_grads(params, X, y):
        z = base._forward(params, X)[1]
        loss = np.sum(np.log1p(np.exp(np.clip(z, -88.0, 88.0))) - y * z)  # BUG: clipped "so e^z stays finite"
        return np.asarray(loss), base._mlp_loss_and_grads(params, X, y)[1]


# ---- global state


class ReseedsGlobalGenerator(SingleNet, Numpy):
    name = "mutant-reseeds-global-rng"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        np.random.seed(0)  # noqa: NPY002 - BUG: "reproducible" training reseeds the user's global generator
        return super().mlp_train(params, X, y, optimizer, steps, target)


# ---- what a fixed case on a truth table does not show (issue 28)


class PreparedAdamStateCarried(Numpy):
    name = "mutant-prepared-adam-state"

    def prepare_train(self, *, target, **inputs):
        if not isinstance(inputs["optimizer"], Adam):
            return super().prepare_train(target=target, **inputs)
        (X, y), params = _cast(target, inputs["X"], inputs["y"]), _cast(target, *inputs["params"])
        opt, steps = inputs["optimizer"], inputs["steps"]
        # BUG: the optimizer (its step count and moments) is built once, when the op is prepared, so every run()
        # continues the last one's state; one run per prepared op, as the numpy path makes, is right.
        state = {"t": 0, "m": tuple(np.zeros_like(p) for p in params), "v": tuple(np.zeros_like(p) for p in params)}

        def run():
            theta, history, losses = params, [params], []
            for _ in range(steps):
                loss, grads = base._mlp_loss_and_grads(theta, X, y)
                state["t"] += 1
                theta, state["m"], state["v"] = base._adam_update(opt, state["t"], theta, grads, state["m"], state["v"])
                history.append(theta)
                losses.append(loss)
            return MLPTrajectory(tuple(np.stack(p) for p in zip(*history)), np.stack(losses))

        return NativeOp(run=run, to_numpy=lambda result: result)


class Float64InFloat32(SingleNet, Numpy):
    name = "mutant-float64-in-float32"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        # BUG: a float32 run computed in float64 and rounded at the end (an array built without a dtype)
        run = super().mlp_train(params, X, y, optimizer, steps, Target("float64", target.device))
        dt = target.np_dtype
        return MLPTrajectory(tuple(p.astype(dt) for p in run.params), run.losses.astype(dt))


class InputsRoundedToFloat32(SingleNet, Numpy):
    name = "mutant-inputs-rounded-to-float32"

    def _op(self, fn, target, **inputs):
        # BUG: X built as a tensor in the framework's default dtype, float32, then cast to the run's: exact on a
        # truth table's 0 and 1, off by ε₃₂ on any other input
        inputs["X"] = np.asarray(inputs["X"], dtype=np.float32)
        return super()._op(fn, target, **inputs)


class AdamBeta2Clamped(SingleNet, Numpy):
    name = "mutant-adam-beta2-clamped"

    def mlp_train(self, params, X, y, optimizer, steps, target):
        if isinstance(optimizer, Adam):
            # BUG: β₂ "validated" into [0, 0.999], the default taken for a ceiling: right for every β₂ up to the
            # default, wrong for the slower second moments users choose above it
            optimizer = Adam(optimizer.lr, optimizer.beta1, min(optimizer.beta2, 0.999), optimizer.eps)
        return super().mlp_train(params, X, y, optimizer, steps, target)


# ----------------------------------------------------------------------------- the reference itself


def reference_backprop_without_sigmoid_prime(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """A stand-in for the reference's ``mlp._loss_and_grads`` with σ' forgotten, for patching into the reference."""
    loss, grads = MLPNoSigmoidPrime._mlp_loss_and_grads(params, X, y)
    return float(loss), grads
