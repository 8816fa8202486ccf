"""What the TensorFlow styles share: placement and conversion, the maths as TF ops, and :class:`TensorFlowStyle`.

A style module is its idiom: a :class:`TensorFlowStyle` subclass overriding the hooks that class lists, written
with the helpers here (``common.tensor``, ``common.loss_and_grads`` …).

Importing this module imports TensorFlow.  Before that import it sets
``TF_CPP_MIN_LOG_LEVEL=1`` with ``os.environ.setdefault`` (so a value the user chose wins),
which hides only TensorFlow's C++ INFO lines (CPU-feature and oneDNN notices); warnings stay.
Nothing else global is changed: no Keras floatx, no threading, no device policy.
"""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gatespec.conformance.adapters.style import Style, adam_direction
from gatespec.conformance.spec.interface import (
    DTYPES,
    Capability,
    Known,
    MLPTrajectory,
    NativeOp,
    NotSupported,
    Target,
    Trajectory,
)
from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params

# Must precede the TensorFlow import to take effect; setdefault keeps a user's own level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import tensorflow as tf

from gatespec.conformance.adapters.keras_impl.model import keras_glorot  # imports Keras, so after the level is set

# ----------------------------------------------------------------------------- placement and conversion


def tf_device(target: Target) -> str:
    """The TF device string; refuses "cuda" without a GPU, since soft placement would silently use the CPU."""
    if target.device == "cuda":
        if not tf.config.list_logical_devices("GPU"):
            raise RuntimeError("target.device 'cuda': TensorFlow sees no GPU (tf.config.list_logical_devices)")
        return "/GPU:0"
    if target.device != "cpu":
        raise ValueError(f"target.device: expected 'cpu' or 'cuda', got {target.device!r}")
    return "/CPU:0"


def tf_dtype(target: Target) -> tf.DType:
    return tf.as_dtype(target.dtype)


def tensor(a: np.ndarray, target: Target) -> tf.Tensor:
    """A constant of the target dtype; call inside ``tf.device`` (tf.constant copies, the input is untouched)."""
    return tf.constant(np.asarray(a, dtype=target.np_dtype))


def constants(target: Target, params: Params, *arrays: np.ndarray) -> tuple[Any, ...]:
    """(device, the params as a tuple of constants, each array as one), the constants on that device."""
    device = tf_device(target)
    with tf.device(device):
        return device, tuple(tensor(p, target) for p in params), *(tensor(a, target) for a in arrays)


def as_numpy(t: Any, target: Target) -> np.ndarray:
    """A numpy array of the target dtype; 0-d tensors become 0-d arrays, not numpy scalars."""
    return np.asarray(t.numpy(), dtype=target.np_dtype)


def _blocker(target: Target) -> Callable[[], None]:
    """What makes ``run()`` wait for its result.

    Eager TensorFlow on the CPU is synchronous by default: an op, or a tf.function call, has
    finished when it returns, so nothing is needed.  GPU kernels (and async eager mode) are
    queued, so there ``tf.test.experimental.sync_devices()`` waits for every pending op: a
    real barrier, unlike ``.numpy()`` of one output, which waits only for that output.
    """
    if target.device == "cuda" or not tf.config.experimental.get_synchronous_execution():
        return tf.test.experimental.sync_devices
    return lambda: None


def native_op(target: Target, compute: Callable[[], Any], to_numpy: Callable[[Any], Any]) -> NativeOp:
    """A NativeOp whose run computes on the target's device and blocks until the result exists."""
    device, block = tf_device(target), _blocker(target)

    def run() -> Any:
        with tf.device(device):
            result = compute()
        block()
        return result

    return NativeOp(run, to_numpy)


def pair_to_numpy(target: Target) -> Callable[[Any], Any]:
    return lambda pair: tuple(as_numpy(t, target) for t in pair)


def traced_once(fn: Any) -> Any:
    """Silence TF's "frequent retracing" warning for a cached function, which traces exactly once.

    The detector keys on the Python code object, which every cached configuration shares, so
    first traces of distinct configurations would be misreported as retracing (private flag).
    """
    fn._omit_frequent_tracing_warning = True
    return fn


