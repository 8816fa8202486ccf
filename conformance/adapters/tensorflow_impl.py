"""TensorFlow implementations: eager GradientTape, tf.function, XLA, and Keras 3 on the TF backend.

- ``tf-tape``: eager TensorFlow as the notebook's "Using TensorFlow Eager" cell writes it:
  ``tf.Variable`` parameters, ``tf.GradientTape``, manual ``assign_sub`` updates.
- ``tf-function``: the same maths traced once into graphs with a fixed ``input_signature``;
  the whole training loop (``tf.range`` + ``tf.TensorArray``) is one compiled call.
- ``tf-xla``: ``tf-function`` with ``jit_compile=True``.
- ``tf-keras``: ``keras.Sequential`` of ``Dense`` layers, a Keras loss and Keras optimizers.

Many nets at once: tf-function and tf-xla train B nets, stacked on a leading axis, in one
compiled ``tf.range`` loop of batched matmuls (``tf.einsum``, ``tf.matmul``) and one tape
gradient of the summed loss per step.  ``mlp_init`` draws from generators of its own, never
the global one: Keras Dense's default (Glorot uniform kernel, zero bias) with a
``keras.random.SeedGenerator``, or ``tf.random.normal`` from a ``tf.random.Generator``.

Importing this module imports TensorFlow.  Before that import it sets
``TF_CPP_MIN_LOG_LEVEL=1`` with ``os.environ.setdefault`` (so a value the user chose wins),
which hides only TensorFlow's C++ INFO lines (CPU-feature and oneDNN notices); warnings stay.
Nothing else global is changed: no Keras floatx, no threading, no device policy.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params

from ..interface import (
    DTYPES,
    BatchedRun,
    Capability,
    MLPTrajectory,
    NativeBackedMLP,
    NativeOp,
    NotSupported,
    Target,
    Trajectory,
    check_native_op,
)

# Must precede the TensorFlow import to take effect; setdefault keeps a user's own level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import keras
import tensorflow as tf

# A "model" names what the logits are computed from: "mlp" params (W₁, b₁, …) on X, or
# "logistic" params (w,) on Xb (bias column last).  Both then share loss, gradients and loops.
Logits = Callable[[Any, Any], Any]

_ADAM_SLOTS = 2  # m and v per parameter


# ----------------------------------------------------------------------------- placement and conversion


def _device(target: Target) -> str:
    """The TF device string; refuses "cuda" without a GPU, since soft placement would silently use the CPU."""
    if target.device == "cuda":
        if not tf.config.list_logical_devices("GPU"):
            raise RuntimeError("target.device 'cuda': TensorFlow sees no GPU (tf.config.list_logical_devices)")
        return "/GPU:0"
    if target.device != "cpu":
        raise ValueError(f"target.device: expected 'cpu' or 'cuda', got {target.device!r}")
    return "/CPU:0"


def _tf_dtype(target: Target) -> tf.DType:
    return tf.as_dtype(target.dtype)


def _tensor(a: np.ndarray, target: Target) -> tf.Tensor:
    """A constant of the target dtype; call inside ``tf.device`` (tf.constant copies, the input is untouched)."""
    return tf.constant(np.asarray(a, dtype=target.np_dtype))


def _numpy(t: Any, target: Target) -> np.ndarray:
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


def _hyper(optimizer: SGD | Adam, target: Target) -> tf.Tensor:
    """(lr, β₁, β₂, ε) as one tensor, so changing a hyperparameter never retraces; SGD uses lr only."""
    if isinstance(optimizer, SGD):
        values = [optimizer.lr, 0.0, 0.0, 0.0]
    elif isinstance(optimizer, Adam):
        values = [optimizer.lr, optimizer.beta1, optimizer.beta2, optimizer.eps]
    else:
        raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
    return _tensor(np.array(values), target)


def _logistic_as_model(Xb: np.ndarray, w: np.ndarray) -> tuple[str, Params, np.ndarray]:
    return "logistic", (w,), Xb


def _mlp_as_model(params: Params, X: np.ndarray) -> tuple[str, Params, np.ndarray]:
    return "mlp", mlp.check_params(params, X.shape[1]), X


# ----------------------------------------------------------------------------- the maths, eager or traced


def _heaviside(z: tf.Tensor) -> tf.Tensor:
    """g(z) = 1 if z > 0 else 0, so g(0) = 0 as np.heaviside(z, 0.0) in the notebook."""
    return tf.cast(z > 0, z.dtype)


def _mlp_logits(params: Any, X: Any) -> tf.Tensor:
    h = X
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        h = tf.sigmoid(tf.matmul(h, W) + b)
    return (tf.matmul(h, params[-2]) + params[-1])[:, 0]


def _logistic_logits(params: Any, Xb: Any) -> tf.Tensor:
    return tf.linalg.matvec(Xb, params[0])


_LOGITS: dict[str, Logits] = {"mlp": _mlp_logits, "logistic": _logistic_logits}


def _bce_sum(z: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Σ softplus(z) − y·z by TF's stable primitive."""
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))


