"""The operations an implementation answers, in one table: what each needs, takes and returns.

Everything else that names an operation is derived from :data:`OPERATIONS`: the exec protocol's
operation list (``adapters/exec_impl/protocol.py``), the inputs of a native op
(``adapters/style.py``), the export's index and its JSON Schema (``tools/schema.py``), and how the
checks' runner reads a result (:func:`named_results`).

An entry's ``args`` are in the order the :class:`~gatespec.conformance.spec.interface.Implementation`
method takes them (``target`` follows), its ``results`` in the order a tuple result holds them, or
the attribute names of a run (``Trajectory.weights``, ``MLPTrajectory.params``, …).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Capability(enum.Enum):
    """Operations an implementation may declare; values are the names used in reports."""

    TLU_PREDICT = "tlu-predict"
    PERCEPTRON_STEP = "perceptron-step"
    PERCEPTRON_ONLINE = "perceptron-online"
    LOGISTIC_LOSS_GRAD = "logistic-loss-grad"
    SINGLE_EXAMPLE_LOSS_GRAD = "single-example-loss-grad"
    LOGISTIC_TRAIN = "logistic-train"
    MLP_FORWARD = "mlp-forward"
    MLP_LOSS_GRADS = "mlp-loss-grads"
    MLP_TRAIN_SGD = "mlp-train-sgd"
    MLP_TRAIN_ADAM = "mlp-train-adam"
    MLP_INIT = "mlp-init"
    MLP_TRAIN_BATCHED = "mlp-train-batched"
    NATIVE = "native"


@dataclass(frozen=True)
class Operation:
    """One operation: the capabilities that declare it (mlp_train: SGD's, then Adam's), its arguments and results,
    each name with its shape or meaning, and whether it is a native op (``Implementation.native``)."""

    capability: tuple[Capability, ...]
    args: dict[str, str]
    results: dict[str, str]
    native: bool = False


OPERATIONS: dict[str, Operation] = {
    "tlu_predict": Operation(
        (Capability.TLU_PREDICT,),
        {"Xb": "(N, d)", "w": "(d)"},
        {"y": "(N): g(Xb·w), Heaviside with g(0) = 0"},
    ),
    "perceptron_step": Operation(
        (Capability.PERCEPTRON_STEP,),
        {"Xb": "(N, d)", "y": "(N)", "w": "(d)", "eta": "number"},
        {"w": "(d): w + η (y − g(Xb·w))ᵀ Xb"},
    ),
    "perceptron_online": Operation(
        (Capability.PERCEPTRON_ONLINE,),
        {"Xb": "(N, d)", "y": "(N)", "w0": "(d)", "eta": "number", "order": "(K) integers"},
        {"w": "(K+1, d): row 0 = w0, then one per i in order"},
    ),
    "logistic_loss_and_grad": Operation(
        (Capability.LOGISTIC_LOSS_GRAD,),
        {"Xb": "(N, d)", "y": "(N)", "w": "(d)"},
        {"loss": "number: Σ softplus(z) − y·z at z = Xb·w", "grad": "(d): Xbᵀ(σ(z) − y)"},
    ),
    "single_example_loss_and_grad": Operation(
        (Capability.SINGLE_EXAMPLE_LOSS_GRAD,),
        {"x": "(d)", "w": "(d)"},
        {"loss": "number: −log σ(w·x)", "grad": "(d)"},
    ),
    "logistic_train": Operation(
        (Capability.LOGISTIC_TRAIN,),
        {"Xb": "(N, d)", "y": "(N)", "w0": "(d)", "eta": "number", "steps": "integer"},
        {"weights": "(steps+1, d): w_t, w ← w − η∇l(w)", "losses": "(steps): l(w_t)"},
    ),
    "mlp_forward": Operation(
        (Capability.MLP_FORWARD,),
        {"params": "[W1, b1, …, WL, bL]", "X": "(N, n)"},
        {"z": "(N): logits", "p": "(N): σ(z)"},
        native=True,
    ),
    "mlp_loss_and_grads": Operation(
        (Capability.MLP_LOSS_GRADS,),
        {"params": "[W1, b1, …, WL, bL]", "X": "(N, n)", "y": "(N)"},
        {"loss": "number: Σ softplus(z) − y·z", "grads": "like params"},
        native=True,
    ),
    "mlp_train": Operation(
        (Capability.MLP_TRAIN_SGD, Capability.MLP_TRAIN_ADAM),
        {"params": "[W1, b1, …]", "X": "(N, n)", "y": "(N)", "optimizer": "sgd or adam", "steps": "integer"},
        {"params": "per parameter (steps+1, *shape): θ_t", "losses": "(steps): l(θ_t)"},
        native=True,
    ),
    "mlp_train_batched": Operation(
        (Capability.MLP_TRAIN_BATCHED,),
        {
            "params": "[W1, b1, …], net axis first",
            "X": "(N, n)",
            "y": "(N)",
            "optimizer": "sgd or adam",
            "steps": "integer",
        },
        {"params": "net axis first, final only", "losses": "(steps, B)"},
        native=True,
    ),
}

# The operations native() prepares, and the inputs each takes (its arguments, by name).
NATIVE_INPUTS: dict[str, frozenset[str]] = {name: frozenset(op.args) for name, op in OPERATIONS.items() if op.native}
NATIVE_OPS = tuple(NATIVE_INPUTS)


def optimizer_capability(optimizer: Any) -> Capability:
    """The capability a training run with ``optimizer`` needs: SGD's or Adam's (reference.mlp.SGD / Adam)."""
    sgd, adam = OPERATIONS["mlp_train"].capability
    return adam if type(optimizer).__name__ == "Adam" else sgd


def named_results(operation: str, result: Any, where: str) -> dict[str, Any]:
    """The result of ``operation`` by its results' names: a single array, a tuple in the table's order, or a run's
    attributes.  A tuple of another length is an AssertionError that says so (``where`` names the test)."""
    names = tuple(OPERATIONS[operation].results)
    if len(names) == 1:
        return {names[0]: result}
    if isinstance(result, (tuple, list)):
        if len(result) != len(names):
            raise AssertionError(f"{where}: {operation} returned {len(result)} values, expected {', '.join(names)}")
        return dict(zip(names, result))
    missing = [n for n in names if not hasattr(result, n)]
    if missing:
        raise AssertionError(f"{where}: {operation} returned {type(result).__name__}, without {', '.join(missing)}")
    return {n: getattr(result, n) for n in names}