# ----------------------------------------------------------------------------- the maths, eager or traced


def _mlp_logits(params: Any, X: Any) -> tf.Tensor:
    """z = (σ(…σ(X W₁ + b₁)…) W_L + b_L)[:, 0]."""
    h = X
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        h = tf.sigmoid(tf.matmul(h, W) + b)
    return (tf.matmul(h, params[-2]) + params[-1])[:, 0]


def _logistic_logits(params: Any, Xb: Any) -> tf.Tensor:
    """z = Xb w: one matvec, the bias column of Xb included."""
    return tf.linalg.matvec(Xb, params[0])


@dataclass(frozen=True)
class Model:
    """What the logits are computed from, and the contract's form of the parameters that come back.

    Two, for the styles that write the maths as TF ops (tf-tape, tf-function, tf-xla): the MLP's
    ``(W₁, b₁, …)`` on X, and logistic regression's ``(w,)`` on Xb.  The latter is not the
    one-layer net of :func:`~gatespec.conformance.adapters.style.logistic_as_mlp`: ∂/∂w_bias comes
    from the transposed matvec's dot with the ones column, not from the bias add's reduce_sum, and
    the two sum in different orders (the bits of the bias gradient differ, and so every trajectory).
    """

    logits: Callable[[Any, Any], tf.Tensor]
    # numpy gradients / trajectory parameters (one per tensor in params) → the operation's result
    gradients: Callable[[tuple[np.ndarray, ...]], Any]
    trajectory: Callable[[tuple[np.ndarray, ...], np.ndarray], Any]


MLP = Model(_mlp_logits, gradients=tuple, trajectory=MLPTrajectory)
LOGISTIC = Model(
    _logistic_logits,
    gradients=operator.itemgetter(0),
    trajectory=lambda params, losses: Trajectory(weights=params[0], losses=losses),
)


def forward(model: Model, params: Any, X: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """(z, σ(z)), z the model's logits."""
    z = model.logits(params, X)
    return z, tf.sigmoid(z)


def loss_grads_to_numpy(model: Model, target: Target) -> Callable[[Any], Any]:
    def convert(result: Any) -> Any:
        loss, grads = result
        return as_numpy(loss, target), model.gradients(tuple(as_numpy(g, target) for g in grads))

    return convert


def trajectory_to_numpy(model: Model, target: Target) -> Callable[[Any], Any]:
    def convert(result: Any) -> Any:
        params, losses = result
        return model.trajectory(tuple(as_numpy(p, target) for p in params), as_numpy(losses, target))

    return convert


def _bce_sum(z: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Σ softplus(z) − y·z by TF's stable primitive."""
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))


