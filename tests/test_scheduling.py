"""The xdist work units (conformance/plugin/scheduling.py): one per framework, dtype and net shape, the shape the
case's own."""

from __future__ import annotations

import collections

import pytest

from gatespec.conformance.plugin.registry import BUILTINS
from gatespec.conformance.plugin.scheduling import IN_ORDER, next_scope, scope_of
from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec import generated as G
from gatespec.reference import mlp

FRAMEWORKS = {name: framework for name, (framework, _) in BUILTINS.items()}
MLP_CASES = [c for c in (*C.MLP_CASES, *G.STRUCTURE, *G.TRAINING)]


def _nodeid(test: str, style: str, case_id: str, dtype: str) -> str:
    return f"conformance/suite/test_conformance.py::{test}[{style}-{case_id}-{dtype}]"


@pytest.mark.parametrize("style", sorted(FRAMEWORKS))
def test_every_net_case_is_grouped_by_framework_dtype_and_its_layer_sizes(style):
    for case in MLP_CASES:
        sizes = "x".join(map(str, mlp.layer_sizes(case.params)))
        for dtype in ("float32", "float64"):
            scope = scope_of(_nodeid("test_mlp_one_sgd_step", style, case.id, dtype), FRAMEWORKS)
            # The sizes are the case's own (majority-3-3-8-1 names the gate's 3 inputs too: never read from the id).
            assert scope == f"{FRAMEWORKS[style]}/{dtype}/{sizes}", (case.id, scope)


def test_cases_of_one_shape_share_a_scope_across_checks_styles_and_optimizers():
    nets = (*G.STRUCTURE, *G.TRAINING)
    shared = collections.Counter(c.sizes for c in nets).most_common(1)[0][0]
    same = [c for c in nets if c.sizes == shared]
    assert len(same) >= 2  # the design reuses shapes (generated.shape): else this test shows nothing
    scopes = {
        scope_of(_nodeid(test, style, c.id, "float32"), FRAMEWORKS)
        for c in same
        for test in ("test_mlp_one_sgd_step", "test_mlp_adam_trajectory")
        for style in ("jax-grad", "jax-jit", "jax-scan")
    }
    assert scopes == {"jax/float32/" + "x".join(map(str, shared))}


def test_a_longer_style_name_wins_over_a_prefix_of_it():
    frameworks = {"torch": "torch", "torch-nn": "torch-nn-fw"}
    assert scope_of(_nodeid("t", "torch-nn", "xor-2-2-1", "float64"), frameworks) == "torch-nn-fw/float64/2x2x1"
    assert scope_of(_nodeid("t", "torch", "xor-2-2-1", "float64"), frameworks) == "torch/float64/2x2x1"


def test_hyperparameters_and_step_sizes_are_not_read_as_sizes():
    for case in G.ADAM_TRAINING:
        scope = scope_of(_nodeid("t", "numpy", case.id, "float32"), FRAMEWORKS)
        assert scope == "numpy/float32/" + "x".join(map(str, case.sizes)), (case.id, scope)


def test_tests_without_a_net_are_grouped_by_function_and_others_stand_alone():
    logistic = G.LOGISTIC[0].id
    assert scope_of(_nodeid("test_logistic_one_gradient_descent_step", "jax-jit", logistic, "float64"), FRAMEWORKS) == (
        "jax/float64/test_logistic_one_gradient_descent_step"
    )
    assert scope_of("conformance/suite/test_conformance.py::test_tlu[numpy-xor-and]", FRAMEWORKS) == "numpy/-/test_tlu"
    others = ("tests/test_mlp.py::test_forward", "tests/test_x.py::test_b[1-2-3]", "tests/test_x.py::test_c[nojax-1]")
    for nodeid in others:
        assert scope_of(nodeid, FRAMEWORKS) == nodeid