def _loss_and_grads(logits: Logits, params: Any, X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
    """Loss and its gradients; ``params`` are Variables (watched by the tape) or tensors (watched here)."""
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = _bce_sum(logits(params, X), y)
    return loss, tape.gradient(loss, params)


def _adam_moments(g: Any, m: Any, v: Any, t: Any, lr: Any, b1: Any, b2: Any, eps: Any) -> tuple[Any, Any, Any]:
    """(m, v, Δ) with θ ← θ − Δ, in the reference's (torch's) order: ε added after the √(1−β₂ᵗ) correction."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    step_size = lr / (1 - b1**t)
    bc2_sqrt = tf.sqrt(1 - b2**t)
    return m, v, step_size * m / (tf.sqrt(v) / bc2_sqrt + eps)


def _batched_losses(params: Any, X: Any, y: Any) -> tf.Tensor:
    """Every net's Σ_rows BCE, (B,): params stacked on a leading net axis, X (N, n) and y (N,) shared."""
    h = tf.einsum("ni,bio->bno", X, params[0]) + params[1][:, None, :]
    for W, b in zip(params[2::2], params[3::2]):
        h = tf.matmul(tf.sigmoid(h), W) + b[:, None, :]  # (B, N, in) @ (B, in, out): one batched matmul
    z = h[..., 0]
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.broadcast_to(y, tf.shape(z)), logits=z), 1)


