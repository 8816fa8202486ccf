"""A program speaking the gatespec exec protocol, in Python: gatespec's numpy implementation behind the pipe.

A correct client (the numpy style's numbers, bit for bit, through JSON) that can be told to
misbehave, for tests/test_exec.py:

    python numpy_client.py [--name NAME] [--protocol N] [--fault KIND --fault-op OP [--fault-dtype DTYPE]]

KIND: ``grad-sign`` (every gradient negated, as when l = Σ y·z − softplus(z): a planted bug),
``crash`` (exits with status 3), ``garbage`` (a line that is not JSON), ``wrong-id``, ``short``
(one entry too few), ``float64`` (a float32 request answered with float64 numbers), ``hang``
(never answers), ``stderr-flood`` (writes 1 MB to stderr first: the pipe must not block), each
on requests for OP (in DTYPE, when given).  ``--table FILE``: answer each op with the canned
result stored in FILE (JSON
``{op: result}``) without computing anything — the protocol's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from gatespec.conformance.adapters.exec_impl import protocol
from gatespec.conformance.adapters.numpy_impl.handwritten import NumpyImplementation
from gatespec.conformance.spec.interface import Capability, NotSupported, Target
from gatespec.reference.mlp import SGD, Adam

SATURATES = "the numpy style's naive -log(1/(1+exp(-x·w))), as the notebook's cell: inf at saturation"
CAPABILITIES = sorted(c.value for c in Capability if c not in (Capability.NATIVE, Capability.MLP_INIT))


def _arrays(args: dict) -> dict:
    out = {}
    for key, value in args.items():
        if key == "params":
            out[key] = tuple(np.array(p, dtype=np.float64) for p in value)
        elif key == "optimizer":
            kind = value.pop("kind")
            out[key] = SGD(**value) if kind == "sgd" else Adam(**value)
        elif key == "order":
            out[key] = np.array(value, dtype=np.int64)
        elif isinstance(value, list):
            out[key] = np.array(value, dtype=np.float64)
        else:
            out[key] = value
    return out


def _result(op: str, value) -> dict:
    if op in ("tlu_predict",):
        return {"y": value}
    if op in ("perceptron_step", "perceptron_online"):
        return {"w": value}
    if op in ("logistic_loss_and_grad", "single_example_loss_and_grad"):
        return {"loss": value[0], "grad": value[1]}
    if op == "logistic_train":
        return {"weights": value.weights, "losses": value.losses}
    if op == "mlp_forward":
        return {"z": value[0], "p": value[1]}
    if op == "mlp_loss_and_grads":
        return {"loss": value[0], "grads": list(value[1])}
    if op in ("mlp_train", "mlp_train_batched"):
        return {"params": list(value.params), "losses": value.losses}
    raise NotSupported(op)


def _fault(result: dict, kind: str, dtype: str) -> dict:
    if kind == "grad-sign":
        return {**result, "grads": [-g for g in result["grads"]]}
    if kind == "short":
        key = next(iter(result))
        value = result[key]
        return {**result, key: value[:-1] if isinstance(value, list) else np.asarray(value)[:-1]}
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="numpy-exec")
    parser.add_argument("--protocol", type=int, default=protocol.VERSION)
    parser.add_argument("--fault", default=None)
    parser.add_argument("--fault-op", default=None)
    parser.add_argument("--fault-dtype", default=None)
    parser.add_argument("--table", default=None)
    opts = parser.parse_args()
    table = None
    if opts.table:
        with open(opts.table) as f:
            table = {op: json.dumps(result, separators=(",", ":")).encode() for op, result in json.load(f).items()}
    impl = NumpyImplementation()
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        request = json.loads(line)
        rid, op = request["id"], request["op"]
        if op == "hello":
            if request["protocol"] != opts.protocol:
                reply = {"id": rid, "error": {"kind": "protocol", "message": f"speaks {opts.protocol}"}}
            else:
                hello = dict(protocol=opts.protocol, name=opts.name, language="python", framework="numpy-exec")
                hello |= dict(version=np.__version__, dtypes=["float32", "float64"], capabilities=CAPABILITIES)
                hello["known_deviations"] = {"test_single_example_loss_matches_reference[saturating-wrong": SATURATES}
                reply = {"id": rid, "result": hello}
            out.write(protocol.dumps(reply))
            out.flush()
            continue
        if table is not None:  # the answer written once, only the id filled in: the client costs ~nothing
            out.write(b'{"id":%d,"result":%s}\n' % (rid, table[op]))
            out.flush()
            continue
        faulty = opts.fault and op == opts.fault_op and opts.fault_dtype in (None, request["dtype"])
        if faulty and opts.fault == "crash":
            os._exit(3)
        if faulty and opts.fault == "hang":
            time.sleep(3600)
        if faulty and opts.fault == "garbage":
            out.write(b"Traceback (most recent call last): not a protocol line\n")
            out.flush()
            continue
        if faulty and opts.fault == "stderr-flood":
            sys.stderr.write("x" * (1 << 20))
            sys.stderr.flush()
        dtype = request["dtype"]
        target = Target("float64" if faulty and opts.fault == "float64" else dtype, request["device"])
        try:
            result = _result(op, getattr(impl, op)(**_arrays(request["args"]), target=target))
            if faulty:
                result = _fault(result, opts.fault, dtype)
            reply = {"id": rid + 1 if faulty and opts.fault == "wrong-id" else rid, "result": result}
        except NotSupported as exc:
            reply = {"id": rid, "error": {"kind": "not-supported", "message": str(exc)}}
        except ValueError as exc:
            reply = {"id": rid, "error": {"kind": "invalid-input", "message": str(exc)}}
        out.write(protocol.dumps(reply))
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
