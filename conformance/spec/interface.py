"""The one contract every implementation meets: the only file a framework author has to read.

An implementation subclasses :class:`Implementation`, states what it is (name, framework,
dtypes, devices) and which operations it supports (:class:`Capability`), and overrides those
operations.  Operations receive the reference's canonical float64 numpy data and return numpy
results in the requested dtype; framework tensors never leave the implementation.

Data conventions (the reference's, :mod:`gatespec.reference`):

- ``Xb`` (N, d): inputs *with* the bias column; ``w`` (d,): weights with the bias last.
- ``X`` (N, n): MLP inputs *without* a bias column.
- ``y`` (N,): labels in {0, 1}.
- ``params``: the canonical MLP layout ``(W₁, b₁, …, W_L, b_L)``, W_l (in, out), b_l (out,),
  last layer one unit.  Convert with :func:`gatespec.reference.mlp.to_torch` and friends.
- ``optimizer``: :class:`gatespec.reference.mlp.SGD` or :class:`~gatespec.reference.mlp.Adam`,
  whose docstrings define the update exactly.
- Losses are sums over rows (never means); a loss is returned as a 0-d array of the dtype.
- Training returns the reference's own run types (:mod:`gatespec.reference.runs`, exported
  here): :class:`Trajectory`, :class:`MLPTrajectory` and :class:`BatchedRun`.  A run of
  ``steps`` updates holds ``steps + 1`` parameter rows (the start, then one per update) and
  ``steps`` losses (each at the parameters its step starts from); ``.final`` and ``.at(t)``
  read them.

An operation that is not in :attr:`Implementation.capabilities` is skipped by the suite with
a reason; one that is declared and raises :class:`NotSupported` fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gatespec.conformance.spec.operations import NATIVE_OPS, Capability
from gatespec.reference.mlp import SGD, Adam, Params
from gatespec.reference.runs import BatchedRun, MLPTrajectory, Trajectory

DTYPES = ("float32", "float64")


class NotSupported(NotImplementedError):
    """Raised by an operation the implementation does not provide."""


@dataclass(frozen=True)
class Target:
    """Where and in what precision an operation runs: ``dtype`` in :data:`DTYPES`, ``device`` "cpu" or "cuda".

    float32 means float32 arithmetic: the inputs rounded to float32 and every operation computed in
    float32, not in float64 with the answers rounded (which the budgets, bounding errors from above, would
    admit); the check ``float32_run_is_float32_arithmetic`` tells the two apart on a long run."""

    dtype: str = "float64"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {DTYPES}, got {self.dtype!r}")

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    @property
    def id(self) -> str:
        return self.dtype if self.device == "cpu" else f"{self.dtype}-{self.device}"


@dataclass(frozen=True, eq=False)
class NativeOp:
    """An operation bound to data already on the framework's device, for benchmarks.

    ``run()`` computes the result from the prepared tensors with no conversion and blocks
    until it is really computed (``block_until_ready``, ``.numpy()`` of a scalar, a CUDA
    synchronise); it must not depend on earlier calls, so every call does the same work.
    ``to_numpy`` turns what ``run`` returned into the numpy result of the matching operation,
    for checking outside the timed region.
    """

    run: Callable[[], Any]
    to_numpy: Callable[[Any], Any]

    def once(self) -> Any:
        """Run once and convert: what the numpy operation returns."""
        return self.to_numpy(self.run())


@dataclass(frozen=True)
class Known:
    """A known deviation, as an implementation declares it in :attr:`Implementation.known_deviations`.

    ``reason``: why the implementation differs from the reference (its framework's rule, a slip kept
    on purpose).  ``within``: where the deviation is measurable, the factor of the tolerance it is
    known to stay within — the worst |actual − desired| / (atol + rtol·|desired|) of the failing
    comparisons; a failure beyond it (or one that is no comparison: a wrong shape, dtype, an error)
    fails the test instead of counting as this deviation, so the deviation cannot hide a second,
    larger wrongness of the same tests.  ``measured``: what the bound rests on (the worst ratio
    seen, over which cases).  ``strict=False`` (bounded deviations only): the tests may pass too —
    for a pattern over cases of which only some leave the budget (which ones depends on the case
    and on rounding), so that a new case, a regression file's say, needs no new entry; a pass is a
    pass, a failure within the bound expected, one beyond it a failure.  A plain string stands for
    ``Known(reason)``, unbounded and strict: for deviations that are not a size (a NaN or inf where
    the reference is finite).
    """

    reason: str
    within: float | None = None
    measured: str = ""
    strict: bool = True

    def __post_init__(self) -> None:
        if not str(self.reason).strip():
            raise ValueError("a known deviation needs a reason")
        if self.within is not None and not (self.within >= 1 and np.isfinite(self.within)):
            raise ValueError(f"within={self.within!r}: a bound is a finite factor of the tolerance, ≥ 1")
        if not self.strict and self.within is None:
            raise ValueError("strict=False (the test may pass) needs a bound: unbounded, it would hide anything")


class Implementation:
    """Base class for an implementation under test.

    Subclasses set the class attributes and override the operations they declare in
    ``capabilities``.  ``framework_version()`` should return the installed version string.
    """

    name: ClassVar[str] = ""
    framework: ClassVar[str] = ""
    dtypes: ClassVar[tuple[str, ...]] = DTYPES
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Where one dtype's operations differ from ``capabilities``, that dtype's own set: {dtype: set}.
    # E.g. an Adam that is float32-only: {"float64": capabilities - {Capability.MLP_TRAIN_ADAM}}.
    capabilities_by_dtype: ClassVar[dict[str, frozenset[Capability]]] = {}
    # Why a capability is absent, for the skip message: {Capability: reason}.
    unsupported_reasons: ClassVar[dict[Capability, str]] = {}
    # Initialisers (names from gatespec.reference.init.INITIALISERS) that mlp_init draws with
    # the framework's own generator, as its users get them (e.g. torch.nn.Linear's default).
    initialisers: ClassVar[tuple[str, ...]] = ()
    # True where native ops trace or compile on their first call (jit, tf.function, XLA): the
    # benchmarks then time that first call on its own, after clear_caches().
    compiled: ClassVar[bool] = False
    # Where every op dispatches eagerly, one by one, so that a 1000-step run takes seconds (eager jax.grad, a
    # TensorFlow tape per step): why, in a sentence.  The style then runs the first ``eager_steps`` of each
    # notebook MLP trajectory (the same budget's prefix), learns only the notebook's gates, and runs the
    # generated cases' each-choice subset (generated.CORE), as a compiled style does.
    slow_eager: ClassVar[str] = ""
    # Tests this implementation is known to fail: {"TEST[REST": Known(reason, within=...)} (or a plain
    # reason), the test id with the implementation's name left out, so "test_mlp_one_adam_step[*-float64]"
    # stands for test_mlp_one_adam_step[NAME-*-float64] (``*``: any characters; a prefix, as in a
    # --gatespec-known-deviations file).  Run as strict xfails: a deviation that goes away fails its test,
    # and a bounded one (Known.within) fails where the error exceeds its bound.  A subclass inherits them.
    known_deviations: ClassVar[dict[str, str | Known]] = {}
    # Named sets of known deviations several implementations share, declared by name instead of copying
    # their ids (gatespec.conformance.spec.deviation_sets.SETS, e.g. "adam-float32-beta-powers").
    known_deviation_sets: ClassVar[tuple[str, ...]] = ()
    # compiled: set it where the framework traces, compiles or generates kernels per net shape and dtype on
    # first use (a JIT, a graph, a kernel cache): the matrix then runs the generated cases' each-choice subset
    # (generated.CORE) on it, not the whole pairwise design, and the benchmarks time that first call apart.
    # Leave it False where a new shape costs microseconds (eager numpy, torch, a C loop).

    def framework_version(self) -> str:
        raise NotImplementedError

    def numerics(self) -> dict[str, str]:
        """Switches that change the numbers (threads, x64, matmul precision, TF32), for the run header."""
        return {}

    # --- what the suite needs to know of the framework's process-wide state ----------------

    def global_state(self) -> dict[str, Any]:
        """The framework's process-wide state that can change a result: {name: value}, values compared with ==.

        A global seed or generator (a digest of its state), a precision or context switch, a default device:
        whatever a careless operation could leave changed for the next test.  The global-state check
        snapshots it, beside numpy's, Python's, torch's, JAX's, TensorFlow's and Keras's (which the suite
        reads itself), before and after every test of every selected implementation, and fails the test
        that changed it.  It must read, never change or import anything.  Default: nothing of its own.
        """
        return {}

    def threads(self) -> dict[str, str]:
        """The framework's own thread pools as it reports them ({"pool": "1"}), written beside each benchmark."""
        return {}

    def pin_threads(self) -> list[str]:
        """Put the framework's own pools on one thread for the benchmarks (called before each is timed, in every
        process that times it); return a line for each pool it could not pin ([]: pinned, or none of its own).
        numpy's BLAS and OpenMP follow ``OMP_NUM_THREADS``, which the benchmarks check themselves."""
        return []

    # --- the argument checks every operation shares (the built-ins call them) ---------------

    def check_target(self, target: Target) -> None:
        """ValueError for a dtype or device this implementation does not declare."""
        if target.dtype not in self.dtypes:
            raise ValueError(f"dtype: {self.name} computes in {self.dtypes}, got {target.dtype!r}")
        if target.device not in self.devices:
            raise ValueError(f"device: {self.name} runs on {self.devices}, got {target.device!r}")

    def check_optimizer(self, optimizer: SGD | Adam) -> None:
        """ValueError for anything but the reference's SGD or Adam; NotSupported for one not declared."""
        if not isinstance(optimizer, (SGD, Adam)):
            raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
        cap = Capability.MLP_TRAIN_SGD if isinstance(optimizer, SGD) else Capability.MLP_TRAIN_ADAM
        if cap not in self.capabilities:
            raise NotSupported(cap.value)

    def check_initialiser(self, initialiser: str) -> None:
        """NotSupported without mlp-init; ValueError for an initialiser this implementation does not draw."""
        if Capability.MLP_INIT not in self.capabilities:
            raise NotSupported(Capability.MLP_INIT.value)
        if initialiser not in self.initialisers:
            raise ValueError(f"initialiser: {self.name} draws {self.initialisers}, got {initialiser!r}")

    # --- threshold logic unit -------------------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        """ŷ = g(X′w) with the Heaviside g(0) = 0; (N,) of 0.0/1.0 in ``target.dtype``."""
        raise NotSupported(Capability.TLU_PREDICT.value)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        """One full-batch update w + η (y − g(X′w))ᵀ X′; (d,)."""
        raise NotSupported(Capability.PERCEPTRON_STEP.value)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        """Rosenblatt updates w + η (y_i − g(w·x′_i)) x′_i for i in ``order``; (len(order) + 1, d), row 0 = w0."""
        raise NotSupported(Capability.PERCEPTRON_ONLINE.value)

    # --- logistic regression --------------------------------------------------------------

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        """(Σ softplus(z) − y·z, X′ᵀ(σ(z) − y)) at z = X′w."""
        raise NotSupported(Capability.LOGISTIC_LOSS_GRAD.value)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        """The notebook's l_x(w) = −log σ(w·x) and its gradient, written as the framework's users write it."""
        raise NotSupported(Capability.SINGLE_EXAMPLE_LOSS_GRAD.value)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        """``steps`` gradient-descent steps w ← w − η∇l(w) from ``w0``."""
        raise NotSupported(Capability.LOGISTIC_TRAIN.value)

    # --- multi-layer perceptron -----------------------------------------------------------

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        """(logits z, probabilities σ(z)), each (N,)."""
        raise NotSupported(Capability.MLP_FORWARD.value)

    def mlp_loss_and_grads(
        self, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> tuple[np.ndarray, Params]:
        """(summed BCE-with-logits loss, gradients in the canonical layout)."""
        raise NotSupported(Capability.MLP_LOSS_GRADS.value)

    def mlp_train(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> MLPTrajectory:
        """``steps`` full-batch steps of ``optimizer`` from ``params``, the loss computed every step."""
        cap = Capability.MLP_TRAIN_SGD if isinstance(optimizer, SGD) else Capability.MLP_TRAIN_ADAM
        raise NotSupported(cap.value)

    # --- many nets at once (convergence statistics, scaling benchmarks) --------------------

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """``n`` nets' initial parameters drawn by the framework's own generator seeded with ``seed``.

        Canonical layout with the net as leading axis (W₁ (n, in, out), b₁ (n, out), …);
        ``initialiser`` is one of :attr:`initialisers`.  Deterministic in ``seed``, and leaves
        the framework's global generator state as it found it.
        """
        raise NotSupported(Capability.MLP_INIT.value)

    def mlp_train_batched(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> BatchedRun:
        """Train every net of ``params`` (net as leading axis) on the same (X, y), full batch,
        vectorised the framework's own way (einsum, batched matmul, vmap): each net's numbers
        are those :meth:`mlp_train` would give it alone."""
        raise NotSupported(Capability.MLP_TRAIN_BATCHED.value)

    # --- native path (benchmarks) ---------------------------------------------------------

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        """Prepare ``op`` (one of :data:`NATIVE_OPS`, same keyword arguments as the numpy operation,
        without ``target``) on the framework's own tensors and return a :class:`NativeOp`."""
        raise NotSupported(Capability.NATIVE.value)

    def clear_caches(self) -> None:
        """Forget every traced or compiled function, so the next native op compiles from cold.

        The compile-time benchmarks call it before each measured first call; implementations
        that compile nothing keep this no-op.
        """

    def supports(self, capability: Capability, dtype: str | None = None) -> bool:
        """Whether ``capability`` is declared (in ``dtype``, when given: see :attr:`capabilities_by_dtype`)."""
        declared = self.capabilities if dtype is None else self.capabilities_by_dtype.get(dtype, self.capabilities)
        return capability in declared

    def __str__(self) -> str:
        return self.name


class NativeBackedMLP(Implementation):
    """Implementation whose MLP operations are one run of its native path.

    For an implementation that writes each MLP operation once, for :meth:`native`, and lets
    the numpy-facing operations prepare, run and convert it: the benchmarked code and the
    conformance-tested code are then the same code.
    """

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        return self.native("mlp_forward", target, params=params, X=X).once()

    def mlp_loss_and_grads(
        self, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> tuple[np.ndarray, Params]:
        return self.native("mlp_loss_and_grads", target, params=params, X=X, y=y).once()

    def mlp_train(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> MLPTrajectory:
        return self.native("mlp_train", target, params=params, X=X, y=y, optimizer=optimizer, steps=steps).once()

    def mlp_train_batched(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> BatchedRun:
        op = self.native("mlp_train_batched", target, params=params, X=X, y=y, optimizer=optimizer, steps=steps)
        return op.once()


def check_native_op(op: str) -> None:
    """Raise ValueError for an op name the native path does not know."""
    if op not in NATIVE_OPS:
        raise ValueError(f"op: expected one of {NATIVE_OPS}, got {op!r}")


__all__ = [
    "DTYPES",
    "NATIVE_OPS",
    "BatchedRun",
    "Capability",
    "Implementation",
    "MLPTrajectory",
    "NativeBackedMLP",
    "NativeOp",
    "NotSupported",
    "Target",
    "Trajectory",
    "check_native_op",
]
