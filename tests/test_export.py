"""``gatespec export DIR``: the vectors validate, reproduce, match the tests' ids and the tests' own comparisons.

One export (in this process, through the command) serves every test here: it takes 15–30 s on
this 2-core machine, nearly all of it the trajectory spreads behind the tolerances
(tolerances.trajectory_spread), which the conformance tests compute as well.

- the schema (conformance/tools/export_schema.json, draft 2020-12) accepts every file, and DIR/schema.json
  is a copy of it;
- the numpy reference, fed each vector's arguments as a runner in another language reads them,
  gives every expected value bit for bit;
- the ids are the node ids pytest collects for the numpy implementation, the name replaced by ``*``;
- each exported test, run on an implementation that answers with the exported values, passes
  when they are moved by 0.8 of the exported tolerance and fails when one quantity is moved by
  1.25 of it: the export holds the test's own arguments, quantities and budgets;
- a second export, in another process with another hash seed, is byte-identical (marker slow).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.checks import Check
from gatespec.conformance.spec.interface import (
    BatchedRun,
    Capability,
    Implementation,
    MLPTrajectory,
    Target,
    Trajectory,
)
from gatespec.conformance.tools import cli
from gatespec.conformance.tools import export as E
from gatespec.reference import golden, logistic, mlp, perceptron
from gatespec.reference.mlp import SGD, Adam

# Every test here needs a whole export (16–28 s, mostly trajectory budgets): the harness's own tool, run
# once per test command on Python 3.11 (tests/conftest.py, marker subrun).
pytestmark = pytest.mark.subrun

ROOT = Path(__file__).resolve().parent.parent
NON_FINITE = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("vectors") / "out"
    assert cli.main(["export", str(directory)]) == 0
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _cases_files(directory: Path):
    index = json.loads((directory / "index.json").read_text(encoding="utf-8"))
    for entry in index["files"]:
        yield json.loads((directory / entry["path"]).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- a runner's reading of the files


def _floats(v):
    """JSON numbers (and the non-finite strings) as float64 arrays; anything else is a malformed file."""
    if isinstance(v, list):
        return [_floats(x) for x in v]
    if isinstance(v, str):
        return NON_FINITE[v]
    assert isinstance(v, (int, float)) and not isinstance(v, bool), f"not a number: {v!r}"
    return float(v)


def _array(v) -> np.ndarray:
    return np.array(_floats(v), dtype=np.float64)


def _optimizer(spec: dict) -> SGD | Adam:
    if spec["kind"] == "sgd":
        return SGD(spec["lr"])
    return Adam(spec["lr"], spec["beta1"], spec["beta2"], spec["eps"])


def decode(args: dict) -> dict:
    """A vector's arguments as the interface takes them: float64 arrays, params as a tuple, int order."""
    out = {}
    for name, value in args.items():
        if name == "params":
            out[name] = tuple(_array(p) for p in value)
        elif name == "optimizer":
            out[name] = _optimizer(value)
        elif name == "order":
            out[name] = np.array(value, dtype=np.int64)
        elif name in ("eta", "steps"):
            out[name] = value
        else:
            out[name] = _array(value)
    return out


