"""The clients shipped in ``clients/``, registered as built-ins: node-plain (JavaScript) and c-plain (C).

Each is a real implementation in its own language (``clients/node/gatespec_client.js``,
``clients/c/gatespec_client.c``), run through the exec protocol like any third-party program.
A toolchain that is missing (no ``node``, no C compiler), or one that cannot build or run the
client (a compiler that rejects it, a Node.js too old for its syntax), makes the client
unavailable with that reason: skipped by default, an error under ``--gatespec-require`` (CI requires both,
so a client that stops working there fails the build).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gatespec.conformance.adapters.exec_impl.client import ExecError, ExecImplementation, HandshakeError

CLIENTS = Path(__file__).parent / "clients"
NODE_CLIENT = CLIENTS / "node" / "gatespec_client.js"
C_CLIENT = CLIENTS / "c" / "gatespec_client.c"
C_SOURCES = (C_CLIENT, CLIENTS / "c" / "gatespec_kernels.h")  # the client and the header it includes per type
# Strict ISO C and every warning an error: the client is written to build anywhere gcc or clang does.
# No -ffast-math: it would let the compiler reassociate the sums the tolerances are derived for.
C_FLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror")


class ClientUnavailable(ImportError):
    """The client's toolchain is missing here or cannot build or run it: unavailable, with this reason."""


def _which(tool: str, env_var: str) -> str:
    chosen = os.environ.get(env_var)
    found = shutil.which(chosen or tool)
    if not found:
        where = f"{env_var}={chosen} is not an executable" if chosen else f"{tool} not found on PATH"
        raise ClientUnavailable(f"{where} (set {env_var} to use another): this client needs it")
    return found


def _started(init, argv: list[str]) -> None:
    """``init(argv)``, a failed start or handshake made :class:`ClientUnavailable` (with what the program said)."""
    try:
        init(argv)
    except (HandshakeError, ExecError) as exc:
        raise ClientUnavailable(f"the client does not start here: {exc}") from None


class NodePlain(ExecImplementation):
    """node-plain: plain JavaScript on Node.js, float64 as Number and float32 through Math.fround."""

    expected_name = "node-plain"

    def __init__(self) -> None:
        _started(super().__init__, [_which("node", "GATESPEC_NODE"), str(NODE_CLIENT)])


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gatespec" / "c-client"


def build_c_client(compiler: str) -> Path:
    """The C client compiled with ``compiler``, cached by its sources, compiler and flags (xdist workers share it).

    Built into a temporary file and renamed into place, so concurrent builds never expose a partial binary.
    """
    if missing := [str(p) for p in C_SOURCES if not p.is_file()]:
        raise ClientUnavailable(f"{', '.join(missing)} missing: gatespec was installed without its package data")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    source = b"".join(p.read_bytes() for p in C_SOURCES)
    key = hashlib.sha256(source + version.encode() + " ".join(C_FLAGS).encode()).hexdigest()[:16]
    binary = _cache_dir() / f"gatespec_client-{key}"
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=binary.parent, prefix=".build-")
    os.close(fd)
    try:
        built = subprocess.run(
            [compiler, *C_FLAGS, "-o", tmp, str(C_CLIENT), "-lm"], capture_output=True, text=True, check=False
        )
        if built.returncode != 0:
            raise ClientUnavailable(f"{compiler} could not build {C_CLIENT}:\n{built.stderr}")
        os.replace(tmp, binary)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return binary


class CPlain(ExecImplementation):
    """c-plain: C11 and libm, double for float64 and float (with the f-suffixed libm) for float32."""

    expected_name = "c-plain"

    def __init__(self) -> None:
        _started(super().__init__, [str(build_c_client(_which("gcc", "GATESPEC_CC")))])
