"""Global state an implementation must leave as it found it, and the plugin that checks it around every test.

:func:`global_settings` snapshots every process-wide switch and generator that can change a
result — Python's and numpy's global generators, numpy's error and print state, torch's default
dtype and device, threads, grad mode, TF32 switches and generators, JAX's configuration,
TensorFlow's device policy, threading, TF32, global seed and generator, Keras's floatx, dtype
policy and global seed generator — for each framework that is **already imported**: it never
imports one (importing TensorFlow takes seconds, and would change what a numpy-only run does).
A setting whose value is a dict (numpy's error state, its print options) is one entry per key,
and a generator is a short digest of its whole state, so that a change names what moved.

:class:`StateCheck` (registered by the gatespec plugin; ``--gatespec-no-state-check`` turns it
off) adds what each selected implementation declares of its own framework's state
(``Implementation.global_state()``: a framework the suite does not know, its seed or context),
takes a snapshot before and after the call of every test that takes an implementation
and fails a test that passed but changed any setting present before it ran, with a message
naming the implementation, the test and each setting with its value before → after.  A test
that failed keeps its own failure, with the state change added as a note; a skipped one is
not checked.  Cost, twice per test (measured on a loaded 2-core machine): about 25 µs a snapshot
with numpy alone, 0.1–0.2 ms with torch, JAX, TensorFlow and Keras imported (most of it
TensorFlow's config getters), 0.4 ms once TensorFlow's and Keras's global generators exist.
"""

from __future__ import annotations

import ctypes
import hashlib
import random
import sys
from typing import Any

import numpy as np
import pytest

from gatespec.conformance.plugin import parametrize
from gatespec.conformance.plugin.options import NO_STATE_CHECK

PLUGIN_NAME = "gatespec-state-check"
OPTION = NO_STATE_CHECK


def _digest(*parts: Any) -> str:
    """A short digest of a generator's state: arrays by their bytes, anything else by its repr."""
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return h.hexdigest()[:12]


