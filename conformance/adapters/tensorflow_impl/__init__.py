"""TensorFlow implementations: eager GradientTape, tf.function, XLA, and Keras 3 on the TF backend.

- ``tf-tape`` (:mod:`.tape`): eager TensorFlow as the notebook's "Using TensorFlow Eager" cell
  writes it: ``tf.Variable`` parameters, ``tf.GradientTape``, manual ``assign_sub`` updates.
- ``tf-function`` (:mod:`.function`): the same maths traced into graphs by ``tf.function``; the whole
  training loop (``tf.range`` + ``tf.TensorArray``) is one compiled call.
- ``tf-xla`` (:mod:`.xla`): ``tf-function`` with ``jit_compile=True``.
- ``tf-keras`` (:mod:`.keras`): ``keras.Sequential`` of ``Dense`` layers, a Keras loss and Keras optimizers.

What they share is :mod:`.common`: placement and conversion, the maths as TF ops, Adam's step
as tensors, the initialisers, and :class:`~.common.TensorFlowStyle`, the base whose documented hooks
each style overrides in its own idiom.  Many nets at once: tf-function and tf-xla train B nets,
stacked on a leading axis, in one compiled loop.  ``mlp_init`` draws from generators of its
own, never the global one: Keras Dense's default (Glorot uniform kernel, zero bias) with a
``keras.random.SeedGenerator``, or ``tf.random.normal`` from a ``tf.random.Generator``.

Importing this package imports TensorFlow; before that it sets ``TF_CPP_MIN_LOG_LEVEL=1`` with
``os.environ.setdefault`` (so a value the user chose wins), which hides only TensorFlow's C++
INFO lines.  Nothing else global is changed: no Keras floatx, no threading, no device policy.
"""

from gatespec.conformance.adapters.tensorflow_impl.function import TFFunction
from gatespec.conformance.adapters.tensorflow_impl.keras import TFKeras
from gatespec.conformance.adapters.tensorflow_impl.tape import TFTape
from gatespec.conformance.adapters.tensorflow_impl.xla import TFXLA

__all__ = ["TFXLA", "TFFunction", "TFKeras", "TFTape"]
