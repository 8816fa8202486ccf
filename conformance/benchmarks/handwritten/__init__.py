"""Hand-written programs: what a careful user of a compiled or looped style's idiom writes for each task.

The benchmarks exist to time frameworks, not the suite's adapters.  Beside every style whose
native path is compiled or looped, a program in that style's idiom does each benchmark task
(:data:`gatespec.conformance.benchmarks.tasks.TASKS`) the short way: hyperparameters as the
constants a user writes, the data already on the device, nothing but the framework's own calls.
``test_task`` times it in alternation with the style's native op (:mod:`..paired`), so

    × hand-written = median_i (native op's time_i / program's time_i)

is what the adapter adds to the framework's own work; the report shows it beside the ratio to
the baseline, and ``gatespec report --max-handwritten`` gates on its interval's upper end.

A program module exposes ``prepare(style, task, target) -> NativeOp`` for the styles
:data:`PROGRAMS` maps to it: the native op's contract exactly (``run()`` does the whole task
from prepared inputs and blocks until the result exists; ``to_numpy`` gives the operation's
numpy result), so the same :func:`..expected.check_task` checks the program before and after it
is timed.  A program records what the task's operation returns (for a training run, every
step's parameters and loss), as the native op must.
"""

from __future__ import annotations

import importlib

from gatespec.conformance.spec.interface import NativeOp, Target

# style name → the module of this package that writes its programs.
PROGRAMS: dict[str, str] = {
    "jax-jit": "jax_programs",
    "jax-scan": "jax_programs",
    "flax-nnx": "flax_programs",
    "equinox": "equinox_programs",
    "tf-function": "tf_programs",
    "tf-xla": "tf_programs",
    "torch-compile": "torch_programs",
    "tf-keras": "keras_programs",
    "keras-jax": "keras_programs",
    "keras-torch": "keras_programs",
}


def program(style: str, task, target: Target) -> NativeOp | None:
    """The hand-written program of ``style``'s idiom for ``task``, prepared on ``target``; None if it has none."""
    module = PROGRAMS.get(style)
    if module is None:
        return None
    return importlib.import_module(f"{__name__}.{module}").prepare(style, task, target)