def reference(op: str, a: dict) -> dict:
    """The numpy reference answering an operation, its results named as the exec protocol names them."""
    if op == "tlu_predict":
        return {"y": perceptron.predict(a["Xb"], a["w"])}
    if op == "perceptron_step":
        return {"w": perceptron.batch_step(a["Xb"], a["y"], a["w"], a["eta"])}
    if op == "perceptron_online":
        return {"w": perceptron.train_online(a["Xb"], a["y"], a["w0"], a["eta"], a["order"]).weights}
    if op == "logistic_loss_and_grad":
        return dict(zip(("loss", "grad"), logistic.loss_and_grad(a["Xb"], a["y"], a["w"])))
    if op == "single_example_loss_and_grad":
        return dict(zip(("loss", "grad"), logistic.single_example_loss_and_grad(a["x"], a["w"])))
    if op == "logistic_train":
        run = logistic.gradient_descent(a["Xb"], a["y"], a["w0"], a["eta"], a["steps"])
        return {"weights": run.weights, "losses": run.losses}
    if op == "mlp_forward":
        return dict(zip(("z", "p"), mlp.forward(a["params"], a["X"])))
    if op == "mlp_loss_and_grads":
        return dict(zip(("loss", "grads"), mlp.loss_and_grads(a["params"], a["X"], a["y"])))
    if op == "mlp_train":
        run = mlp.train(a["params"], a["X"], a["y"], a["optimizer"], a["steps"])
        return {"params": run.params, "losses": run.losses}
    if op == "mlp_train_batched":  # each net alone, stacked on the net axis
        nets = range(a["params"][0].shape[0])
        runs = [mlp.train(tuple(p[b] for p in a["params"]), a["X"], a["y"], a["optimizer"], a["steps"]) for b in nets]
        params = tuple(np.stack([r.final[k] for r in runs]) for k in range(len(a["params"])))
        return {"params": params, "losses": np.stack([r.losses for r in runs], axis=1)}
    raise AssertionError(f"unknown operation {op!r}")


def at(result: dict, path: list):
    value = result[path[0]]
    for i in path[1:]:
        value = value[i]
    return np.asarray(value, dtype=np.float64)


def compared(check: dict, args: dict, value: np.ndarray) -> np.ndarray:
    """What a check compares of the value at its path: the value, or for "classes" the truth table of Xb·w > 0."""
    return (args["Xb"] @ value > 0).astype(np.float64) if check["compare"] == "classes" else value


# ----------------------------------------------------------------------------- the files


