"""``tf-xla``: tf-function's graphs compiled by XLA (``jit_compile=True``)."""

from __future__ import annotations

from typing import ClassVar

from gatespec.conformance.adapters.tensorflow_impl.function import TFFunction
from gatespec.conformance.spec.interface import Known


class TFXLA(TFFunction):
    """:class:`TFFunction` compiled by XLA (``jit_compile=True``).

    XLA specialises on concrete shapes, so a new row count compiles anew, as does a new step count
    (a constant of the trace, :func:`.function._compiled_train`); new hyperparameters do not.
    """

    name: ClassVar[str] = "tf-xla"
    jit_compile: ClassVar[bool] = True
    # The notebook's single-example loss, kept as written: −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ
    # underflows to 0 and the loss is inf (the reference's softplus(−w·x) is finite): no size to bound.
    known_deviations: ClassVar[dict[str, str | Known]] = {
        "test_single_example_loss_matches_reference[saturating-wrong": (
            "the notebook's TensorFlow cell compiled with XLA: the same naive −log σ, inf at saturation"
        ),
    }
