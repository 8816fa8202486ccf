"""``gatespec export DIR``: every conformance case as versioned JSON test vectors, for runners in any language.

A vector is one parametrization of a conformance test with the implementation left out: the
operation (an :class:`~gatespec.conformance.spec.interface.Implementation` method, named and laid out
as in :data:`gatespec.conformance.spec.operations.OPERATIONS`), its arguments, and what the test
compares the result with — the reference's float64 values, each with the rtol and atol the suite
applies to that quantity in that dtype and the tolerance's derivation.  Its id is the pytest node
id with the implementation's name replaced by ``*``: ``test_mlp_forward_matches_reference[*-xor-2-2-1-float32]``.

Layout (``conformance/tools/export_schema.json`` describes every file; README's "Test vectors" section
says how to run them)::

    DIR/index.json          format, version, the files, the operations, the comparison rules, what is not exported
    DIR/cases/TEST.json     one file per exported test function, its vectors in pytest's order
    DIR/golden.json         every number the notebook printed, with its cell (reference/golden.py)
    DIR/schema.json         a copy of conformance/tools/export_schema.json (its per-operation rules made from
                            OPERATIONS: :func:`schema_document`)

The vectors are the suite's own: each is what the check's builder in
:data:`gatespec.conformance.spec.checks.CHECKS` gives the test, built for an implementation named
``*`` (the suite's own budgets, no override).  The output is deterministic (fixed order, sorted
keys, no timestamps): two exports are byte-identical.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from gatespec.conformance.adapters.exec_impl.protocol import (
    encode,  # numbers as the exec protocol writes them: shortest repr, "NaN"…
)
from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec import tolerances as T
from gatespec.conformance.spec.checks import (
    BENCHMARK_TESTS,
    CHECKS,
    EXPLORE_TESTS,
    Check,
    Compare,
    Vector,
    param_id,
    stand_in,
)
from gatespec.conformance.spec.interface import DTYPES
from gatespec.conformance.spec.operations import OPERATIONS, optimizer_capability
from gatespec.reference import golden
from gatespec.reference.mlp import SGD, Adam

FORMAT = "gatespec-vectors"
FORMAT_VERSION = 1
SCHEMA = Path(__file__).with_name("export_schema.json")

# The builders see an implementation named "*": one without an entry in tolerances.OVERRIDES, i.e. the
# suite's own budget (the index lists any overrides), and no slow eager style's prefix.
ANY = stand_in()


def _paragraph(obj, k: int) -> str:
    """Paragraph k of ``obj``'s docstring, on one line."""
    return " ".join(inspect.getdoc(obj).split("\n\n")[k].split())


# Why exact comparisons are fair: the dyadic grid of cases.GateCase, in its own words.
EXACT_WHY = "exact: " + _paragraph(C.GateCase, 1)
# Why a learned truth table is: cases.LEARN_STEPS's comment, and the test's.
CLASSES_WHY = (
    "exact: from w = 0 with η = 1 the reference's final margins are ≥ 2.6 on every separable gate (cases.LEARN_STEPS), "
    "so no rounding can move a row across X′w = 0"
)


def _optimizer(opt: SGD | Adam) -> dict[str, Any]:
    """The exec protocol's optimizer object."""
    if isinstance(opt, SGD):
        return {"kind": "sgd", "lr": opt.lr}
    return {"kind": "adam", "lr": opt.lr, "beta1": opt.beta1, "beta2": opt.beta2, "eps": opt.eps}


# ----------------------------------------------------------------------------- what is exported

# Every vector check of the registry, in its order; the code checks are listed with why they are not.
EXPORTED: dict[str, Check] = {c.test: c for c in CHECKS.values() if c.build is not None}

# The modules the export leaves out whole, each test for the same reason, and their tests.
NOT_EXPORTED_MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "suite/test_explore.py": (
        "explore: hypothesis draws new cases on every run (--gatespec-explore N); what it finds is pasted into "
        "generated.REGRESSIONS, whose cases are exported with the tests they join",
        EXPLORE_TESTS,
    ),
    "benchmarks/test_benchmarks.py": (
        "benchmarks: timings; their result checks repeat the conformance checks on the benchmark tasks",
        BENCHMARK_TESTS,
    ),
}


def capability(operation: str, vector: Vector) -> str:
    """The capability a vector needs: mlp_train's depends on its optimizer (SGD's first, Adam's second)."""
    if operation == "mlp_train":
        return optimizer_capability(vector.args["optimizer"]).value
    return OPERATIONS[operation].capability[0].value


# ----------------------------------------------------------------------------- ids, cases and coverage


def cases_of(test: str) -> tuple:
    """The cases the plugin crosses the test with: its check's (parametrize.generate)."""
    return EXPORTED[test].cases


def vector_id(test: str, case, dtype: str) -> str:
    """The pytest node id's name part, ``test[IMPL-case-dtype]``, with IMPL = ``*`` (CPU ids)."""
    return f"{test}[{param_id('*', case, dtype, 'cpu')}]"


