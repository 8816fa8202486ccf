"""numpy: one style, the notebook's own (:mod:`.handwritten`: vectorised numpy, gradients derived by hand)."""

from gatespec.conformance.adapters.numpy_impl.handwritten import NumpyImplementation

__all__ = ["NumpyImplementation"]
