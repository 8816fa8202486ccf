"""``tf-xla``: tf-function's graphs compiled by XLA (``jit_compile=True``)."""

from __future__ import annotations

from typing import ClassVar

from gatespec.conformance.adapters.tensorflow_impl import common
from gatespec.conformance.adapters.tensorflow_impl.function import TFFunction
from gatespec.conformance.spec.interface import Known


class TFXLA(TFFunction):
    """:class:`TFFunction` compiled by XLA (``jit_compile=True``).

    XLA specialises on concrete shapes, so a new row count compiles anew, as does a new step count
    (a constant of the trace, :func:`.function._compiled_train`); new hyperparameters do not.
    """

    name: ClassVar[str] = "tf-xla"
    jit_compile: ClassVar[bool] = True
    known_deviations: ClassVar[dict[str, str | Known]] = common.naive_single_example(
        "the notebook's TensorFlow cell compiled with XLA: the same naive −log σ, inf at saturation"
    )
