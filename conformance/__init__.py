"""gatespec's conformance suite: the implementation interface, the adapters, the pytest plugin."""

from .interface import Capability, Implementation, MLPTrajectory, NativeOp, NotSupported, Target, Trajectory

__all__ = ["Capability", "Implementation", "MLPTrajectory", "NativeOp", "NotSupported", "Target", "Trajectory"]