def not_exported() -> list[dict[str, str]]:
    """Every conformance test the export leaves out, with the reason."""
    out = [
        {"test": c.test, "source": f"conformance/suite/{c.module}", "reason": c.not_exported}
        for c in CHECKS.values()
        if c.build is None
    ]
    for module_file, (reason, tests) in NOT_EXPORTED_MODULES.items():
        out += [{"test": test, "source": f"conformance/{module_file}", "reason": reason} for test in tests]
    return out


# ----------------------------------------------------------------------------- JSON


def dumps(doc: dict) -> bytes:
    """Sorted keys, UTF-8; the top level and its lists one entry a line (diffable), everything deeper compact."""

    def one(v: Any) -> str:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    lines = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, list) and value:
            body = ",\n".join(f"  {one(v)}" for v in value)
            lines.append(f"{one(key)}: [\n{body}\n ]")
        else:
            lines.append(f"{one(key)}: {one(value)}")
    return ("{\n " + ",\n ".join(lines) + "\n}\n").encode("utf-8")


def _check_json(check: Compare) -> dict[str, Any]:
    expected = np.asarray(check.expected, dtype=np.float64)
    if check.tol is None:
        rtol, atol, why = 0.0, 0.0, CLASSES_WHY if check.how == "classes" else EXACT_WHY
    else:
        rtol, why = check.tol.rtol, check.tol.why
        atol = np.asarray(check.tol.atol, dtype=np.float64)
        if atol.ndim and atol.shape != expected.shape:
            raise ValueError(f"export: {check.quantity}: atol of shape {atol.shape} for a value of {expected.shape}")
    return {
        "path": list(check.path),
        "quantity": check.quantity,
        "compare": check.how,
        "expected": encode(expected),
        "rtol": encode(rtol),
        "atol": encode(atol),
        "derivation": why,
    }


def _args(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the exec protocol writes them: an optimizer as its object."""
    return {k: _optimizer(v) if isinstance(v, (SGD, Adam)) else v for k, v in args.items()}


def _vector_json(test: str, case, dtype: str, vector: Vector) -> dict[str, Any]:
    out = {
        "id": vector_id(test, case, dtype),
        "case": case.id,
        "dtype": dtype,
        "capability": capability(EXPORTED[test].operation, vector),
        "args": encode(_args(vector.args)),
        "checks": [_check_json(c) for c in vector.compares],
    }
    if getattr(case, "note", ""):
        out["note"] = case.note
    return out


def cases_file(test: str) -> dict[str, Any]:
    """One test function's vectors, every case in both dtypes, in pytest's order."""
    check = EXPORTED[test]
    vectors = [
        _vector_json(test, case, dtype, check.build(ANY, case, dtype)) for case in check.cases for dtype in DTYPES
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "cases",
        "test": test,
        "source": f"conformance/suite/{check.module}",
        "operation": check.operation,
        "about": _paragraph(check.build, 0),
        "vectors": vectors,
    }


def golden_file() -> dict[str, Any]:
    """Every number the notebook printed (reference/golden.py), in the module's order, each with its cell."""
    entries = []
    for name, value in vars(golden).items():
        if isinstance(value, golden.Printed):
            tol = None if value.decimals is None else T.printed(value.decimals)
            entries.append(
                {
                    "name": name,
                    "kind": "printed",
                    "cell": value.cell,
                    "decimals": value.decimals,
                    "values": encode(value.values),
                    "tolerance": None if tol is None else {"rtol": tol.rtol, "atol": tol.atol, "derivation": tol.why},
                }
            )
        elif name == "TRAINED_NETS":
            for k, net in enumerate(value):
                entries.append(
                    {
                        "name": f"TRAINED_NETS[{k}]",
                        "kind": "trained-net",
                        "cell": net.cell,
                        "gate": net.gate,
                        "layout": net.layout,
                        "params": encode(net.params),
                        "outputs": encode(net.outputs),
                        "decimals": net.decimals,
                    }
                )
        elif name.isupper() and isinstance(value, (int, float, tuple)):
            # The cells' inputs (x and w of In [59], the online cell's labels and η, …): golden.py says which.
            entries.append({"name": name, "kind": "input", "value": encode(value)})
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "golden",
        "source": inspect.getdoc(golden),
        "entries": entries,
    }


