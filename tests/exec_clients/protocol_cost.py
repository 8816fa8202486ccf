"""The exec protocol's own cost per request: a client that answers from a table, so only the pipe is timed.

    python tests/exec_clients/protocol_cost.py

Starts ``numpy_client.py --table`` (each answer written once, only the id filled in per request)
and times the suite's side of whole requests — encoding the arguments, the pipe both ways,
parsing and checking the answer — for the 2-2-1 XOR forward pass and a 100-step trajectory.
A figure for the README and the issue's note, not a test: timings are never asserted.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gatespec.conformance.adapters.exec_impl import client, protocol
from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec.interface import Target
from gatespec.reference import mlp

CLIENT = Path(__file__).with_name("numpy_client.py")


def main() -> int:
    case = C.MLP_CASES[0]
    params, X, y = case.params, case.gate.X, case.gate.y
    z, p = mlp.forward(params, X)
    run = mlp.train(params, X, y, mlp.SGD(0.5), 100)
    table = {"mlp_forward": {"z": z, "p": p}, "mlp_train": {"params": list(run.params), "losses": run.losses}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.json"
        path.write_text(json.dumps(protocol.encode(table)))
        impl = client.from_command(shlex.join([sys.executable, str(CLIENT), "--table", str(path)]))
        target = Target("float64")
        requests = {
            f"mlp_forward ({case.id})": (lambda: impl.mlp_forward(params, X, target), 1000),
            "mlp_train, 100 SGD steps": (lambda: impl.mlp_train(params, X, y, mlp.SGD(0.5), 100, target), 200),
        }
        try:
            for label, (call, n) in requests.items():
                for _ in range(50):
                    call()
                per_request = []
                for _ in range(5):
                    start = time.perf_counter()
                    for _ in range(n):
                        call()
                    per_request.append((time.perf_counter() - start) / n)
                print(f"{label}: {np.median(per_request) * 1e6:.0f} µs per request (median of 5 × {n})")
        finally:
            impl.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
