"""``tf-xla``: tf-function's graphs compiled by XLA (``jit_compile=True``)."""

from __future__ import annotations

from typing import ClassVar

from .function import TFFunction


class TFXLA(TFFunction):
    """:class:`TFFunction` compiled by XLA (``jit_compile=True``).

    XLA specialises on concrete shapes and on the step count (it sizes the TensorArrays), so a
    new batch size or step count recompiles the cluster, though tf.function does not retrace.
    """

    name: ClassVar[str] = "tf-xla"
    jit_compile: ClassVar[bool] = True