def _gatespec_version() -> str:
    from importlib.metadata import version

    return version("gatespec")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def index_file(files: list[dict[str, Any]], golden_sha: str, schema_sha: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "index",
        "gatespec_version": _gatespec_version(),
        "files": files,
        "golden": {"path": "golden.json", "sha256": golden_sha},
        "schema": {"path": "schema.json", "sha256": schema_sha},
        "not_exported": not_exported(),
        "operations": {
            name: {"capability": [c.value for c in op.capability], "args": op.args, "results": op.results}
            for name, op in OPERATIONS.items()
        },
        "rules": {
            "close": (
                "|actual − expected| ≤ atol + rtol·|expected| elementwise (numpy's assert_allclose rule), atol a "
                "number or an array of expected's shape; NaN or ±infinity where a finite value is expected is never "
                "close; the result must have expected's shape"
            ),
            "exact": "actual == expected elementwise, bit for bit in value; the result must have expected's shape",
            "classes": (
                "the truth table of the weight vector w at path: 1.0 where Xb·w > 0, else 0.0 (Xb the vector's "
                "argument, computed in float64 from w read as float64), equal to expected elementwise"
            ),
            "path": (
                "where the compared value sits in the operation's result: a result name, then list indices "
                "(the parameter k of params or grads) and array indices on the leading axis (a step t)"
            ),
            "tolerance": " ".join(inspect.getdoc(T.tolerance).split()),
            "dtype": (
                "float32: round the inputs to float32 and compute and answer in float32; float64: in float64. "
                "Expected values are the float64 reference's in either case"
            ),
            "numbers": (
                "floats as the shortest decimal that reads back to the same double; NaN and ±infinity as the "
                'strings "NaN", "Infinity", "-Infinity"; steps and order are integers'
            ),
            "ids": (
                "the pytest node id of the conformance test with the implementation's name replaced by *, CPU "
                "only (a CUDA run's ids end in -cuda)"
            ),
        },
        "overrides": [
            {
                "impl": impl,
                "quantity": q,
                "dtype": dt,
                "rtol": tol.rtol,
                "atol": encode(tol.atol),
                "derivation": tol.why,
            }
            for (impl, q, dt), tol in sorted(T.OVERRIDES.items())
        ],
    }


# ----------------------------------------------------------------------------- writing


def _prepare(directory: Path) -> None:
    """An empty or new folder, or one holding an earlier export (whose files are replaced); never anything else."""
    if not directory.exists():
        directory.mkdir(parents=True)
        return
    if not any(directory.iterdir()):
        return
    index = directory / "index.json"
    try:
        ours = json.loads(index.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise ValueError(f"DIR: {directory} is neither empty nor an earlier gatespec export; choose another folder")
    shutil.rmtree(directory / "cases", ignore_errors=True)
    for name in ("index.json", "golden.json", "schema.json"):
        (directory / name).unlink(missing_ok=True)


def _operation_rules(name: str) -> dict[str, Any]:
    """The schema's rule for a cases file of operation ``name``: its vectors' argument names and result paths."""
    op = OPERATIONS[name]
    args = {"required": list(op.args), "propertyNames": {"enum": list(op.args)}}
    paths = {"items": {"properties": {"path": {"prefixItems": [{"enum": list(op.results)}]}}}}
    return {
        "if": {"properties": {"operation": {"const": name}}, "required": ["operation"]},
        "then": {"properties": {"vectors": {"items": {"properties": {"args": args, "checks": paths}}}}},
    }


def schema_document() -> dict[str, Any]:
    """export_schema.json with what OPERATIONS decides made from it: the operations a cases file may name and,
    per operation, its arguments and result names.  The rest (number encoding, the check's fields, the index and
    golden files) is the file's own.  tests/test_export.py holds the file to this; ``python -m
    gatespec.conformance.tools.export --write-schema`` rewrites it after OPERATIONS changes."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    described = set(schema["$defs"]["args"]["properties"])
    needed = {arg for op in OPERATIONS.values() for arg in op.args}
    if needed - described:
        raise ValueError(f"{SCHEMA.name}: $defs.args describes no {sorted(needed - described)} (OPERATIONS takes them)")
    cases = schema["$defs"]["cases"]
    cases["properties"]["operation"] = {"enum": list(OPERATIONS)}
    cases["allOf"] = [_operation_rules(name) for name in OPERATIONS]
    return schema


def schema_text() -> str:
    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> dict[str, Any]:
    """Write the export into ``directory`` (see the module docstring); returns the index."""
    directory = Path(directory)
    if not SCHEMA.is_file():
        raise ValueError(f"{SCHEMA}: missing (gatespec installed without its package data?)")
    not_exported()  # fail before writing anything if a test is unaccounted for
    _prepare(directory)
    (directory / "cases").mkdir()
    files = []
    for test, check in EXPORTED.items():
        doc = cases_file(test)
        data = dumps(doc)
        path = f"cases/{test}.json"
        (directory / path).write_bytes(data)
        files.append(
            {
                "path": path,
                "test": test,
                "operation": check.operation,
                "vectors": len(doc["vectors"]),
                "sha256": _sha256(data),
            }
        )
    golden_data = dumps(golden_file())
    (directory / "golden.json").write_bytes(golden_data)
    schema_data = SCHEMA.read_bytes()  # copied byte for byte
    (directory / "schema.json").write_bytes(schema_data)
    index = index_file(files, _sha256(golden_data), _sha256(schema_data))
    (directory / "index.json").write_bytes(dumps(index))
    return index


if __name__ == "__main__":  # python -m gatespec.conformance.tools.export --write-schema
    import sys

    if sys.argv[1:] != ["--write-schema"]:
        sys.exit("usage: python -m gatespec.conformance.tools.export --write-schema")
    SCHEMA.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA}")
