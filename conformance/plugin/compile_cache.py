"""``--gatespec-compile-cache=DIR``: the frameworks' own persistent compile caches, kept in DIR.

Most of a JAX style's time in the matrix is XLA compiling: jit per net shape, and eager
``jax.numpy`` compiling each primitive for each new shape (jax-grad and keras-jax, float64:
99.7 s of which a warm rerun keeps 29.4 s).  Each framework can keep what it compiled on disk,
keyed by everything that decides the code, and load it instead of compiling again:

- JAX's persistent compilation cache (``DIR/jax``), for every compile however short
  (``jax_persistent_cache_min_compile_time_secs = 0``).  The key is the HLO module, the compile
  options, the backend and the jax/jaxlib versions, so a hit is the executable that would have
  been compiled.  The xdist workers and the Keras worker subprocesses share the directory.  JAX
  writes an entry in place, so a process may read one that another is still writing; JAX then
  warns and compiles, which is all a torn read costs, so that warning is shown in the summary
  instead of failing the test (see :data:`WARNINGS`).  JAX's own remedy, a size limit, takes a
  file lock but also lists and stats the whole directory on every write: a cold run of the matrix
  took 901 s with it against 601–695 s without any cache, the extra all system time.
- TensorFlow's XLA cache (``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR/tf``), for
  tf-xla's ``jit_compile`` functions: keyed by the function's signature, the cluster's HLO and the
  device.  The signature holds the traced function's name, ``__inference_train_<uid>``, whose uid is
  a process-wide counter (``ops.uid()``), so an entry hits only in a process that traced the same
  functions in the same order: a rerun of the same selection in one process (tf-xla's matrix, one
  process: 101 s cold, 47 s warm), or under ``-n N --dist loadscope``, which gives TensorFlow's
  tests to one worker in collection order (scheduling.py).  Dealt to whichever worker was free, a
  warm main job wrote 187 new entries beside the cold run's 207; kept in order, none (204 after the
  cold run and after the warm one); tf-xla, tf-function, numpy and jax-jit under ``-n 2``, warm:
  110 s dealt, 78 s kept in order.  tf.function's tracing, the rest of TF's first-call cost, is
  Python work no cache keeps.
- torch.compile's Inductor cache (``TORCHINDUCTOR_CACHE_DIR = DIR/torchinductor``): Inductor keeps
  one on disk anyway, by default in the system's temporary directory shared by every run of the
  user; here it lives with the run's other caches, so a fresh DIR is a cold start for all three.

The settings go into the environment before any framework is imported, so the xdist workers and
every subprocess (the Keras workers) inherit them; JAX's are also set on an already imported jax
(a sub-run in a process that imported it), which takes effect if that process has not compiled yet.
Off by default: a plain ``pytest`` compiles afresh in every process.  The tox envs that run the
matrix turn it on in ``.tox/compile-cache``, so a clean clone starts cold and a rerun is warm.

Benchmarks time first calls as compile times (``test_compile``): with the cache on they would time
cache reads, so timed benchmarks with this option are a usage error (see :func:`check_benchmarks`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

OPTION = "--gatespec-compile-cache"

TF_FLAG = "--tf_xla_persistent_cache_directory"

# JAX's words when an entry cannot be read (torn by a concurrent write) or written: it compiles instead.
# Shown once in the warnings summary ("default"), where the suite's filterwarnings = error would fail
# the test that happened to compile.
WARNINGS = (
    "default:Error reading persistent compilation cache entry:UserWarning",
    "default:Error writing persistent compilation cache entry:UserWarning",
)


def add_option(group) -> None:
    group.addoption(
        OPTION,
        metavar="DIR",
        default=None,
        help="keep JAX's, TF XLA's and torch.compile's compiled code in DIR and reuse it in later processes and runs "
        "(default: off, every process compiles afresh)",
    )


def environment(directory: Path) -> dict[str, str]:
    """The variables that point each framework's persistent cache into ``directory``."""
    return {
        "JAX_COMPILATION_CACHE_DIR": str(directory / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "TF_XLA_FLAGS": _with_flag(os.environ.get("TF_XLA_FLAGS", ""), TF_FLAG, str(directory / "tf")),
        "TORCHINDUCTOR_CACHE_DIR": str(directory / "torchinductor"),
    }


def _with_flag(flags: str, name: str, value: str) -> str:
    """``flags`` with ``name=value`` in place of any earlier setting of ``name``."""
    kept = [f for f in flags.split() if f.split("=", 1)[0] != name]
    return " ".join([*kept, f"{name}={value}"])


def configure(config: pytest.Config) -> Path | None:
    """Turn the caches on for this process and its children; call before the adapters are imported."""
    value = config.getoption(OPTION)
    if not value:
        return None
    directory = Path(value).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    settings = environment(directory)
    os.environ.update(settings)
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.config.update("jax_compilation_cache_dir", settings["JAX_COMPILATION_CACHE_DIR"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    for line in WARNINGS:
        config.addinivalue_line("filterwarnings", line)
    return directory


def header(directory: Path | None) -> str:
    if directory is None:
        return f"gatespec: compile cache off (each process compiles afresh; {OPTION}=DIR keeps what it compiled)"
    entries = sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0
    warmth = f"{entries} files already there: a warm start" if entries else "empty: a cold start"
    return f"gatespec: compile cache {directory} (JAX, TF XLA, torch.compile's Inductor), {warmth}"


def check_benchmarks(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A usage error if compile times would be timed (test_compile, benchmarks enabled) with the cache on."""
    if not config.getoption(OPTION) or config.getoption("benchmark_disable", default=True):
        return
    timed = [item.nodeid for item in items if getattr(item, "originalname", "") == "test_compile"]
    if timed:
        raise pytest.UsageError(
            f"{OPTION} with timed benchmarks: test_compile ({len(timed)} tests) would time reads of the "
            "compile cache, not compiles; run the benchmarks without it (or with --benchmark-disable)"
        )
