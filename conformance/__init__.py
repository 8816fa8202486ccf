"""gatespec's conformance suite: the implementation interface, the adapters, the pytest plugin.

The names below are imported on first use (PEP 562): the pytest plugin lives in this package and is
loaded in every pytest session of an environment with gatespec installed, and must not import numpy
there.
"""

from __future__ import annotations

import importlib

__all__ = ["Capability", "Implementation", "Known", "MLPTrajectory", "NativeOp", "NotSupported", "Target", "Trajectory"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module(".spec.interface", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