def loss_and_grads(model: Model, params: Any, X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
    """Loss and its gradients; ``params`` are Variables (watched by the tape) or tensors (watched here)."""
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = _bce_sum(model.logits(params, X), y)
    return loss, tape.gradient(loss, params)


def single_example(x: Any, w: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """The notebook's cell verbatim: the naive −log σ(x·w), kept so that saturation shows."""
    with tf.GradientTape() as tape:
        tape.watch(w)
        loss = -tf.math.log(tf.math.sigmoid(tf.tensordot(x, w, 1)))
    return loss, tape.gradient(loss, w)


def naive_single_example(why: str) -> dict[str, str | Known]:
    """``known_deviations`` of a style that runs :func:`single_example`: the notebook's loss, kept as written.

    −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ underflows to 0 and the loss is inf (the
    reference's softplus(−w·x) is finite): no size to bound, so ``why`` is a text, not a bound.
    """
    return {"test_single_example_loss_matches_reference[saturating-wrong": why}


# ----------------------------------------------------------------------------- optimizers as tensors


def hyperparameters(optimizer: SGD | Adam, target: Target) -> tf.Tensor:
    """(lr, β₁, β₂, ε) as one tensor of the target dtype, SGD's β and ε 0 (it uses lr only).

    tf-tape passes it to its eager step, tf-function and tf-xla to their compiled training loops.
    """
    if isinstance(optimizer, SGD):
        values = [optimizer.lr, 0.0, 0.0, 0.0]
    elif isinstance(optimizer, Adam):
        values = [optimizer.lr, optimizer.beta1, optimizer.beta2, optimizer.eps]
    else:
        raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
    return tensor(np.array(values), target)


def no_moments(params: Any, adam: bool) -> tuple:
    """The optimizer's state before step 1: (m, v) = (0, 0) per parameter for Adam, nothing for SGD."""
    zeros = tuple(tf.zeros_like(p) for p in params)
    return (zeros, zeros) if adam else ()


def updates(grads: Any, moments: tuple, t: Any, hyper: tf.Tensor) -> tuple[list, tuple]:
    """(Δ per parameter, moments after step t), θ′ = θ − Δ: Δ = lr·g for SGD (no moments), else Adam's step t.

    Adam's scalars are tensors of the target dtype, computed in it once per step, as the
    reference's torch.optim.Adam computes them; ``t`` counts from 1 (a Python or a tensor int).
    """
    lr, b1, b2, eps = tf.unstack(hyper)
    if not moments:
        return [lr * g for g in grads], moments
    t = tf.cast(t, hyper.dtype)
    adam = functools.partial(
        adam_direction,
        beta1=b1,
        one_minus_beta1=1 - b1,
        beta2=b2,
        one_minus_beta2=1 - b2,
        step_size=lr / (1 - b1**t),
        bc2_sqrt=tf.sqrt(1 - b2**t),
        eps=eps,
        sqrt=tf.sqrt,
    )
    moved = [adam(g, m, v) for g, m, v in zip(grads, *moments)]
    return [delta for delta, _, _ in moved], (tuple(m for _, m, _ in moved), tuple(v for _, _, v in moved))


# ----------------------------------------------------------------------------- initial parameters


def _standard_normal(sizes: tuple[int, ...], n: int, seed: int, target: Target) -> list:
    """Every weight and bias N(0, 1) from ``tf.random.Generator.from_seed(seed)``, layer by layer."""
    generator = tf.random.Generator.from_seed(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [generator.normal((n, fan_in, fan_out), dtype=tf_dtype(target))]
        params += [generator.normal((n, fan_out), dtype=tf_dtype(target))]
    return params


_INITIAL: dict[str, Callable[[tuple[int, ...], int, int, Target], list]] = {
    "keras-glorot": keras_glorot,
    "standard-normal": _standard_normal,
}


# ----------------------------------------------------------------------------- the base


# The gradient-based operations every style but tf-keras declares (tf-keras lacks the single example).
GRADIENT_OPS = frozenset(
    {
        Capability.LOGISTIC_LOSS_GRAD,
        Capability.SINGLE_EXAMPLE_LOSS_GRAD,
        Capability.LOGISTIC_TRAIN,
        Capability.MLP_FORWARD,
        Capability.MLP_LOSS_GRADS,
        Capability.MLP_TRAIN_SGD,
        Capability.MLP_TRAIN_ADAM,
        Capability.NATIVE,
    }
)


class TensorFlowStyle(Style):
    """Base of the TensorFlow styles: what every one is (version, numerics, devices, initialisers, the params
    check), and the hooks a style writes its idiom in.

    A style that writes the maths as TF ops (tf-tape, tf-function, tf-xla) overrides the model hooks.
    Each takes the :class:`Model` first and :class:`Style`'s inputs as keywords (numpy arrays; for
    :data:`LOGISTIC`, ``params`` is ``(w,)`` and ``X`` is Xb), and returns a NativeOp
    (:func:`native_op`) whose ``to_numpy`` gives the operation's result:

    - ``prepare_model_forward(model, *, params, X, target)`` → (z, σ(z)) (:func:`forward`);
    - ``prepare_model_loss_and_grads(model, *, params, X, y, target)`` → (loss, ``model.gradients`` of
      ∂loss/∂params) (:func:`loss_and_grads`, :func:`loss_grads_to_numpy`);
    - ``prepare_model_train(model, *, params, X, y, opt, steps, target)`` → ``model.trajectory`` of the
      steps + 1 parameters and the steps losses, ``opt`` a reference SGD or Adam
      (:func:`hyperparameters`, :func:`updates`, :func:`trajectory_to_numpy`).

    The MLP's operations are these hooks with :data:`MLP` (Style's ``prepare_forward``,
    ``prepare_loss_and_grads`` and ``prepare_train`` call them so), logistic regression's with
    :data:`LOGISTIC`: the timed code and the checked code stay one.  A style that trains many nets at
    once overrides Style's ``prepare_train_batched(*, params, X, y, optimizer, steps, target)`` too
    (the MLP, params with the net axis leading) → :class:`~gatespec.conformance.spec.interface.BatchedRun`.

    A style whose maths are not TF ops (tf-keras: Keras layers) overrides Style's three hooks instead,
    mixes in :class:`~gatespec.conformance.adapters.style.LogisticAsOneLayerNet` for logistic regression,
    and declares its own Adam's deviations.  ``draw_initial`` is written here for every style, and
    ``native`` checks the params' layout before any hook sees them.
    """

    framework: ClassVar[str] = "tensorflow"
    dtypes: ClassVar[tuple[str, ...]] = DTYPES
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    # Keras Dense's default first: the initialiser TensorFlow users get without asking.
    initialisers: ClassVar[tuple[str, ...]] = ("keras-glorot", "standard-normal")
    # The model hooks' Adam (updates) takes its hyperparameters as one tensor of the run's dtype, so a float32
    # run takes 1 − βᵗ from float32(β) in float32, as optax does: measured past the float32 budget only with β
    # near 1 (1.2–1.3×), within the named set's bound.
    known_deviation_sets: ClassVar[tuple[str, ...]] = ("adam-float32-beta-powers",)

    def framework_version(self) -> str:
        return tf.__version__

    def numerics(self) -> dict[str, str]:
        # Threads: 0 means TensorFlow chooses.  oneDNN is on by default in x86 Linux builds and
        # can change float summation order; only the environment switch is observable.
        return {
            "intra_op_threads": str(tf.config.threading.get_intra_op_parallelism_threads()),
            "inter_op_threads": str(tf.config.threading.get_inter_op_parallelism_threads()),
            "tf32": str(tf.config.experimental.tensor_float_32_execution_enabled()),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (default)"),
        }

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        # The base checks everything but the layout, which the hooks' traces and Dense layers assume:
        # a ValueError naming the bad array, not a shape error from inside TensorFlow.
        if op != "mlp_train_batched" and {"params", "X"} <= inputs.keys():
            mlp.check_params(inputs["params"], np.shape(inputs["X"])[1])
        return super().native(op, target, **inputs)

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """n nets' parameters (a leading net axis) from a generator seeded with ``seed`` and owned by this call."""
        with tf.device("/CPU:0"):  # the seed's stream is the CPU kernels', whatever the target device
            return tuple(as_numpy(p, target) for p in _INITIAL[initialiser](sizes, n, seed, target))

    # --- logistic regression: the model hooks on LOGISTIC ------------------------------------

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        self.check_target(target)
        return self.prepare_model_loss_and_grads(LOGISTIC, params=(w,), X=Xb, y=y, target=target).once()

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        self.check_target(target)
        run = self.prepare_model_train(LOGISTIC, params=(w0,), X=Xb, y=y, opt=SGD(eta), steps=steps, target=target)
        return run.once()

    # --- Style's hooks: the model hooks on MLP ------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        return self.prepare_model_forward(MLP, params=params, X=X, target=target)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        return self.prepare_model_loss_and_grads(MLP, params=params, X=X, y=y, target=target)

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        return self.prepare_model_train(MLP, params=params, X=X, y=y, opt=optimizer, steps=steps, target=target)

    # --- the model hooks ----------------------------------------------------------------------

    def prepare_model_forward(self, model: Model, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        raise NotSupported(Capability.MLP_FORWARD.value)

    def prepare_model_loss_and_grads(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> NativeOp:
        raise NotSupported(Capability.MLP_LOSS_GRADS.value)

    def prepare_model_train(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, opt: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotSupported(Capability.MLP_TRAIN_SGD.value)