def _draw_initial(initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
    """n nets' parameters from a generator seeded with ``seed`` and owned by this call.

    keras-glorot is what Keras Dense's defaults draw: GlorotUniform, i.e. VarianceScaling(1,
    "fan_avg", "uniform"), whose limit is √(3/((fan_in + fan_out)/2)), and Zeros for the bias;
    drawn for all n kernels at once with the same ``keras.random.uniform`` (one call per layer:
    the initializer object itself, called per net, took 2 ms a call).
    """
    params = []
    if initialiser == "keras-glorot":
        seed_generator = keras.random.SeedGenerator(seed)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = float(np.sqrt(3.0 / max(1.0, (fan_in + fan_out) / 2.0)))
            kernel = keras.random.uniform((n, fan_in, fan_out), -limit, limit, dtype=target.dtype, seed=seed_generator)
            params += [kernel, keras.ops.zeros((n, fan_out), dtype=target.dtype)]
    elif initialiser == "standard-normal":
        generator = tf.random.Generator.from_seed(seed)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            params += [generator.normal((n, fan_in, fan_out), dtype=_tf_dtype(target))]
            params += [generator.normal((n, fan_out), dtype=_tf_dtype(target))]
    else:
        raise ValueError(f"initialiser: expected keras-glorot or standard-normal, got {initialiser!r}")
    return tuple(_numpy(p, target) for p in params)


def _single_example(x: Any, w: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """The notebook's cell verbatim: the naive −log σ(x·w), kept so that saturation shows."""
    with tf.GradientTape() as tape:
        tape.watch(w)
        loss = -tf.math.log(tf.math.sigmoid(tf.tensordot(x, w, 1)))
    return loss, tape.gradient(loss, w)


# ----------------------------------------------------------------------------- results


def _trajectory_to_numpy(model: str, target: Target) -> Callable[[Any], Any]:
    def convert(result: Any) -> Any:
        params, losses = result
        params = tuple(_numpy(p, target) for p in params)
        if model == "logistic":
            return Trajectory(weights=params[0], losses=_numpy(losses, target))
        return MLPTrajectory(params=params, losses=_numpy(losses, target))

    return convert


def _loss_grads_to_numpy(model: str, target: Target) -> Callable[[Any], Any]:
    def convert(result: Any) -> Any:
        loss, grads = result
        grads = tuple(_numpy(g, target) for g in grads)
        return _numpy(loss, target), grads[0] if model == "logistic" else grads

    return convert


def _native_op(target: Target, compute: Callable[[], Any], to_numpy: Callable[[Any], Any]) -> NativeOp:
    """A NativeOp whose run computes on the target's device and blocks until the result exists."""
    device, block = _device(target), _blocker(target)

    def run() -> Any:
        with tf.device(device):
            result = compute()
        block()
        return result

    return NativeOp(run, to_numpy)


def _pair_to_numpy(target: Target) -> Callable[[Any], Any]:
    return lambda pair: tuple(_numpy(t, target) for t in pair)


# ----------------------------------------------------------------------------- shared base


class _TensorFlow(NativeBackedMLP):
    """Shared plumbing: version, numerics, and numpy operations built from the native ones."""

    framework: ClassVar[str] = "tensorflow"
    dtypes: ClassVar[tuple[str, ...]] = DTYPES
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")

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

    # Keras Dense's default first: the initialiser TensorFlow users get without asking.
    initialisers: ClassVar[tuple[str, ...]] = ("keras-glorot", "standard-normal")

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        if initialiser not in self.initialisers:
            raise ValueError(f"initialiser: {self.name} draws {self.initialisers}, got {initialiser!r}")
        with tf.device("/CPU:0"):  # the seed's stream is the CPU kernels', whatever the target device
            return _draw_initial(initialiser, tuple(sizes), n, seed, target)

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotSupported(Capability.MLP_TRAIN_BATCHED.value)

    # Each style provides these three; the numpy operations and `native` are built on them.
    def _prepare_forward(self, model: str, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        raise NotImplementedError

    def _prepare_loss_grads(self, model: str, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        raise NotImplementedError

    def _prepare_train(
        self,
        model: str,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: SGD | Adam,
        steps: int,
        target: Target,
    ) -> NativeOp:
        raise NotImplementedError

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        check_native_op(op)
        if op == "mlp_train_batched":  # params with a leading net axis: not one model
            return self._prepare_train_batched(target=target, **inputs)
        params, X = inputs.pop("params"), inputs.pop("X")
        model, params, X = _mlp_as_model(params, X)
        if op == "mlp_forward":
            return self._prepare_forward(model, params, X, target, **inputs)
        if op == "mlp_loss_and_grads":
            return self._prepare_loss_grads(model, params, X, inputs.pop("y"), target, **inputs)
        return self._prepare_train(model, params, X, target=target, **inputs)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        model, params, X = _logistic_as_model(Xb, w)
        return self._prepare_loss_grads(model, params, X, y, target).once()

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        model, params, X = _logistic_as_model(Xb, w0)
        return self._prepare_train(model, params, X, y, SGD(eta), steps, target).once()


_GRADIENT_OPS = frozenset(
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


# ----------------------------------------------------------------------------- tf-tape


class TFTape(_TensorFlow):
    """Eager TensorFlow: tf.Variable parameters, tf.GradientTape, ``w.assign_sub(lr * grad)``.

    Adam is written by hand (the reference's torch-style update) because the point of this
    style is TensorFlow without Keras; tf-keras covers Keras's own Adam.
    """

    name: ClassVar[str] = "tf-tape"
    capabilities: ClassVar[frozenset[Capability]] = _GRADIENT_OPS | {
        Capability.TLU_PREDICT,
        Capability.PERCEPTRON_STEP,
        Capability.PERCEPTRON_ONLINE,
        Capability.MLP_INIT,
    }
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "eager ops with a tape per step: 1000 steps take ~11 s a run, so the "
        "1000-net statistics would take a minute; tf-function and tf-xla train many nets at once",
    }

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        with tf.device(_device(target)):
            return _numpy(_heaviside(tf.linalg.matvec(_tensor(Xb, target), _tensor(w, target))), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        with tf.device(_device(target)):
            Xb_t, y_t, w_t = (_tensor(a, target) for a in (Xb, y, w))
            err = y_t - _heaviside(tf.linalg.matvec(Xb_t, w_t))
            return _numpy(w_t + eta * tf.linalg.matvec(Xb_t, err, transpose_a=True), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        with tf.device(_device(target)):
            Xb_t, y_t = _tensor(Xb, target), _tensor(y, target)
            w = tf.Variable(_tensor(w0, target))
            rows = [w.read_value()]
            for i in order.tolist():
                err = y_t[i] - _heaviside(tf.tensordot(Xb_t[i], w, 1))
                w.assign_add(eta * err * Xb_t[i])
                rows.append(w.read_value())
            return _numpy(tf.stack(rows), target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        with tf.device(_device(target)):
            # As the notebook: a constant x and a Variable w, which the tape watches by itself.
            x_t = tf.constant(x, dtype=_tf_dtype(target), name="x")
            w_v = tf.Variable(w, dtype=_tf_dtype(target), name="w")
            return _pair_to_numpy(target)(_single_example(x_t, w_v))

    def _prepare_forward(self, model: str, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        device, logits = _device(target), _LOGITS[model]
        with tf.device(device):
            params_t, X_t = tuple(_tensor(p, target) for p in params), _tensor(X, target)

        def compute() -> tuple[tf.Tensor, tf.Tensor]:
            z = logits(params_t, X_t)
            return z, tf.sigmoid(z)

        return _native_op(target, compute, _pair_to_numpy(target))

    def _prepare_loss_grads(self, model: str, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        device, logits = _device(target), _LOGITS[model]
        with tf.device(device):
            variables = tuple(tf.Variable(_tensor(p, target)) for p in params)
            X_t, y_t = _tensor(X, target), _tensor(y, target)

        def compute() -> tuple[tf.Tensor, list]:
            return _loss_and_grads(logits, variables, X_t, y_t)

        return _native_op(target, compute, _loss_grads_to_numpy(model, target))

    def _prepare_train(
        self,
        model: str,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: SGD | Adam,
        steps: int,
        target: Target,
    ) -> NativeOp:
        device, logits = _device(target), _LOGITS[model]
        with tf.device(device):
            start = tuple(_tensor(p, target) for p in params)
            variables = tuple(tf.Variable(p) for p in start)
            X_t, y_t, hyper = _tensor(X, target), _tensor(y, target), _hyper(optimizer, target)
        adam = isinstance(optimizer, Adam)

        def compute() -> tuple[tuple, tf.Tensor]:
            for v, p in zip(variables, start):  # every run starts from the same point
                v.assign(p)
            return _eager_train(logits, variables, X_t, y_t, hyper, adam, steps)

        return _native_op(target, compute, _trajectory_to_numpy(model, target))


def _eager_train(
    logits: Logits, variables: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor, adam: bool, steps: int
) -> tuple[tuple, tf.Tensor]:
    """The notebook's eager loop: tape, gradient, ``assign_sub``; snapshots of every step stacked at the end."""
    lr, b1, b2, eps = tf.unstack(hyper)
    m = [tf.zeros_like(v) for v in variables]
    s = [tf.zeros_like(v) for v in variables]
    history = [[v.read_value()] for v in variables]
    losses = []
    for t in range(1, steps + 1):
        loss, grads = _loss_and_grads(logits, variables, X, y)
        for k, (v, g) in enumerate(zip(variables, grads)):
            if adam:
                m[k], s[k], delta = _adam_moments(g, m[k], s[k], tf.cast(t, v.dtype), lr, b1, b2, eps)
                v.assign_sub(delta)
            else:
                v.assign_sub(lr * g)
            # read_value is a snapshot: the next assign copies the buffer rather than overwrite it.
            history[k].append(v.read_value())
        losses.append(loss)
    return tuple(tf.stack(h) for h in history), tf.stack(losses)


# ----------------------------------------------------------------------------- tf-function / tf-xla


def _specs(shapes: tuple[tuple[int, ...], ...], dtype: tf.DType) -> tuple[tuple, tf.TensorSpec, tf.TensorSpec]:
    """Parameter shapes fixed, the number of rows free: one trace serves every batch size."""
    params = tuple(tf.TensorSpec(s, dtype) for s in shapes)
    return params, tf.TensorSpec((None, shapes[0][0]), dtype), tf.TensorSpec((None,), dtype)


# The caches below hold one traced function per (model, shapes, dtype, [optimizer,] device, jit):
# a new tf.function object would trace again on first call, so they are built once per process.


def _traced_once(fn: Any) -> Any:
    """Silence TF's "frequent retracing" warning for a cached function, which traces exactly once.

    The detector keys on the Python code object, which every cached configuration shares, so
    first traces of distinct configurations would be misreported as retracing (private flag).
    """
    fn._omit_frequent_tracing_warning = True
    return fn


@functools.cache
def _compiled_forward(model: str, shapes: tuple, dtype: str, device: str, jit: bool) -> Any:
    params_spec, X_spec, _ = _specs(shapes, tf.as_dtype(dtype))
    logits = _LOGITS[model]

    @tf.function(input_signature=[params_spec, X_spec], jit_compile=jit)
    def forward(params: tuple, X: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        z = logits(params, X)
        return z, tf.sigmoid(z)

    return _traced_once(forward)


@functools.cache
def _compiled_loss_grads(model: str, shapes: tuple, dtype: str, device: str, jit: bool) -> Any:
    params_spec, X_spec, y_spec = _specs(shapes, tf.as_dtype(dtype))
    logits = _LOGITS[model]

    @tf.function(input_signature=[params_spec, X_spec, y_spec], jit_compile=jit)
    def loss_and_grads(params: tuple, X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
        return _loss_and_grads(logits, params, X, y)

    return _traced_once(loss_and_grads)


@functools.cache
def _compiled_train(model: str, shapes: tuple, dtype: str, adam: bool, device: str, jit: bool) -> Any:
    tf_dtype = tf.as_dtype(dtype)
    params_spec, X_spec, y_spec = _specs(shapes, tf_dtype)
    logits = _LOGITS[model]
    signature = [params_spec, X_spec, y_spec, tf.TensorSpec((4,), tf_dtype), tf.TensorSpec((), tf.int32)]

    def step(params: tuple, slots: tuple, t: tf.Tensor, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        """One update: (loss at ``params``, new params, new optimizer slots)."""
        loss, grads = _loss_and_grads(logits, params, X, y)
        lr, b1, b2, eps = tf.unstack(hyper)
        if not adam:
            return loss, tuple(p - lr * g for p, g in zip(params, grads)), slots
        t = tf.cast(t, tf_dtype)
        moved = [_adam_moments(g, m, s, t, lr, b1, b2, eps) for g, m, s in zip(grads, *slots)]
        new_params = tuple(p - delta for p, (_, _, delta) in zip(params, moved))
        return loss, new_params, (tuple(m for m, _, _ in moved), tuple(s for _, s, _ in moved))

    @tf.function(input_signature=signature, jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor, steps: tf.Tensor) -> tuple:
        history = tuple(tf.TensorArray(tf_dtype, size=steps + 1, element_shape=p.shape).write(0, p) for p in params)
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=())
        zeros = tuple(tf.zeros_like(p) for p in params)
        slots = (zeros,) * _ADAM_SLOTS if adam else ()
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            loss, params, slots = step(params, slots, t + 1, X, y, hyper)
            losses = losses.write(t, loss)
            history = tuple(h.write(t + 1, p) for h, p in zip(history, params))
        return tuple(h.stack() for h in history), losses.stack()

    return _traced_once(train)


@functools.cache
def _compiled_train_batched(shapes: tuple, dtype: str, adam: bool, device: str, jit: bool) -> Any:
    """Many nets' training as one traced loop; the net count and row count are free (None) in the signature."""
    tf_dtype = tf.as_dtype(dtype)
    params_spec = tuple(tf.TensorSpec((None, *s), tf_dtype) for s in shapes)
    X_spec, y_spec = tf.TensorSpec((None, shapes[0][0]), tf_dtype), tf.TensorSpec((None,), tf_dtype)
    signature = [params_spec, X_spec, y_spec, tf.TensorSpec((4,), tf_dtype), tf.TensorSpec((), tf.int32)]

    def step(params: tuple, slots: tuple, t: tf.Tensor, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        """One update of every net: (each net's loss at ``params``, new params, new slots)."""
        with tf.GradientTape() as tape:
            tape.watch(params)
            losses = _batched_losses(params, X, y)
            total = tf.reduce_sum(losses)  # the nets share no parameter: d total/dθ_b = dl_b/dθ_b
        grads = tape.gradient(total, params)
        lr, b1, b2, eps = tf.unstack(hyper)
        if not adam:
            return losses, tuple(p - lr * g for p, g in zip(params, grads)), slots
        t = tf.cast(t, tf_dtype)
        moved = [_adam_moments(g, m, s, t, lr, b1, b2, eps) for g, m, s in zip(grads, *slots)]
        new_params = tuple(p - delta for p, (_, _, delta) in zip(params, moved))
        return losses, new_params, (tuple(m for m, _, _ in moved), tuple(s for _, s, _ in moved))

    @tf.function(input_signature=signature, jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor, steps: tf.Tensor) -> tuple:
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=(None,))
        zeros = tuple(tf.zeros_like(p) for p in params)
        slots = (zeros,) * _ADAM_SLOTS if adam else ()
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            loss, params, slots = step(params, slots, t + 1, X, y, hyper)
            losses = losses.write(t, loss)
        return params, losses.stack()

    return _traced_once(train)


@functools.cache
def _compiled_single_example(dtype: str, device: str, jit: bool) -> Any:
    spec = tf.TensorSpec((None,), tf.as_dtype(dtype))
    return _traced_once(tf.function(_single_example, input_signature=[spec, spec], jit_compile=jit))


class TFFunction(_TensorFlow):
    """Graph-mode TensorFlow: every operation is a ``tf.function`` with a fixed input_signature.

    Functions are traced once per (model, layer sizes, dtype, optimizer kind, device) and cached
    for the process; batch size, hyperparameters and step count are tensors, so they never
    retrace.  Training is one call: a ``tf.range`` loop writing losses and parameters into
    ``tf.TensorArray``s.
    """

    name: ClassVar[str] = "tf-function"
    compiled: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = _GRADIENT_OPS | {Capability.MLP_INIT, Capability.MLP_TRAIN_BATCHED}
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.TLU_PREDICT: "a single thresholded matvec has nothing to compile; tf-tape runs it eagerly",
        Capability.PERCEPTRON_STEP: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
        Capability.PERCEPTRON_ONLINE: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
    }
    jit_compile: ClassVar[bool] = False

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {"jit_compile": str(self.jit_compile)}

    def clear_caches(self) -> None:
        # A new tf.function object traces (and, under jit_compile, XLA-compiles) on its first call.
        for cache in (
            _compiled_forward,
            _compiled_loss_grads,
            _compiled_train,
            _compiled_train_batched,
            _compiled_single_example,
        ):
            cache.cache_clear()

    def _key(self, model: str, params: Params, target: Target) -> tuple:
        return model, tuple(p.shape for p in params), target.dtype

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        device = _device(target)
        fn = _compiled_single_example(target.dtype, device, self.jit_compile)
        with tf.device(device):
            return _pair_to_numpy(target)(fn(_tensor(x, target), _tensor(w, target)))

    def _prepare_forward(self, model: str, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        device = _device(target)
        fn = _compiled_forward(*self._key(model, params, target), device, self.jit_compile)
        with tf.device(device):
            params_t, X_t = tuple(_tensor(p, target) for p in params), _tensor(X, target)

        def compute() -> tuple[tf.Tensor, tf.Tensor]:
            return fn(params_t, X_t)

        return _native_op(target, compute, _pair_to_numpy(target))

    def _prepare_loss_grads(self, model: str, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        device = _device(target)
        fn = _compiled_loss_grads(*self._key(model, params, target), device, self.jit_compile)
        with tf.device(device):
            params_t = tuple(_tensor(p, target) for p in params)
            X_t, y_t = _tensor(X, target), _tensor(y, target)

        def compute() -> tuple[tf.Tensor, list]:
            return fn(params_t, X_t, y_t)

        return _native_op(target, compute, _loss_grads_to_numpy(model, target))

    def _prepare_train(
        self,
        model: str,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: SGD | Adam,
        steps: int,
        target: Target,
    ) -> NativeOp:
        device = _device(target)
        adam = isinstance(optimizer, Adam)
        fn = _compiled_train(*self._key(model, params, target), adam, device, self.jit_compile)
        with tf.device(device):
            params_t = tuple(_tensor(p, target) for p in params)
            X_t, y_t, hyper = _tensor(X, target), _tensor(y, target), _hyper(optimizer, target)
            steps_t = tf.constant(steps, tf.int32)

        def compute() -> tuple[tuple, tf.Tensor]:
            return fn(params_t, X_t, y_t, hyper, steps_t)  # pure: no state to reset

        return _native_op(target, compute, _trajectory_to_numpy(model, target))

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        device = _device(target)
        shapes = tuple(p.shape[1:] for p in params)
        fn = _compiled_train_batched(shapes, target.dtype, isinstance(optimizer, Adam), device, self.jit_compile)
        with tf.device(device):
            params_t = tuple(_tensor(p, target) for p in params)
            X_t, y_t, hyper = _tensor(X, target), _tensor(y, target), _hyper(optimizer, target)
            steps_t = tf.constant(steps, tf.int32)

        def compute() -> tuple[tuple, tf.Tensor]:
            return fn(params_t, X_t, y_t, hyper, steps_t)

        def to_numpy(result: tuple[tuple, tf.Tensor]) -> BatchedRun:
            final, losses = result
            return BatchedRun(tuple(_numpy(p, target) for p in final), _numpy(losses, target))

        return _native_op(target, compute, to_numpy)


class TFXLA(TFFunction):
    """:class:`TFFunction` compiled by XLA (``jit_compile=True``).

    XLA specialises on concrete shapes and on the step count (it sizes the TensorArrays), so a
    new batch size or step count recompiles the cluster, though tf.function does not retrace.
    """

    name: ClassVar[str] = "tf-xla"
    jit_compile: ClassVar[bool] = True


# ----------------------------------------------------------------------------- tf-keras


def _keras_layers(model: str, params: Params, X: np.ndarray) -> tuple[tuple[int, ...], Params, np.ndarray]:
    """(layer sizes, Dense weights, inputs): logistic regression is a Dense(1) on Xb without its bias column."""
    if model == "logistic":
        (w,) = params
        return (w.shape[0] - 1, 1), (w[:-1, None], w[-1:]), X[:, :-1]
    return mlp.layer_sizes(params), params, X


def _keras_grads(model: str, grads: tuple) -> tuple:
    """Dense (kernel, bias) gradients back to the model's layout: logistic's w = (kernel[:, 0], bias)."""
    return (tf.concat([grads[0][:, 0], grads[1]], axis=0),) if model == "logistic" else tuple(grads)


def _keras_sequential(sizes: tuple[int, ...], weights: Params, target: Target, output: Any = None) -> keras.Sequential:
    """Sigmoid hidden Dense layers and a linear (or ``output``) Dense(1), all in the target dtype.

    Zero initialisers: the weights are overwritten by set_weights, so drawing random ones would
    only advance Keras's global seed generator.
    """
    dense = functools.partial(
        keras.layers.Dense, dtype=target.dtype, kernel_initializer="zeros", bias_initializer="zeros"
    )
    layers = [keras.Input(shape=(sizes[0],), dtype=target.dtype)]
    layers += [dense(n, activation="sigmoid") for n in sizes[1:-1]]
    layers.append(dense(1, activation=output))
    net = keras.Sequential(layers)
    net.set_weights([np.asarray(p, dtype=target.np_dtype) for p in weights])  # kernel (in, out), bias (out,)
    return net


def _keras_loss(target: Target) -> keras.losses.Loss:
    # dtype matters: a Keras loss otherwise casts its inputs to floatx (float32).
    return keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum", dtype=target.dtype)


def _keras_optimizer(optimizer: SGD | Adam) -> keras.optimizers.Optimizer:
    if isinstance(optimizer, SGD):
        return keras.optimizers.SGD(learning_rate=optimizer.lr)
    return keras.optimizers.Adam(
        learning_rate=optimizer.lr, beta_1=optimizer.beta1, beta_2=optimizer.beta2, epsilon=optimizer.eps
    )


def _keras_heaviside(z: Any) -> Any:
    """g(z) with g(0) = 0, as the notebook's np.heaviside(z, 0.0)."""
    return keras.ops.heaviside(z, 0.0)


class TFKeras(_TensorFlow):
    """Keras 3 on the TensorFlow backend: Sequential Dense layers, BinaryCrossentropy, Keras optimizers.

    Training is the Keras guide's custom loop: a Python loop over a ``tf.function`` training
    step (GradientTape + ``optimizer.apply_gradients``), traced once per prepared model; the
    fully eager step was ~30× slower.  Not ``model.fit``: it logs the loss through a float32
    Mean metric even for float64 weights, and its jit_compile="auto" means XLA on this backend.

    Known deviations from the reference, kept on purpose so the suite measures them (a numpy
    emulation of all three reproduces 200 float64 Keras Adam steps on XOR to 2e-15):

    - Adam: Keras updates θ −= η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε), adding ε to the
      *uncorrected* √v, where the reference (torch) adds it to √v/√(1−β₂ᵗ).  The reference's
      ε is passed unchanged; the gap grows with ε/√v (eps=1e-3 on XOR: 4e-2 after one step).
    - Adam, float64: Keras's ``ops.cast(self.beta_2, float64)`` goes through a float32 tensor,
      so β₁ᵗ, β₂ᵗ use float32(β); with β₂ = 0.999 every step is ~6.7e-6 too short (relative).
    - Keras keeps the learning rate in a float32 variable (floatx) even for float64 weights,
      so a float64 run steps with float32(η) (η = 0.1: 1.5e-9 relative; 0.5 and 1.0 are exact).
    """

    name: ClassVar[str] = "tf-keras"
    compiled: ClassVar[bool] = True  # the training step is a tf.function traced per prepared model
    capabilities: ClassVar[frozenset[Capability]] = (_GRADIENT_OPS - {Capability.SINGLE_EXAMPLE_LOSS_GRAD}) | {
        Capability.TLU_PREDICT,
        Capability.MLP_INIT,
    }
    initialisers: ClassVar[tuple[str, ...]] = ("keras-glorot",)  # Dense's defaults
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "a Dense layer holds one net; many nets stacked on an axis are tf-function's "
        "and tf-xla's (the same Keras draws, trained in one compiled loop)",
        Capability.PERCEPTRON_STEP: "Keras trains by gradients of a loss; Rosenblatt's rule is not one (see tf-tape)",
        Capability.PERCEPTRON_ONLINE: "Keras trains by gradients of a loss; Rosenblatt's rule is not one (see tf-tape)",
        Capability.SINGLE_EXAMPLE_LOSS_GRAD: "the notebook writes this cell in raw TensorFlow, not Keras (see tf-tape)",
    }

    def __init__(self) -> None:
        if keras.backend.backend() != "tensorflow":
            raise ImportError(f"tf-keras needs KERAS_BACKEND=tensorflow, Keras runs on {keras.backend.backend()!r}")

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {"keras": keras.__version__, "keras_floatx": keras.config.floatx()}

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        sizes, weights, X = _keras_layers("logistic", (w,), Xb)
        with tf.device(_device(target)):
            net = _keras_sequential(sizes, weights, target, output=_keras_heaviside)
            return _numpy(net(_tensor(X, target))[:, 0], target)

    def _prepare_forward(self, model: str, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        device = _device(target)
        sizes, weights, X = _keras_layers(model, params, X)
        with tf.device(device):
            net, X_t = _keras_sequential(sizes, weights, target), _tensor(X, target)

        def compute() -> tuple[tf.Tensor, tf.Tensor]:
            z = net(X_t)[:, 0]
            return z, keras.ops.sigmoid(z)

        return _native_op(target, compute, _pair_to_numpy(target))

    def _prepare_loss_grads(self, model: str, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        device = _device(target)
        sizes, weights, X = _keras_layers(model, params, X)
        with tf.device(device):
            net, loss_fn = _keras_sequential(sizes, weights, target), _keras_loss(target)
            X_t, y_t = _tensor(X, target), _tensor(y[:, None], target)

        def compute() -> tuple[tf.Tensor, tuple]:
            with tf.GradientTape() as tape:
                loss = loss_fn(y_t, net(X_t, training=True))
            return loss, _keras_grads(model, tape.gradient(loss, net.trainable_variables))

        return _native_op(target, compute, _loss_grads_to_numpy(model, target))

    def _prepare_train(
        self,
        model: str,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: SGD | Adam,
        steps: int,
        target: Target,
    ) -> NativeOp:
        device = _device(target)
        sizes, weights, X = _keras_layers(model, params, X)
        with tf.device(device):
            net, loss_fn = _keras_sequential(sizes, weights, target), _keras_loss(target)
            opt = _keras_optimizer(optimizer)
            opt.build(net.trainable_variables)
            step = _keras_train_step(net, loss_fn, opt)  # traced by the first run, reused by later ones
            X_t, y_t = _tensor(X, target), _tensor(y[:, None], target)
            # Everything a run mutates, as it is before the first step: weights, moments, iteration count.
            state = [*net.trainable_variables, *opt.variables]
            start = [tf.convert_to_tensor(v) for v in state]

        def compute() -> tuple[tuple, tf.Tensor]:
            for v, s in zip(state, start):
                v.assign(s)
            return _keras_train(step, net.trainable_variables, X_t, y_t, steps)

        def to_numpy(result: tuple[tuple, tf.Tensor]) -> Any:
            history, losses = result
            if model == "logistic":
                history = (tf.concat([history[0][:, :, 0], history[1]], axis=1),)
            return _trajectory_to_numpy(model, target)((history, losses))

        return _native_op(target, compute, to_numpy)


def _keras_train_step(net: keras.Sequential, loss_fn: keras.losses.Loss, opt: keras.optimizers.Optimizer) -> Any:
    """The Keras guide's training step under tf.function: (loss before the update, weights after it)."""
    variables = net.trainable_variables

    @tf.function(jit_compile=False)
    def train_step(X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(X, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, [tf.convert_to_tensor(v) for v in variables]

    return _traced_once(train_step)


def _keras_train(step: Any, variables: list, X: tf.Tensor, y: tf.Tensor, steps: int) -> tuple[tuple, tf.Tensor]:
    """The guide's Python loop over the compiled step, logging the loss and every weight each step."""
    history = [[tf.convert_to_tensor(v)] for v in variables]
    losses = []
    for _ in range(steps):
        loss, values = step(X, y)
        losses.append(loss)
        for h, v in zip(history, values):
            h.append(v)
    return tuple(tf.stack(h) for h in history), tf.stack(losses)