def test_every_file_validates_against_the_schema_and_the_index_lists_them(exported):
    jsonschema = pytest.importorskip("jsonschema")  # the test extra's
    schema = json.loads(E.SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = _files(exported)
    assert files["schema.json"] == E.SCHEMA.read_bytes()
    for path, data in files.items():
        if path != "schema.json":
            errors = sorted(validator.iter_errors(json.loads(data)), key=lambda e: list(e.absolute_path))
            assert not errors, f"{path}: {errors[0].message[:500]} at {list(errors[0].absolute_path)}"
    index = json.loads(files["index.json"])
    listed = {f["path"]: f["sha256"] for f in [*index["files"], index["golden"], index["schema"]]}
    assert set(listed) == set(files) - {"index.json"}  # nothing stale, nothing missing
    for path, digest in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == digest, path
    assert (index["format"], index["format_version"]) == ("gatespec-vectors", 1)


def test_the_reference_reproduces_every_expected_value_exactly(exported):
    count = 0
    for doc in _cases_files(exported):
        for vector in doc["vectors"]:
            args = decode(vector["args"])
            result = reference(doc["operation"], args)
            if doc["operation"] == "mlp_train":  # the capability follows the optimizer
                assert vector["capability"] == f"mlp-train-{vector['args']['optimizer']['kind']}"
            for check in vector["checks"]:
                expected, actual = _array(check["expected"]), compared(check, args, at(result, check["path"]))
                where = f"{vector['id']} {check['path']}"
                assert actual.shape == expected.shape, where
                assert actual.tobytes() == expected.tobytes(), where  # bit for bit, signed zeros included
                atol = _array(check["atol"])
                assert atol.shape in ((), expected.shape), where
                count += 1
    assert count > 1000


def test_golden_holds_every_number_the_notebook_printed_with_its_cell(exported):
    doc = json.loads((exported / "golden.json").read_text(encoding="utf-8"))
    entries = {e["name"]: e for e in doc["entries"]}
    printed = {k: v for k, v in vars(golden).items() if isinstance(v, golden.Printed)}
    assert printed and all(entries[k]["cell"] == v.cell for k, v in printed.items())
    assert entries["SINGLE_EXAMPLE_LOSS"]["values"] == list(golden.SINGLE_EXAMPLE_LOSS.values)  # read back exactly
    nets = [e for e in doc["entries"] if e["kind"] == "trained-net"]
    assert [n["cell"] for n in nets] == [n.cell for n in golden.TRAINED_NETS]


# ----------------------------------------------------------------------------- ids


def test_ids_are_the_numpy_node_ids_with_the_name_replaced(exported):
    # By module:attr: the name "numpy" is also a framework's, and resolving it would import every framework.
    numpy_impl = registry.BUILTINS["numpy"][1]
    files = sorted({f"suite/{c.module}" for c in E.CHECKS.values()} | set(E.NOT_EXPORTED_MODULES))
    modules = [f"gatespec.conformance.{f.removesuffix('.py').replace('/', '.')}" for f in files]
    run = subprocess.run(
        # Without xdist: pytest-benchmark warns (an error here) that it would disable the benchmarks' timing.
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
        + ["--pyargs", *modules]
        + ["--gatespec-impl", numpy_impl],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # Not as an xdist worker: pytest-benchmark reads these variables and would warn as under xdist.
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")} | {"PYTHONHASHSEED": "0"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    collected = {line.split("::", 1)[1] for line in run.stdout.splitlines() if "::" in line}
    exported_tests = set(E.EXPORTED)
    expected = {i.replace("[numpy-", "[*-", 1) for i in collected if i.split("[", 1)[0] in exported_tests}
    ids = [v["id"] for doc in _cases_files(exported) for v in doc["vectors"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    # What the export leaves out is every other test those modules collect, each with its reason.
    index = json.loads((exported / "index.json").read_text(encoding="utf-8"))
    left_out = [e["test"] for e in index["not_exported"]]
    assert len(left_out) == len(set(left_out))
    assert {i.split("[", 1)[0] for i in collected} - exported_tests == set(left_out)
    assert all(e["reason"] for e in index["not_exported"])


def test_a_code_check_must_say_why_it_is_not_exported():
    with pytest.raises(ValueError, match="code check 'made_up' has no vectors: say why it is not exported"):
        Check("made_up", "test_conformance.py", (), code=lambda impl, case, target: None)


def test_export_refuses_a_folder_that_is_not_an_earlier_export(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["export", str(tmp_path)]) == 2
    assert "neither empty nor an earlier gatespec export" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ----------------------------------------------------------------------------- the tests' own comparisons


class ArgumentsDiffer(Exception):
    """Not an AssertionError: a test that fails on this would otherwise count as rejecting the values."""


def result_shapes(op: str, a: dict) -> dict:
    """Every result's shape (params and grads: a list of shapes), from the arguments (the exec protocol's table)."""
    if op in ("tlu_predict", "mlp_forward"):
        n = a["Xb" if "Xb" in a else "X"].shape[0]
        return {"y": (n,)} if op == "tlu_predict" else {"z": (n,), "p": (n,)}
    if op == "perceptron_step":
        return {"w": a["w"].shape}
    if op == "perceptron_online":
        return {"w": (len(a["order"]) + 1, a["w0"].shape[0])}
    if op in ("logistic_loss_and_grad", "single_example_loss_and_grad"):
        return {"loss": (), "grad": a["w"].shape}
    if op == "logistic_train":
        return {"weights": (a["steps"] + 1, a["w0"].shape[0]), "losses": (a["steps"],)}
    if op == "mlp_loss_and_grads":
        return {"loss": (), "grads": [p.shape for p in a["params"]]}
    if op == "mlp_train":
        return {"params": [(a["steps"] + 1, *p.shape) for p in a["params"]], "losses": (a["steps"],)}
    if op == "mlp_train_batched":
        return {"params": [p.shape for p in a["params"]], "losses": (a["steps"], a["params"][0].shape[0])}
    raise AssertionError(op)


def answer(op: str, args: dict, checks: list, dtype: str, factor: float, moved: int | None) -> dict:
    """The result a runner would send, in ``dtype``: NaN wherever no check looks, the expected values elsewhere, those
    of check ``moved`` (every check when None) moved by factor·(atol + rtol·|expected|), or, when factor > 1, by 1
    for an exact check (it has no room to move within) and to −w for a truth table (every row's class flips)."""
    shapes = result_shapes(op, args)
    nan = lambda shape: np.full(shape, np.nan)  # noqa: E731
    result = {k: [nan(s) for s in v] if isinstance(v, list) else nan(v) for k, v in shapes.items()}
    for i, check in enumerate(checks):
        value = _array(check["expected"])
        if check["compare"] == "classes":  # the weights the reference learns (their classes are the expected ones)
            value = at(reference(op, args), check["path"])
        if moved is None or moved == i:
            if check["compare"] == "close":
                value = value + factor * (_array(check["atol"]) + check["rtol"] * np.abs(value))
            elif factor > 1:
                value = -value if check["compare"] == "classes" else value + 1.0
        name, *rest = check["path"]
        target = result[name]
        if isinstance(target, list):
            k, *rest = rest
            target = target[k]
        if rest:
            target[tuple(rest)] = value
        else:
            target[...] = value
    cast = lambda x: np.asarray(x, dtype=dtype)  # noqa: E731
    return {k: [cast(x) for x in v] if isinstance(v, list) else cast(v) for k, v in result.items()}


def _same(value, exported) -> bool:
    """Bit for bit: arrays of the same dtype, shape and bytes; the optimizer, η and steps equal."""
    if isinstance(exported, tuple):
        return len(value) == len(exported) and all(_same(v, e) for v, e in zip(value, exported))
    if isinstance(exported, np.ndarray):
        v = np.asarray(value)
        return (v.dtype, v.shape, v.tobytes()) == (exported.dtype, exported.shape, exported.tobytes())
    return type(value) is type(exported) and value == exported


class Replay(Implementation):
    """Answers one vector's operation with a prepared result, once asked with the vector's own arguments."""

    name = "replay"
    framework = "replay"
    capabilities = frozenset(Capability)

    def __init__(self, op: str, args: dict, result: dict) -> None:
        self.op, self.args, self.result = op, args, result

    def _answer(self, op: str, **args):
        if op != self.op or set(args) != set(self.args):
            raise ArgumentsDiffer(f"asked {op}({', '.join(args)}), exported {self.op}({', '.join(self.args)})")
        for name, value in args.items():
            if not _same(value, self.args[name]):
                raise ArgumentsDiffer(f"{op}: argument {name} is not the exported one")
        return self.result

    def tlu_predict(self, Xb, w, target):
        return self._answer("tlu_predict", Xb=Xb, w=w)["y"]

    def perceptron_step(self, Xb, y, w, eta, target):
        return self._answer("perceptron_step", Xb=Xb, y=y, w=w, eta=eta)["w"]

    def perceptron_online(self, Xb, y, w0, eta, order, target):
        return self._answer("perceptron_online", Xb=Xb, y=y, w0=w0, eta=eta, order=order)["w"]

    def logistic_loss_and_grad(self, Xb, y, w, target):
        r = self._answer("logistic_loss_and_grad", Xb=Xb, y=y, w=w)
        return r["loss"], r["grad"]

    def single_example_loss_and_grad(self, x, w, target):
        r = self._answer("single_example_loss_and_grad", x=x, w=w)
        return r["loss"], r["grad"]

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        r = self._answer("logistic_train", Xb=Xb, y=y, w0=w0, eta=eta, steps=steps)
        return Trajectory(r["weights"], r["losses"])

    def mlp_forward(self, params, X, target):
        r = self._answer("mlp_forward", params=params, X=X)
        return r["z"], r["p"]

    def mlp_loss_and_grads(self, params, X, y, target):
        r = self._answer("mlp_loss_and_grads", params=params, X=X, y=y)
        return r["loss"], tuple(r["grads"])

    def mlp_train(self, params, X, y, optimizer, steps, target):
        r = self._answer("mlp_train", params=params, X=X, y=y, optimizer=optimizer, steps=steps)
        return MLPTrajectory(tuple(r["params"]), r["losses"])

    def mlp_train_batched(self, params, X, y, optimizer, steps, target):
        r = self._answer("mlp_train_batched", params=params, X=X, y=y, optimizer=optimizer, steps=steps)
        return BatchedRun(tuple(r["params"]), r["losses"])


def _run_test(doc: dict, vector: dict, factor: float, moved: int | None) -> None:
    """The exported test itself, on an implementation answering with the values :func:`answer` prepares."""
    test, op = doc["test"], doc["operation"]
    args = decode(vector["args"])
    impl = Replay(op, args, answer(op, args, vector["checks"], vector["dtype"], factor, moved))
    case = {c.id: c for c in E.cases_of(test)}[vector["case"]]
    E.EXPORTED[test].run(impl, case, Target(vector["dtype"]))


def test_each_test_accepts_the_exported_values_within_and_rejects_them_outside_the_exported_tolerance(exported):
    # Reversed: the tests' caches of trajectory spreads (lru, 256) then hold what the export computed last.
    docs = list(_cases_files(exported))[::-1]
    for doc in docs:
        for vector in doc["vectors"]:
            # Rounding the moved values to float32 moves them by ≤ ½ ulp ≤ bound/8 (rtol is 4 ulp): 0.8 stays inside.
            _run_test(doc, vector, 0.8, None)
    for doc in docs:
        for vector in doc["vectors"][:2]:  # the first case, in both dtypes: every quantity of every test
            for i in range(len(vector["checks"])):
                with pytest.raises(AssertionError):
                    _run_test(doc, vector, 1.25, i)


# ----------------------------------------------------------------------------- determinism


@pytest.mark.slow  # a second export in a process of its own: 15–30 s
def test_two_exports_in_separate_processes_are_byte_identical(exported, tmp_path):
    again = tmp_path / "again"
    env = os.environ | {"PYTHONHASHSEED": "1"}  # another hash seed than tox's 0: no set or dict order may leak in
    run = subprocess.run(
        [sys.executable, "-m", "gatespec.conformance.tools.cli", "export", str(again)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    first, second = _files(exported), _files(again)
    assert sorted(first) == sorted(second)
    assert [p for p in first if first[p] != second[p]] == []


def test_the_schema_file_is_the_one_made_from_the_operation_table():
    # Its per-operation rules are OPERATIONS' (export.schema_document); a changed table needs the file rewritten.
    assert E.SCHEMA.read_text(encoding="utf-8") == E.schema_text(), (
        "conformance/tools/export_schema.json is stale: python -m gatespec.conformance.tools.export --write-schema"
    )


def test_a_new_operation_gets_its_rule_and_an_undescribed_argument_is_an_error(monkeypatch):
    from gatespec.conformance.spec.operations import Operation

    table = dict(E.OPERATIONS)
    table["mlp_predict"] = Operation(table["mlp_forward"].capability, {"params": "…", "X": "(N, n)"}, {"y": "(N)"})
    monkeypatch.setattr(E, "OPERATIONS", table)
    cases = E.schema_document()["$defs"]["cases"]
    assert cases["properties"]["operation"]["enum"][-1] == "mlp_predict"
    rule = cases["allOf"][-1]
    assert rule["if"]["properties"]["operation"] == {"const": "mlp_predict"}
    vector = rule["then"]["properties"]["vectors"]["items"]["properties"]
    assert vector["args"]["required"] == ["params", "X"] and vector["checks"]["items"]["properties"]["path"] == {
        "prefixItems": [{"enum": ["y"]}]
    }
    table["mlp_predict"] = Operation(table["mlp_forward"].capability, {"params": "…", "temperature": "number"}, {})
    with pytest.raises(ValueError, match=r"\$defs.args describes no \['temperature'\]"):
        E.schema_document()