def _flat(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {f"{name} {k}": v for k, v in settings.items()}


def global_settings() -> dict[str, Any]:
    """Every process-wide switch or generator that can change a result, of the frameworks already imported.

    Never imports a framework: one that is not in ``sys.modules`` has no state to leak yet (one
    imported later appears in a later snapshot, so compare the keys of the earlier one).
    """
    found: dict[str, Any] = {
        # The global generators a careless style would draw from (random.random, np.random.rand).
        # hash() of a tuple of ints is the same in every process (PYTHONHASHSEED salts str, not int).
        "python random generator": f"{hash(random.getstate()) & 0xFFFFFFFFFFFF:012x}",
        "numpy global generator": _numpy_generator(),
        **_flat("numpy errstate", np.geterr()),
        "numpy error callback": repr(np.geterrcall()),
        **_flat("numpy printoptions", np.get_printoptions()),
    }
    modules = sys.modules
    if "torch" in modules:
        found |= _torch(modules["torch"])
    if "jax" in modules:
        found |= _jax(modules["jax"])
    if "tensorflow" in modules:
        found |= _tensorflow(modules["tensorflow"])
    if "keras" in modules:
        found |= _keras(modules["keras"])
    return found


_MT19937 = np.random.MT19937
_MT19937_BYTES = 624 * 4 + 4  # numpy/random/src/mt19937/mt19937.h: struct {uint32_t key[624]; int pos;}


def _numpy_generator() -> str:
    """numpy's global generator (np.random.rand & co.): a digest of its whole state, position included.

    MT19937 rewrites its 624-word key only every 624 draws, so the key alone misses most draws.
    """
    bit_generator = np.random.get_bit_generator()
    if type(bit_generator) is not _MT19937:  # another one, set by np.random.set_bit_generator
        return _digest(type(bit_generator).__name__, *_leaves(bit_generator.state))
    if _FAST_READ:
        # Read in place through the bit generator's ctypes interface: ~1 µs, where get_state() takes
        # ~60 µs (MT19937.state copies its key one element at a time).  It leaves out the legacy
        # Gaussian cache, so one np.random.randn() that only takes the cached second value of a pair
        # drawn earlier goes unseen (the earlier draw moved the key and position).
        return hashlib.sha256(ctypes.string_at(bit_generator.ctypes.state_address, _MT19937_BYTES)).hexdigest()[:12]
    _, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    return _digest(keys, pos, has_gauss, gauss)


def _leaves(state: Any) -> list[Any]:
    """A bit generator's state dict flattened to its arrays and scalars, in order (no repr of arrays: it elides)."""
    if isinstance(state, dict):
        return [x for k in sorted(state) for x in (k, *_leaves(state[k]))]
    return [state]


def _fast_read_works() -> bool:
    """Whether the in-place read sees the state get_state() reports (checked once, at import)."""
    try:
        bit_generator = np.random.get_bit_generator()
        if type(bit_generator) is not _MT19937:
            return False
        raw = ctypes.string_at(bit_generator.ctypes.state_address, _MT19937_BYTES)
        _, keys, pos, _, _ = np.random.get_state()  # noqa: NPY002
        return raw == np.ascontiguousarray(keys, dtype="<u4").tobytes() + int(pos).to_bytes(4, "little", signed=True)
    except Exception:
        return False


_FAST_READ = _fast_read_works()


def _torch(torch) -> dict[str, Any]:
    backends = torch.backends
    found = {
        "torch default dtype": torch.get_default_dtype(),
        "torch default device": str(torch.get_default_device()),
        "torch threads": torch.get_num_threads(),
        "torch interop threads": torch.get_num_interop_threads(),
        "torch float32 matmul precision": torch.get_float32_matmul_precision(),
        "torch cuda matmul tf32": backends.cuda.matmul.allow_tf32,
        "torch cudnn tf32": backends.cudnn.allow_tf32,
        "torch cudnn deterministic": backends.cudnn.deterministic,
        "torch cudnn benchmark": backends.cudnn.benchmark,
        "torch grad enabled": torch.is_grad_enabled(),
        "torch inference mode": torch.is_inference_mode_enabled(),
        "torch deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "torch anomaly detection": torch.is_anomaly_enabled(),
        "torch global generator": _digest(torch.random.get_rng_state().numpy()),
    }
    if torch.cuda.is_initialized():  # never initialised by the snapshot itself
        found["torch cuda generators"] = _digest(*(s.numpy() for s in torch.cuda.get_rng_state_all()))
    return found


_JAX_SWITCHES = (
    "enable_x64",
    "default_matmul_precision",
    "default_device",
    "disable_jit",
    "debug_nans",
    "numpy_rank_promotion",
    "numpy_dtype_promotion",
    "default_prng_impl",
)


def _jax(jax) -> dict[str, Any]:
    config = getattr(jax, "config", None)  # absent while jax is half imported
    return {f"jax {k}": str(getattr(config, f"jax_{k}", "absent")) for k in _JAX_SWITCHES}


def _tensorflow(tf) -> dict[str, Any]:
    config = getattr(tf, "config", None)
    if config is None:  # tensorflow half imported (by another thread, or the snapshot runs inside its import)
        return {}
    found = {
        "tf device policy": config.experimental.get_device_policy(),
        "tf intra-op threads": config.threading.get_intra_op_parallelism_threads(),
        "tf inter-op threads": config.threading.get_inter_op_parallelism_threads(),
        "tf tf32": config.experimental.tensor_float_32_execution_enabled(),
        "tf soft device placement": config.get_soft_device_placement(),
        "tf functions run eagerly": config.functions_run_eagerly(),
        "tf synchronous execution": config.experimental.get_synchronous_execution(),
        "tf jit": config.optimizer.get_jit(),
    }
    # tf.random.set_seed has no public getter; the eager context holds it.  The global generator
    # exists once tf.random.get_global_generator() was called (reading it never creates it).
    context = sys.modules.get("tensorflow.python.eager.context")
    if context is not None and hasattr(context, "global_seed"):
        found["tf global seed"] = context.global_seed()
    ops = sys.modules.get("tensorflow.python.ops.stateful_random_ops")
    generator = getattr(ops, "global_generator", None)
    found["tf global generator"] = "none" if generator is None else _digest(generator.state.numpy())
    return found


def _keras(keras) -> dict[str, Any]:
    config = getattr(keras, "config", None)
    if config is None:
        return {}
    found = {"keras floatx": config.floatx(), "keras dtype policy": config.dtype_policy().name}
    # Created by the first unseeded Keras random op (keras.random.*(seed=None), an initializer
    # without a seed); each such op advances it.
    state = sys.modules.get("keras.src.backend.common.global_state")
    if state is not None:
        generator = state.get_global_attribute("global_seed_generator")
        found["keras global seed generator"] = "none" if generator is None else _digest(generator.state.numpy())
    return found


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The settings of ``before`` that ``after`` holds with another value: name → (before, after)."""
    return {k: (v, after[k]) for k, v in before.items() if k in after and not _same(v, after[k])}


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # a value whose == is not a truth value (an array): compare what it shows
        return repr(a) == repr(b)


def describe(changes: dict[str, tuple[Any, Any]]) -> str:
    """``name before → after; …`` (strings as they are, other values by their repr)."""
    show = lambda v: v if isinstance(v, str) else repr(v)  # noqa: E731
    return "; ".join(f"{k} {show(a)} → {show(b)}" for k, (a, b) in changes.items())


_PASSED_XFAIL = pytest.StashKey[str]()


class StateCheck:
    """Fails a test of an implementation that changed global state (see the module's docstring)."""

    def __init__(self, config: pytest.Config, implementations: tuple = ()) -> None:
        self.enabled = not config.getoption(OPTION, False)
        self.implementations = implementations  # whose own global_state() joins every snapshot

    def snapshot(self) -> dict[str, Any]:
        """:func:`global_settings`, and what each selected implementation declares of its framework's state."""
        found = global_settings()
        for impl in self.implementations:
            try:
                declared = impl.global_state()
            except Exception as exc:  # a broken hook is reported as a value, and so as a change if it comes and goes
                declared = {"global_state()": f"raised {type(exc).__name__}: {exc}"}
            found |= {f"{impl.framework} {key}": value for key, value in declared.items()}
        return found

    def header(self) -> str:
        if self.enabled:
            return f"gatespec: global-state check on (each implementation's tests; {OPTION} to disable)"
        return f"gatespec: global-state check off ({OPTION})"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        impl = parametrize.gatespec_impl(item)
        if not self.enabled or impl is None:
            return (yield)
        before = self.snapshot()
        try:
            result = yield
        except pytest.skip.Exception:
            raise  # skipped (not declared, or unavailable): nothing ran to change anything
        except BaseException as exc:
            # Its own failure stands; the state change, if any, is a note beside it.
            try:
                changes = changed(before, self.snapshot())
            except Exception as snapshot_error:  # never let the check replace the test's own failure
                changes = {"(unreadable after the test)": (None, repr(snapshot_error))}
            if changes:
                _add_note(exc, _message(impl, item, changes))
            raise
        changes = changed(before, self.snapshot())
        if changes:
            message = _message(impl, item, changes)
            if item.get_closest_marker("xfail") is None:
                pytest.fail(message, pytrace=False)
            # An expected failure (a known deviation) that passed: a failure raised here would be
            # counted as the expected one, hiding both the leak and the XPASS; its report is failed
            # below instead.
            item.stash[_PASSED_XFAIL] = message
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        message = item.stash.get(_PASSED_XFAIL, None) if call.when == "call" else None
        if message is not None:
            del item.stash[_PASSED_XFAIL]
            # A non-strict xfail that passed carries wasxfail; a strict one is failed already, "[XPASS(strict)] …".
            xpass = getattr(report, "wasxfail", None) or (str(report.longrepr) if report.failed else None)
            report.outcome = "failed"
            report.longrepr = message if xpass is None else f"{message}\n(and it was expected to fail: {xpass})"
            if hasattr(report, "wasxfail"):
                del report.wasxfail  # a failure, not an XPASS: the strict xfail's own report has none either
        return report


def _add_note(exc: BaseException, note: str) -> None:
    # BaseException.add_note is Python ≥ 3.11; before, pytest shows __notes__ (by the exceptiongroup backport).
    try:
        exc.__notes__ = [*getattr(exc, "__notes__", ()), note]
    except Exception:  # an exception that takes no attributes: its own failure stands alone
        pass


def _message(impl: Any, item: pytest.Item, changes: dict[str, tuple[Any, Any]]) -> str:
    name = getattr(impl, "name", None) or str(impl)
    test = getattr(item, "originalname", None) or item.name
    return f"{name} / {test} / global state changed: {describe(changes)}"
