"""numpy: one style, the notebook's own (:mod:`.handwritten`: vectorised numpy, gradients derived by hand)."""

from .handwritten import NumpyImplementation

__all__ = ["NumpyImplementation"]
