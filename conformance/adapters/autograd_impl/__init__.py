"""HIPS autograd: one style (:mod:`.grad`: losses in autograd.numpy, gradients by ``autograd.value_and_grad``)."""

from gatespec.conformance.adapters.autograd_impl.grad import AutogradImplementation

__all__ = ["AutogradImplementation"]