def test_a_test_that_is_no_checks_net_case_is_grouped_by_its_function():
    # A benchmark task, and a case kept from exploration (--gatespec-regressions: not among the checks' cases).
    assert scope_of(_nodeid("test_task", "jax-jit", "xor-train-1000", "float32"), FRAMEWORKS) == "jax/float32/test_task"
    regression = _nodeid("test_mlp_one_sgd_step", "numpy", "xor-3x5x1-regression", "float64")
    assert scope_of(regression, FRAMEWORKS) == "numpy/float64/test_mlp_one_sgd_step"


def test_off_the_cpu_the_device_ends_the_id_and_the_scope_is_the_same():
    case = C.XOR_221
    on_cuda = f"conformance/suite/test_conformance.py::test_mlp_one_sgd_step[torch-nn-{case.id}-float32-cuda]"
    assert scope_of(on_cuda, FRAMEWORKS, device="cuda") == "torch/float32/2x2x1"
    # Read as a CPU run's id, "…-float32-cuda" is no case of a net: grouped by its function.
    assert scope_of(on_cuda, FRAMEWORKS) == "torch/-/test_mlp_one_sgd_step"


def test_an_id_of_a_style_alone_is_grouped_by_its_function():
    assert scope_of("conformance/suite/test_conformance.py::test_x[numpy]", FRAMEWORKS) == "numpy/-/test_x"


def test_an_id_that_names_no_selected_style_is_its_own_scope():
    nodeid = "tests/test_plugin.py::test_something[torchvision-resnet-float32]"
    assert scope_of(nodeid, FRAMEWORKS) == nodeid


def test_a_case_id_names_one_net_whichever_check_takes_it():
    from gatespec.conformance.spec.checks import CHECKS

    sizes = collections.defaultdict(set)
    for check in CHECKS.values():
        for case in check.cases:
            sizes[case.id].add(getattr(case, "sizes", None))
    assert not {k: v for k, v in sizes.items() if len(v) > 1}


def test_one_worker_takes_tensorflows_units_in_collection_order_and_another_only_the_last_of_them():
    """TensorFlow's XLA cache entries hit only in a process that traced in the same order (compile_cache.py): the
    keeper's units must be a prefix of the collection order, whatever the other worker takes meanwhile."""
    assert IN_ORDER == {"tensorflow"}
    queue = ["jax/a", "tensorflow/a", "torch/a", "tensorflow/b", "tensorflow/c", "jax/b", "tensorflow/d"]
    ordered = [scope for scope in queue if scope.startswith("tensorflow/")]

    def in_order(scope: str) -> bool:
        return scope.startswith("tensorflow/")

    # Who asks next, repeated: the keeper as fast as, slower than, or faster than the other worker.
    for pattern in ("KO", "KOOO", "KKKO", "OK"):
        left, taken = list(queue), {"keeper": [], "other": []}
        for turn in range(len(queue)):
            who = "keeper" if pattern[turn % len(pattern)] == "K" else "other"
            scope = next_scope(left, who == "keeper", in_order)
            left.remove(scope)
            taken[who].append(scope)
        kept = [scope for scope in taken["keeper"] if in_order(scope)]
        stolen = [scope for scope in taken["other"] if in_order(scope)]
        assert kept == ordered[: len(kept)] and stolen == ordered[len(kept) :][::-1], taken
        # The keeper takes nothing else while an in-order unit is left; the other takes one only when nothing else is.
        first_other = next((k for k, scope in enumerate(taken["keeper"]) if not in_order(scope)), None)
        assert first_other is None or first_other >= len(kept)
    assert next_scope(["jax/a", "tensorflow/a"], False, in_order) == "jax/a"
    assert next_scope(["tensorflow/a", "tensorflow/b"], False, in_order) == "tensorflow/b"
    assert next_scope(["jax/a", "tensorflow/a"], True, in_order) == "tensorflow/a"
    assert next_scope(["jax/a", "torch/a"], True, in_order) == "jax/a"
