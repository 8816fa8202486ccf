"""keras-jax / keras-torch through their worker subprocess (conformance/adapters/keras_impl/proxy.py).

Keras fixes its backend per process, so outside a KERAS_BACKEND=jax (torch) process these styles
send every operation to a worker of that backend.  Here: the worker's numbers are the in-process
style's (bit for bit, where this process runs that backend) and the reference's (float64 to
float64 rounding: the worker's x64 is real); a dead or garbled worker fails one call with an
error naming the style and its stderr, and the next call starts a new one; NotSupported and
ValueError come back as themselves.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:
    pytest.skip("keras is not installed", allow_module_level=True)

from gatespec.conformance.adapters.keras_impl.proxy import Worker, WorkerError
from gatespec.conformance.adapters.keras_impl.styles import process_backend
from gatespec.conformance.spec.interface import NotSupported, Target
from gatespec.reference import gates, init, mlp

XOR = gates.gate("xor")
P221 = init.standard_normal((2, 2, 1), np.random.default_rng(0))
F32, F64 = Target("float32"), Target("float64")

# Worker starts import Keras and a framework (seconds each): one per backend for the module.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=["jax", "torch"])
def worker(request):
    pytest.importorskip(request.param)
    w = Worker(f"keras-{request.param}", request.param)
    yield w
    w.close()


@pytest.fixture(scope="module")
def jax_worker():
    pytest.importorskip("jax")
    w = Worker("keras-jax", "jax")
    yield w
    w.close()


def _in_process(backend: str):
    """The in-process style, where this process's Keras runs on ``backend``; else None."""
    if process_backend() != backend:
        return None
    from gatespec.conformance.adapters.keras_impl import jax_backend, torch_backend

    return {"jax": jax_backend.KerasJaxLocal, "torch": torch_backend.KerasTorchLocal}[backend]()


def test_worker_matches_the_in_process_style_and_the_reference(worker):
    z_ref, _ = mlp.forward(P221, XOR.X)
    for target in (F32, F64):
        z, p = worker.call("mlp_forward", P221, XOR.X, target)
        assert z.dtype == p.dtype == target.np_dtype
        local = _in_process(worker.backend)
        if local is not None:  # the same code in this process: the same bits
            z_local, p_local = local.mlp_forward(P221, XOR.X, target)
            np.testing.assert_array_equal(z, z_local)
            np.testing.assert_array_equal(p, p_local)
        if target is F32:
            np.testing.assert_allclose(z, z_ref, rtol=1e-5, atol=1e-6)
    # float64 is float64 in the worker on JAX (JAX_ENABLE_X64=1): float32 would be ~1e-8 off.
    # Keras on PyTorch computes a float64 Dense's matmul in float32 (its result_type maps
    # float64 to float32 off TensorFlow): a measured known deviation of keras-torch.
    z64, _ = worker.call("mlp_forward", P221, XOR.X, F64)
    if worker.backend == "jax":
        np.testing.assert_allclose(z64, z_ref, rtol=1e-14, atol=1e-14)
    else:
        assert 0 < np.max(np.abs(z64 - z_ref)) < 1e-6


def test_worker_trains_like_the_reference_in_float32(worker):
    run = worker.call("mlp_train", P221, XOR.X, XOR.y, mlp.SGD(0.5), 3, F32)
    want = mlp.train(P221, XOR.X, XOR.y, mlp.SGD(0.5), 3)
    for got, ref in zip(run.params, want.params):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.losses, want.losses, rtol=1e-5, atol=1e-6)


def test_not_supported_and_value_errors_cross_the_pipe_as_themselves(jax_worker):
    with pytest.raises(NotSupported):
        jax_worker.call("mlp_train_batched", P221, XOR.X, XOR.y, mlp.SGD(0.5), 1, F32)
    with pytest.raises(ValueError, match="initialiser"):
        jax_worker.call("mlp_init", "torch-linear", (2, 2, 1), 3, 0, F32)
    # The worker survives its operations' exceptions.
    assert jax_worker.call("mlp_forward", P221, XOR.X, F32)[0].shape == (4,)


def test_a_killed_worker_fails_one_call_and_the_next_call_restarts_it(jax_worker):
    jax_worker.call("mlp_forward", P221, XOR.X, F32)
    pid = jax_worker.pid
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"keras-jax: the Keras worker subprocess .*next call starts a new one"):
        jax_worker.call("mlp_forward", P221, XOR.X, F32)
    z, _ = jax_worker.call("mlp_forward", P221, XOR.X, F32)
    assert jax_worker.pid != pid
    np.testing.assert_allclose(z, mlp.forward(P221, XOR.X)[0], rtol=1e-5, atol=1e-6)


# Fake workers: read one request, then misbehave; each writes a line to stderr that the error must quote.
_READ = "import sys, pickle; pickle.load(sys.stdin.buffer); sys.stderr.write('fake worker was here\\n'); "


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (_READ + "sys.stdout.write('garbage'); sys.stdout.flush()", "not a pickle"),
        (_READ + "sys.exit(3)", "died during"),
        (_READ + "pickle.dump(42, sys.stdout.buffer); sys.stdout.flush()", "not \\('ok'\\|'err', value\\)"),
    ],
    ids=["garbage", "dies", "wrong-reply"],
)
def test_a_misbehaving_worker_fails_with_its_stderr_and_is_restarted(script, says):
    w = Worker("keras-fake", "jax", argv=[sys.executable, "-c", script], env=dict(os.environ))
    try:
        for _ in range(2):  # each call starts a new child, which misbehaves again
            with pytest.raises(WorkerError, match=says) as info:
                w.call("mlp_forward", P221, XOR.X, F32)
            assert "keras-fake" in str(info.value) and "fake worker was here" in str(info.value)
            assert w.pid is None  # killed: the next call starts a new one
    finally:
        w.close()
