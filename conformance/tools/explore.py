"""Hypothesis strategies over the generated cases' factors, for ``--gatespec-explore N`` (``test_explore.py``).

The fixed cases (``generated.py``) cover every pair of factor levels once; these strategies draw
the same factors freely — depth 1–4, a catalogue gate of 1–6 inputs, the scale (tiny, unit,
large, saturating), the hidden widths (1–8; the design has one shape per inputs and depth),
the seed that fixes the parameters, SGD's step size in [10⁻³, 2],
Adam's lr, β₁, β₂ and ε, the logistic η and the number of steps — and build each case with
:func:`generated.mlp_case` or :func:`generated.logistic_case`.  Hypothesis shrinks a failure
towards fewer inputs, shallower and narrower nets, smaller seeds and steps, and :func:`render`
prints the shrunk case as the line to keep in a ``--gatespec-regressions`` file (:mod:`.regressions`)::

    generated.mlp_case("majority-5", depth=3, scale="large", seed=17, widths=(2, 5))
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from gatespec.conformance.spec import generated
from gatespec.conformance.spec.cases import LogisticCase, MLPCase
from gatespec.reference.mlp import SGD, Adam

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
# The scales a run learns from: trajectories and the metamorphic checks leave saturation to the value checks.
LEARNING_SCALES = ("tiny", "unit", "large")
SGD_RATES = (1e-3, 2.0)
LOGISTIC_RATES = (1e-3, 2.0)
# Adam's hyperparameters, around every level of the design (generated.ADAM_*) and beyond.
ADAM_LRS = (1e-4, 0.3)
ADAM_BETA1S = (0.0, 0.99)
ADAM_BETA2S = (0.5, 0.9999)
ADAM_LOG10_EPSILONS = (-10.0, -2.0)


def sgds() -> st.SearchStrategy[SGD]:
    """SGD with a step size in [10⁻³, 2]."""
    return st.builds(SGD, lr=st.floats(*SGD_RATES))


def adams() -> st.SearchStrategy[Adam]:
    """Adam with lr, β₁, β₂ in their ranges above and ε = 10^k, k in [−10, −2]."""
    return st.builds(
        Adam,
        lr=st.floats(*ADAM_LRS),
        beta1=st.floats(*ADAM_BETA1S),
        beta2=st.floats(*ADAM_BETA2S),
        eps=st.floats(*ADAM_LOG10_EPSILONS).map(lambda k: 10.0**k),
    )


def gate_names(n_inputs: int) -> st.SearchStrategy[str]:
    """A catalogue gate with ``n_inputs`` inputs (generated.GATES_BY_INPUTS)."""
    return st.sampled_from(generated.GATES_BY_INPUTS[n_inputs])


def mlp_cases(
    *,
    depths: Sequence[int] = generated.DEPTHS,
    scales: Sequence[str] = generated.SCALES,
    optimizers: st.SearchStrategy[SGD | Adam] | None = None,
    steps: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[MLPCase]:
    """Nets of ``depths`` weight layers on a gate of 1–6 inputs at one of ``scales``, from any seed.

    ``optimizers`` (default: none drawn, so ``SGD()``) and ``steps`` (default 0: a case for values
    and single steps) as :func:`generated.mlp_case` takes them.  A one-input gate is never given
    depth 1 (a 1 → 1 net).
    """

    def on(n_inputs: int, depth: int) -> st.SearchStrategy[MLPCase]:
        kwargs = dict(
            gate_name=gate_names(n_inputs),
            depth=st.just(depth),
            scale=st.sampled_from(scales),
            seed=SEEDS,
            widths=widths(n_inputs, depth),
        )
        if optimizers is not None:
            kwargs["optimizer"] = optimizers
        if steps is not None:
            kwargs["steps"] = steps
        return st.builds(generated.mlp_case, **kwargs)

    pairs = [(n, d) for n in generated.INPUTS for d in depths if d > 1 or n > 1]
    return st.sampled_from(pairs).flatmap(lambda pair: on(*pair))


def widths(n_inputs: int, depth: int) -> st.SearchStrategy[tuple[int, ...]]:
    """``depth − 1`` hidden widths in 1–8 that :func:`generated.mlp_case` accepts for ``n_inputs`` inputs."""
    hidden = st.lists(st.integers(1, generated.MAX_WIDTH), min_size=depth - 1, max_size=depth - 1).map(tuple)
    return hidden.filter(lambda h: generated.valid_sizes((n_inputs, *h, 1)))


def logistic_cases(
    *,
    scales: Sequence[str] = LEARNING_SCALES,
    steps: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[LogisticCase]:
    """Logistic regression on a gate of 1–6 inputs from w at one of ``scales``, η in [10⁻³, 2].

    ``steps`` of gradient descent (default: generated.LOGISTIC_STEPS, not drawn).
    """

    def on(n_inputs: int) -> st.SearchStrategy[LogisticCase]:
        kwargs = dict(
            gate_name=gate_names(n_inputs),
            scale=st.sampled_from(scales),
            eta=st.floats(*LOGISTIC_RATES),
            seed=SEEDS,
        )
        if steps is not None:
            kwargs["steps"] = steps
        return st.builds(generated.logistic_case, **kwargs)

    return st.sampled_from(generated.INPUTS).flatmap(on)


def render(case: MLPCase | LogisticCase) -> str:
    """The line that rebuilds ``case``, for a regressions file: ``generated.mlp_case("xor", …)``."""
    return generated.recipe(case)
