"""jax-grad: eager ``jax.numpy`` with ``jax.grad`` / ``jax.value_and_grad``, the notebook's "Using JAX" cell.

The model's pure functions (:mod:`.common`) called as they are, under no transform, so JAX
dispatches them op by op, and training is the base's Python loop over those eager steps.
Nothing is traced or compiled, which is also why this style trains no thousand nets at once.
"""

from __future__ import annotations

from typing import ClassVar

from gatespec.conformance.adapters.jax_impl.common import JaxStyle
from gatespec.conformance.spec.interface import Capability, Known


class JaxGrad(JaxStyle):
    """Eager jax.numpy with jax.grad / jax.value_and_grad and Python training loops (the base's default transform)."""

    name: ClassVar[str] = "jax-grad"
    execution: ClassVar[str] = "eager"
    slow_eager: ClassVar[str] = (
        "eager jax.grad dispatches op by op: 1000 steps take 13–34 s, so it runs a 50-step prefix"
    )
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability) - {Capability.MLP_TRAIN_BATCHED}
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "eager jax.grad dispatches op by op: 1000 steps take 13–34 s a run, so the "
        "1000-net statistics would take minutes; jax-jit and jax-scan vmap the same step",
    }
    # The notebook's single-example loss, kept as written: −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ
    # underflows to 0 and the loss is inf (the reference's softplus(−w·x) is finite): no size to bound.
    known_deviations: ClassVar[dict[str, str | Known]] = {
        "test_single_example_loss_matches_reference[saturating-wrong": (
            "naive -log(1/(1+exp(-x·w))) as the notebook's JAX cell: inf at saturation"
        ),
    }
