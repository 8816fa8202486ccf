"""HIPS autograd: one style (:mod:`.grad`: losses in autograd.numpy, gradients by ``autograd.value_and_grad``)."""

from .grad import AutogradImplementation

__all__ = ["AutogradImplementation"]
