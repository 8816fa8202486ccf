"""reference/convergence.py, the many-net adapters' generators, the convergence report, and the checks' planted bugs."""

from __future__ import annotations

import json
import math
import statistics
import sys

import numpy as np
import pytest

from gatespec.conformance import report
from gatespec.conformance.report import convergence as convergence_report
from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec.interface import DTYPES, Target
from gatespec.reference import convergence as cv
from gatespec.reference import gates, golden, init, mlp
from tests.report_rows import convergence_row

XOR = gates.gate("xor")
Z95 = statistics.NormalDist().inv_cdf(0.975)  # the 95% interval's two-sided quantile
EPS = np.finfo(np.float64).eps

pytest_plugins = ["pytester"]


# ----------------------------------------------------------------------------- many nets = each net alone


@pytest.mark.parametrize("optimizer", [mlp.SGD(0.5), mlp.Adam(0.5)], ids=lambda o: o.id)
@pytest.mark.parametrize("sizes", [(2, 2, 1), (3, 4, 3, 1)])
def test_train_many_is_train_of_each_net(sizes, optimizer):
    X, y = (XOR.X, XOR.y) if sizes[0] == 2 else (gates.gate("parity-3").X, gates.gate("parity-3").y)
    params = cv.init_many("standard-normal", sizes, 5, np.random.default_rng(3))
    run = cv.train_many(params, X, y, optimizer, 60)
    assert run.losses.shape == (60, 5)
    for b in range(5):
        alone = mlp.train(cv.net(params, b), X, y, optimizer, 60)
        # Same formulas, summed in another order: float64 rounding only, 60 steps of a short chain.  Each step's
        # values differ by a few ε (≤ 16ε on these losses) and 60 Adam steps carry a parameter's difference to
        # ~200ε (the 3-4-3-1 nets): 1e-13 ≈ 450ε on the losses and 1e-12 ≈ 4500ε on the parameters leave ≥ 20×.
        np.testing.assert_allclose(run.losses[:, b], alone.losses, rtol=1e-13, atol=1e-13)
        for mine, theirs in zip(cv.net(run.params, b), alone.final):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_train_many_leaves_its_input_alone_and_logits_match_forward():
    params = cv.init_many("torch-linear", (2, 2, 1), 3, np.random.default_rng(0))
    before = [p.copy() for p in params]
    cv.train_many(params, XOR.X, XOR.y, mlp.SGD(0.5), 3)
    assert all(np.array_equal(a, b) for a, b in zip(params, before))
    z = cv.logits_many(params, XOR.X)
    for b in range(3):
        # The same ≤ 3-term sums per layer (einsum here, matmul there, either may fuse or reorder them) and σ: a few ε
        # on logits of 0.2-0.7 from weights ≤ 1/√2; 1e-14 ≈ 45ε relative, and 1e-15 absolute for a logit near 0.
        np.testing.assert_allclose(z[b], mlp.forward(cv.net(params, b), XOR.X)[0], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(cv.losses_many(params, XOR.X, XOR.y)[b], mlp.loss(cv.net(params, b), XOR.X, XOR.y))


def test_init_many_draws_nets_one_after_another():
    many = cv.init_many("keras-glorot", (2, 2, 1), 3, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    for b in range(3):
        one = init.keras_glorot_uniform((2, 2, 1), rng)
        assert all(np.array_equal(m, o) for m, o in zip(cv.net(many, b), one))


@pytest.mark.parametrize(
    "bad, message",
    [
        ((np.zeros((2, 2)), np.zeros((2,))), "params[W1]: expected rank 3"),
        ((np.zeros((2, 2, 2)), np.zeros((3, 2)), np.zeros((2, 2, 1)), np.zeros((2, 1))), "params[b1]"),
        ((np.zeros((2, 2, 2)), np.zeros((2, 2))), "one output unit"),
        ((np.zeros((2, 2, 2), dtype=np.float32), np.zeros((2, 2))), "float64"),
    ],
)
def test_bad_stacks_are_refused_naming_the_argument(bad, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cv.train_many(bad, XOR.X, XOR.y, mlp.SGD(0.5), 1)


# ----------------------------------------------------------------------------- outcomes


def _outcome(p: tuple[float, ...], descending: float = 0.0) -> str:
    """Classify one net whose outputs are ``p`` and whose loss fell by ``descending`` over the window."""
    z = np.log(np.array(p) / (1 - np.array(p)))[None, :]
    final = float(np.sum(np.logaddexp(0, z) - XOR.y * z))
    losses = np.full((cv.WINDOW, 1), final + descending)
    return str(cv.classify(z, XOR.y, losses)[0])


@pytest.mark.parametrize(
    "p, outcome",
    [
        ((0.01, 0.99, 0.99, 0.01), "learned"),
        ((0.2, 0.8, 0.8, 0.2), "unconverged"),  # every row right with margin, loss 0.89 ≥ ln(4/3): not yet
        ((0.49, 0.51, 0.5, 0.5), "stuck"),
        ((0.005, 0.664, 0.664, 0.668), "one-wrong"),  # three tied at ⅔: y = 0 on the last row
        ((0.004, 0.996, 0.499, 0.502), "two-at-half"),
        ((0.1, 0.9, 0.95, 0.6), "unconverged"),  # three rows learned
    ],
)
def test_classify_by_rows_learned(p, outcome):
    assert _outcome(p) == outcome


def test_a_net_still_descending_is_unconverged_whatever_its_rows():
    assert _outcome((0.49, 0.51, 0.5, 0.5), descending=cv.DESCENDING) == "unconverged"
    assert _outcome((0.49, 0.51, 0.5, 0.5), descending=0.9 * cv.DESCENDING) == "stuck"


def _xor_logits(r: np.ndarray) -> np.ndarray:
    """Logits (B, 4) giving XOR's right label probability q = 1 − r[b, i] on row i of net b (r > 0 may be tiny)."""
    return np.where(XOR.y == 1, 1.0, -1.0) * (np.log1p(-r) - np.log(r))


@pytest.mark.parametrize("delta", [1e-9, -1e-9])
def test_learned_threshold_forces_every_row_right_with_margin(delta):
    # l = Σ −ln q_i < ln(4/3) forces every q_i > ¾, and ¾ is tight: three rows all but certain (|z| = 40) and the
    # fourth at q = ¾ + δ is learned for δ > 0 and not for δ < 0; the three add 3·e^{−40} ≈ 1e-17 to l, ≪ |δ|.
    r = np.array([[0.25 - delta, *[math.exp(-40.0)] * 3]])
    z = _xor_logits(r)
    loss = np.sum(-np.log1p(-r), axis=1)
    assert (loss[0] < math.log(4 / 3)) == (delta > 0)  # the construction, in closed form
    flat = np.full((cv.WINDOW, 1), loss[0])  # not descending
    assert (cv.classify(z, XOR.y, flat)[0] == "learned") == (delta > 0)
    assert cv.learned_curve(flat, loss)[-1] == float(delta > 0)


def test_learned_is_exactly_loss_below_ln_four_thirds_so_every_row_has_margin():
    # Nets around the threshold, rows from q = 0.7 to all but certain: classify calls learned exactly those with
    # l < ln(4/3) (computed here from q, not from the logits), and each of them has every q > ¾.
    rng = np.random.default_rng(0)
    r = rng.uniform(0.0, 0.3, (2000, 4)) ** rng.uniform(1.0, 4.0, (2000, 1))
    loss = np.sum(-np.log1p(-r), axis=1)
    learned = cv.classify(_xor_logits(r), XOR.y, np.tile(loss, (cv.WINDOW, 1))) == "learned"
    assert 0 < learned.sum() < len(learned)  # both sides of the threshold are drawn
    np.testing.assert_array_equal(learned, loss < math.log(4 / 3))
    assert np.all(1 - r[learned].max(axis=1) > 0.75)


@pytest.mark.parametrize(
    "net, outcome",
    [
        (golden.TRAINED_NETS[1], "learned"),  # raw autograd cell, In [26]/In [27]
        (golden.TRAINED_NETS[3], "stuck"),  # nn.Sequential cell: (0.4998, 0.4999, 0.5001, 0.5001)
        (golden.TRAINED_NETS[5], "learned"),  # optimizer cell
        (golden.TRAINED_NETS[7], "two-at-half"),  # custom-class cell: (0.5039, 0.4938, 0.9922, 0.0101)
    ],
    ids=lambda x: x if isinstance(x, str) else x.cell.split(",")[0][:40],
)
def test_the_notebooks_xor_nets_are_classified_as_the_issue_describes_them(net, outcome):
    assert net.gate == "xor"
    layout = mlp.from_notebook_raw if net.layout == "raw" else mlp.from_torch
    params = tuple(p[None] for p in layout(tuple(np.array(a, dtype=float) for a in net.params)))
    z = cv.logits_many(params, XOR.X)
    flat = np.full((cv.WINDOW, 1), float(cv.losses_many(params, XOR.X, XOR.y)[0]))
    assert cv.classify(z, XOR.y, flat)[0] == outcome


def test_summarise_counts_partition_the_nets_and_the_curve_ends_at_the_rate():
    params = cv.init_many("standard-normal", (2, 2, 1), 40, np.random.default_rng(1))
    run = cv.train_many(params, XOR.X, XOR.y, mlp.SGD(0.5), 300)
    stats = cv.summarise(run.params, run.losses, XOR.X, XOR.y)
    assert stats.n == 40 and set(stats.counts) == set(cv.OUTCOMES)
    assert stats.curve.shape == (301,) and stats.curve[0] == 0.0 and stats.curve[-1] == stats.rate
    final = cv.losses_many(run.params, XOR.X, XOR.y)
    assert stats.learned == int(np.sum(final < cv.LEARNED_LOSS))


# ----------------------------------------------------------------------------- Wilson and the two-sample test


def test_wilson_interval_known_values():
    # 5 of 10 and 0 of 10 at 95%: the textbook values (Newcombe 1998, Table I: method 3).
    lo, hi = cv.wilson_interval(5, 10)
    assert math.isclose(lo, 0.2366, abs_tol=5e-5) and math.isclose(hi, 0.7634, abs_tol=5e-5)
    assert cv.wilson_interval(0, 10) == (0.0, pytest.approx(Z95**2 / (10 + Z95**2)))
    assert cv.wilson_interval(10, 10) == (pytest.approx(10 / (10 + Z95**2)), 1.0)


@pytest.mark.parametrize("k, n", [(1, 7), (300, 1000), (999, 1000), (37, 50)])
def test_wilson_ends_solve_the_score_equation(k, n):
    p_hat = k / n
    for p in cv.wilson_interval(k, n):
        # An end p computed to a few ε absolute (≤ 5ε: a dozen roundings of numbers ≤ 1) makes p̂ − p, 1 − p and p
        # lose a factor 1/|p̂ − p|, 1/(1 − p) and 1/p of relative accuracy (5664 at 999/1000): 8ε times their sum.
        rel = 8 * EPS * (1 / abs(p_hat - p) + 1 / (1 - p) + 1 / p)
        assert math.isclose(abs(p_hat - p), Z95 * math.sqrt(p * (1 - p) / n), rel_tol=rel)


def test_two_proportion_test_against_the_closed_form():
    z, p = cv.two_proportion_test(45, 100, 30, 100)
    pooled = 75 / 200
    z_expected = 0.15 / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    # 0.45 − 0.3 cancels to 0.15 (its two roundings ×5), then ⅟100, ×, √ and ÷ on each side: 13 half-ulps ≤ 6.5ε.
    assert math.isclose(z, z_expected, rel_tol=8 * EPS)
    # 2(1 − Φ(z)) = erfc(z/√2).  The reference's Φ(−z) = ½(1 + erf(−z/√2)) cancels to 0.028 (×34 on erf's ≤ 1 ulp),
    # and the tail's slope turns z's ≤ 9 half-ulps into ×5.6 on each side: ≲ 90ε in all.
    assert math.isclose(p, math.erfc(z_expected / math.sqrt(2)), rel_tol=128 * EPS)
    assert cv.two_proportion_test(0, 10, 0, 20) == (0.0, 1.0)
    z_far, p_far = cv.two_proportion_test(1000, 1000, 0, 1000)
    assert z_far > 40 and 0.0 <= p_far < 1e-300


@pytest.mark.parametrize("args", [(11, 10), (-1, 10), (3, 0), (2.0, 10)])
def test_bad_counts_are_refused(args):
    with pytest.raises(ValueError, match=r"^(k|n)"):
        cv.wilson_interval(*args)


# ----------------------------------------------------------------------------- initial laws and their tests


@pytest.mark.parametrize("name", init.INITIALISERS)
def test_reference_initialisers_draw_their_laws(name):
    sizes = (3, 5, 1)
    params = cv.init_many(name, sizes, 2000, np.random.default_rng(11))
    for p, law in zip(params, cv.laws(name, sizes)):
        if law.kind == "zero":
            assert np.all(p == 0)
            continue
        if law.kind == "uniform":
            assert np.all(np.abs(p) <= law.scale)
        for test in (cv.mean_test, cv.variance_test, cv.ks_test):
            assert test(p, law)[1] > C.INIT_ALPHA, (name, law, test.__name__)


def test_law_tests_reject_a_wrong_law():
    x = np.random.default_rng(0).uniform(-1, 1, 4000)
    # p < 1e-12, six orders below the α the conformance check rejects at (cases.INIT_ALPHA = 1e-6): not marginal.
    assert cv.variance_test(x, cv.Law("uniform", math.sqrt(2)))[1] < 1e-12  # bound ×√2: variance doubled
    assert cv.ks_test(x, cv.Law("normal", 1 / math.sqrt(3)))[1] < 1e-6  # same variance, wrong shape
    assert cv.mean_test(x + 0.1, cv.Law("uniform", 1.0))[1] < 1e-12


def test_ks_statistic_matches_the_definition():
    x = np.array([-0.5, 0.1, 0.3, 0.9])
    law = cv.Law("uniform", 1.0)
    grid = np.linspace(-1.5, 1.5, 300001)
    empirical = np.searchsorted(np.sort(x), grid, side="right") / x.size
    brute = np.max(np.abs(empirical - law.cdf(grid)))
    assert math.isclose(cv.ks_test(x, law)[0], brute, abs_tol=1e-4)


# ----------------------------------------------------------------------------- the adapters' generators


def _impl(name):
    from gatespec.conformance.plugin import registry

    (entry,) = registry.select([name])
    if not entry.available:
        pytest.skip(f"{name} unavailable: {entry.reason}")
    return entry.impl


def test_numpy_and_torch_initialisers_leave_global_generators_as_found():
    torch = pytest.importorskip("torch")
    # numpy's legacy global generator is the state a user's np.random.seed would set.
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    _impl("numpy").mlp_init("torch-linear", (2, 2, 1), 10, 0, Target("float32"))
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    for name in ("torch-autograd", "torch-nn", "torch-module"):
        impl = _impl(name)
        before = torch.random.get_rng_state()
        impl.mlp_init(impl.initialisers[0], (2, 2, 1), 10, 0, Target("float32"))
        assert torch.equal(torch.random.get_rng_state(), before), name


@pytest.mark.parametrize("name", ["torch-nn", "torch-module"])
def test_torch_module_styles_draw_what_seeded_nn_linear_models_draw(name):
    torch = pytest.importorskip("torch")
    params = _impl(name).mlp_init("torch-linear", (2, 3, 1), 3, 3, Target("float64"))
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(3)  # the user's idiom: seed, then build one model per net
        for b in range(3):
            model = torch.nn.Sequential(
                torch.nn.Linear(2, 3, dtype=torch.float64),
                torch.nn.Sigmoid(),
                torch.nn.Linear(3, 1, dtype=torch.float64),
            )
            expected = (model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias)
            for mine, theirs in zip(params, expected):
                np.testing.assert_array_equal(mine[b], theirs.detach().numpy())
    finally:
        torch.random.set_rng_state(state)


def test_tensorflow_initialisers_leave_the_global_generator_as_found():
    tf = pytest.importorskip("tensorflow")
    impl = _impl("tf-function")
    before = tf.random.get_global_generator().state.numpy().copy()
    for name in impl.initialisers:
        impl.mlp_init(name, (2, 2, 1), 10, 0, Target("float32"))
    assert np.array_equal(tf.random.get_global_generator().state.numpy(), before)


# ----------------------------------------------------------------------------- the report


def test_report_ends_with_a_table_and_writes_plot_and_json(tmp_path):
    pytest.importorskip("matplotlib")
    report.write_report(tmp_path, [], {}, [convergence_row(), convergence_row("autograd", outcome="fail")])
    md = (tmp_path / "conformance.md").read_text()
    assert md.startswith("# gatespec conformance matrix\n")
    assert md.index("## Cases and headroom per check") < md.index("## XOR convergence")
    assert "| **reference** | standard-normal | sgd-0.5 | 700/1000 | 0.700 | [0.670, 0.730] | 1 | 30 | 260 | 9 |" in md
    assert "| autograd |" in md and "**FAIL**" in md and "![" in md
    assert (tmp_path / convergence_report.PLOT).stat().st_size > 0
    payload = json.loads((tmp_path / "convergence.json").read_text())
    assert len(payload["rows"]) == 2
    # Both rows share one draw per implementation: 0.1 s counted once each, plus both runs.
    assert payload["seconds_per_framework"] == pytest.approx({"numpy": 1.4, "reference": 0.7})
    # conformance.json keeps the rows, without their times, for gatespec merge.
    kept = json.loads((tmp_path / "conformance.json").read_text())["convergence"]
    assert [r["impl"] for r in kept] == ["autograd", "numpy"]
    assert all("seconds" not in r and "seconds" not in r["reference"] for r in kept)


def test_report_markdown_holds_no_timing(tmp_path):
    fast, slow = convergence_row(), convergence_row()
    slow["seconds"] = {"init": 9.0, "train": 99.0}
    for name, row in (("fast", fast), ("slow", slow)):
        report.write_report(tmp_path / name, [], {}, [row])
    # Two runs differ in their timings only: the markdown and JSON reports must not.
    for kept in ("conformance.md", "conformance.json"):
        assert (tmp_path / "fast" / kept).read_text() == (tmp_path / "slow" / kept).read_text()


def test_report_without_matplotlib_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    report.write_report(tmp_path, [], {}, [convergence_row()])
    assert "not made: matplotlib is not installed" in (tmp_path / "conformance.md").read_text()
    assert not (tmp_path / convergence_report.PLOT).exists()


def test_no_statistics_no_section(tmp_path):
    report.write_report(tmp_path, [], {}, [])
    assert "## XOR convergence" not in (tmp_path / "conformance.md").read_text()
    assert json.loads((tmp_path / "conformance.json").read_text())["convergence"] == []
    assert not (tmp_path / "convergence.json").exists() and not (tmp_path / convergence_report.PLOT).exists()


# ----------------------------------------------------------------------------- every check bites


@pytest.mark.parametrize(
    "mutant, name, select, quantity",
    [
        (
            "BatchedMeanLoss",
            "mutant-batched-mean-loss",
            "test_mlp_batched_training_matches_each_net_alone and float64",
            "final W1 of every net, *",
        ),
        (
            "LinearBoundFromFanOut",
            "mutant-linear-fan-out",
            "test_mlp_init_draws_from_its_distribution and torch-linear",
            "W2 of 1000 nets*",
        ),
        (
            "BatchedFirst512",
            "mutant-batched-first-512",
            "test_xor_convergence_rate_matches_reference and torch-linear and sgd",
            "rate of nets learned after 1000 steps*",
        ),
        (
            "LinearBoundFromFirstFanIn",
            "mutant-linear-first-fan-in",
            "test_mlp_init_draws_from_its_distribution and torch-linear-5x2x8x3x1",
            "W2 of 200 nets: second moment*",
        ),
        (
            "GlorotFromFirstLayerFans",
            "mutant-glorot-first-fans",
            "test_mlp_init_draws_from_its_distribution and keras-glorot-5x2x8x3x1",
            "W2 of 200 nets: * draws outside*",
        ),
        (
            "LecunNormalUntruncated",
            "mutant-lecun-untruncated",
            "test_mlp_init_draws_from_its_distribution and flax-lecun-normal",
            "W1 of * nets: * draws outside*",
        ),
        (
            "OneKeyForEveryLayer",
            "mutant-one-key-every-layer",
            "test_initial_parameters_are_drawn_independently and standard-normal",
            "coincident draws: *",
        ),
        (
            "GlorotOneStreamEveryLayer",
            "mutant-glorot-one-stream",
            "test_initial_parameters_are_drawn_independently and keras-glorot",
            "coincident draws: *",
        ),
        (
            "SecondLayerMixedFromFirst",
            "mutant-mixed-second-layer",
            "test_initial_parameters_are_drawn_independently and standard-normal",
            "correlated draws within a net: W1[[]0, *] and W2[[]*, 0] *",
        ),
        (
            "NetsInAChain",
            "mutant-nets-in-a-chain",
            "test_initial_parameters_are_drawn_independently and standard-normal",
            "correlated draws between nets: *",
        ),
    ],
    ids=[
        "batched",
        "init",
        "rate",
        "init-first-fan-in",
        "init-glorot-first-fans",
        "init-lecun-untruncated",
        "init-one-key-every-layer",
        "init-glorot-one-stream",
        "init-mixed-second-layer",
        "init-nets-in-a-chain",
    ],
)
def test_convergence_check_catches_planted_bug(pytester, mutant, name, select, quantity):
    result = pytester.runpytest_inprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_convergence",
        "--gatespec-impl",
        f"tests.convergence_mutants:{mutant}",
        "-k",
        select,
        "-p",
        "no:cacheprovider",
        "-q",
        "-rf",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    result.stdout.fnmatch_lines([f"*{name} / * / {quantity}"])


def test_the_rate_mutant_passes_the_other_checks(pytester):
    result = pytester.runpytest_inprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_convergence",
        "--gatespec-impl",
        "tests.convergence_mutants:BatchedFirst512",
        "-m",
        "not convergence",
        "-p",
        "no:cacheprovider",
        "-q",
    )
    outcomes = result.parseoutcomes()
    # Every batched-training case, and every initialiser case twice (its laws, its independence), in both dtypes
    # (numpy draws all of cases.INIT_CASES' initialisers); none may be skipped, as a skip would hide a check the
    # mutant must pass.
    expected = (len(C.BATCHED_CASES) + 2 * len(C.INIT_CASES)) * len(DTYPES)
    assert "failed" not in outcomes and outcomes.get("passed", 0) == expected, result.stdout.str()


def test_the_first_fan_in_mutant_passes_on_two_two_one(pytester):
    # Both of (2, 2, 1)'s fan-ins are 2, so a bound from the first layer's is right there: only the wider shapes see it.
    result = pytester.runpytest_inprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_convergence",
        "--gatespec-impl",
        "tests.convergence_mutants:LinearBoundFromFirstFanIn",
        "-k",
        "test_mlp_init_draws_from_its_distribution and torch-linear and not 5x2x8x3x1",
        "-p",
        "no:cacheprovider",
        "-q",
    )
    outcomes = result.parseoutcomes()
    # The torch-linear cases the -k expression leaves (today (2, 2, 1) alone), in both dtypes.
    expected = sum(c.initialiser == "torch-linear" and "5x2x8x3x1" not in c.id for c in C.INIT_CASES) * len(DTYPES)
    assert "failed" not in outcomes and outcomes.get("passed", 0) == expected, result.stdout.str()
