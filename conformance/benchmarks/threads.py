"""The benchmarks' thread policy: one thread per framework, and what each framework reports it uses.

torch and numpy's BLAS read ``OMP_NUM_THREADS`` when they load, and XLA (JAX, TF's jit_compile) reads
``XLA_FLAGS``; tox's ``bench`` env sets both.  TensorFlow's own pools ignore the environment, so
:func:`pin_tensorflow_threads` sets them before TF runs its first op.  Used by the timed run
(``conftest.py``), its fresh processes (``processes.py``) and the instruction counts
(``instructions.py``) alike.
"""

from __future__ import annotations

import os
import sys

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_tensorflow_threads() -> None:
    """TensorFlow's pools on one thread each, if TF is loaded and has run no op yet."""
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TF already ran an op: thread_settings() reports what it has
            pass


def thread_settings() -> dict[str, str]:
    """What each loaded framework will use, read back from the framework where it can tell."""
    found = {
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", "unset"),
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        found["torch"] = f"intra-op {torch.get_num_threads()}, inter-op {torch.get_num_interop_threads()}"
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        intra, inter = threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()
        found["tensorflow"] = f"intra-op {intra or 'default'}, inter-op {inter or 'default'}"
    return found


def unpinned(settings: dict[str, str], framework: str) -> list[str]:
    """The settings that leave ``framework`` computing on more than one thread (a framework the suite does not
    know pins its own pools through ``Implementation.pin_threads()``).

    (torch's inter-op pool only runs independent graph branches, which eager ops never have.)
    """
    bad = []
    if framework in ("numpy", "autograd", "torch") and settings["OMP_NUM_THREADS"] != "1":
        bad.append(f"OMP_NUM_THREADS={settings['OMP_NUM_THREADS']} (want 1: numpy's BLAS, torch)")
    if framework in ("jax", "tensorflow") and XLA_ONE_THREAD not in settings["XLA_FLAGS"]:
        bad.append(f"XLA_FLAGS={settings['XLA_FLAGS']} (want {XLA_ONE_THREAD!r}: JAX, TF's XLA)")
    if framework == "torch" and not settings.get("torch", "intra-op 1,").startswith("intra-op 1,"):
        bad.append(f"torch: {settings['torch']}")
    if framework == "tensorflow" and settings.get("tensorflow", "intra-op 1, inter-op 1") != "intra-op 1, inter-op 1":
        bad.append(f"tensorflow: {settings['tensorflow']}")
    return bad
