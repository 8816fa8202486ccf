"""Central differences in float64: the third, independent way of computing a gradient (lives in conformance.checks)."""

from gatespec.conformance.spec.compare import central_gradient

__all__ = ["central_gradient"]
