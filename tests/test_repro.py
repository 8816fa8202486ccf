"""`gatespec repro`: the script reproduces the test standalone — it passes where the style is right, fails on a
planted bug — and imports no gatespec.

Each script runs in a fresh interpreter with ``-I`` (isolated: no PYTHONPATH, no user site, the script's folder
not this checkout), so an import of gatespec would fail it; its planted bug is an edit of its own framework
code, as a user trimming a report would make one.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gatespec.conformance.tools import cli, repro

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "tests" / "exec_clients" / "numpy_client.py"


def _script(tmp_path: Path, nodeid: str, impl: str) -> Path:
    out = tmp_path / "repro.py"
    assert cli.main(["repro", nodeid, "--impl", impl, "-o", str(out)]) == 0
    text = out.read_text()
    assert "gatespec" not in "".join(line for line in text.splitlines() if line.startswith(("import", "from")))
    return out


def _run(script: Path) -> subprocess.CompletedProcess:
    # -I: isolated from this checkout and from PYTHONPATH, as in a bug report's fresh environment.
    return subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, timeout=600)


def _plant(script: Path, text: str, bug: str) -> None:
    source = script.read_text()
    assert source.count(text) == 1, f"the template changed: {text!r} is not in it once"
    script.write_text(source.replace(text, bug))


@pytest.mark.parametrize(
    ("nodeid", "style", "text", "bug"),
    [
        (
            "test_mlp_adam_trajectory[torch-optim-xor-2-2-1-adam-keras-defaults-float32]",
            "torch-optim",
            'betas=(spec["beta1"], spec["beta2"])',
            'betas=(spec["beta1"], 0.99)',  # BUG: β₂ of another optimizer
        ),
        (
            "test_mlp_loss_and_gradients_match_reference[torch-nn-xor-2-2-1-float64]",
            "torch-nn",
            'LOSS = nn.BCEWithLogitsLoss(reduction="sum")',
            'LOSS = nn.BCEWithLogitsLoss(reduction="mean")',  # BUG: the mean, not the sum
        ),
        (
            "test_mlp_sgd_trajectory[jax-jit-xor-2-2-1-float32]",
            "jax-jit",
            "return [p - lr * g for p, g in zip(params, grads)], loss",
            "return [p - lr * g for p, g in zip(params, grads)], loss * 2",  # BUG: the loss doubled, not the step
        ),
        (
            "test_mlp_adam_trajectory[jax-jit-xor-2-2-1-adam-keras-defaults-float32]",
            "jax-jit",
            'step_size = scalar(spec["lr"] / (1 - b1**t))',
            'step_size = scalar(spec["lr"] / (1 - b1 ** (t + 1)))',  # BUG: the bias correction one step late
        ),
        (
            "test_mlp_sgd_trajectory[tf-xla-xor-2-2-1-float32]",
            "tf-xla",
            "p.assign_sub(lr * g)",
            "p.assign_sub(lr * g * 1.01)",  # BUG: a step 1% long
        ),
        (
            "test_mlp_loss_and_gradients_match_reference[numpy-xor-2-2-1-float64]",
            "numpy",
            "delta = (sigmoid(z) - y)[:, None]",
            "delta = (sigmoid(z) - y)[:, None] / len(y)",  # BUG: the mean's gradient for the sum's loss
        ),
    ],
)
def test_a_python_style_reproduces_and_a_planted_bug_fails(tmp_path, nodeid, style, text, bug):
    pytest.importorskip(repro.STYLES[style][0], reason=f"{style} needs its framework in this environment")
    script = _script(tmp_path, nodeid, style)
    passed = _run(script)
    assert passed.returncode == 0 and "passed" in passed.stdout, passed.stdout + passed.stderr
    _plant(script, text, bug)
    planted = _run(script)
    assert planted.returncode == 1 and "FAILED" in planted.stdout, planted.stdout + planted.stderr


@pytest.mark.parametrize(
    ("nodeid", "style"),
    [
        ("test_mlp_one_adam_step[tf-keras-xor-2-2-1-float64]", "tf-keras"),  # Keras's ε before the bias correction
        ("test_mlp_one_adam_step[torch-compile-xor-2-2-1-float64]", "torch-compile"),  # float32 β powers
    ],
)
def test_a_known_deviation_reproduces_as_a_failure(tmp_path, nodeid, style):
    """What a framework does differently, reproduced without gatespec: the script a bug report would carry."""
    pytest.importorskip(repro.STYLES[style][0], reason=f"{style} needs its framework in this environment")
    failed = _run(_script(tmp_path, nodeid, style))
    assert failed.returncode == 1 and "FAILED" in failed.stdout, failed.stdout + failed.stderr


def test_an_exec_program_reproduces_and_a_planted_bug_fails(tmp_path):
    nodeid = "test_mlp_loss_and_gradients_match_reference[numpy-exec-xor-2-2-1-float64]"
    program = shlex.join([sys.executable, str(CLIENT)])
    script = _script(tmp_path, nodeid, f"exec:{program}")
    passed = _run(script)
    assert passed.returncode == 0 and "passed" in passed.stdout, passed.stdout + passed.stderr
    # The planted bug is the program's: every gradient's sign flipped.
    faulty = _script(tmp_path, nodeid, f"exec:{program} --fault grad-sign --fault-op mlp_loss_and_grads")
    failed = _run(faulty)
    assert failed.returncode == 1 and "FAIL gradient W1" in failed.stdout, failed.stdout + failed.stderr


@pytest.mark.parametrize(
    ("nodeid", "style", "says"),
    [
        ("test_mlp_forward_matches_reference[flax-nnx-xor-2-2-1-float32]", "flax-nnx", "no reproduction template"),
        ("test_mlp_forward_matches_reference[keras-jax-xor-2-2-1-float32]", "keras-jax", "no reproduction template"),
        ("test_threshold_predictions_are_exact[jax-jit-and-float32]", "jax-jit", "has no template"),
        ("test_mlp_forward_matches_reference[jax-jit-no-such-case-float32]", "jax-jit", "no case of"),
        ("test_hidden_units_permuted[jax-jit-xor-2-2-1-float32]", "jax-jit", "not a test of the exported matrix"),
        ("test_mlp_forward_matches_reference[torch-nn-xor-2-2-1-float32]", "jax-jit", "do not start with"),
    ],
)
def test_what_cannot_be_reproduced_is_refused_with_what_can(nodeid, style, says, capsys):
    assert cli.main(["repro", nodeid, "--impl", style]) == 2
    assert says in capsys.readouterr().err
