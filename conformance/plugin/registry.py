"""Where implementations come from: the built-ins listed here, entry points, and ``module:attr``.

Nothing here imports a framework until asked, and an import failure becomes an
:class:`Entry` with the reason instead of crashing the suite.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass

from gatespec.conformance.spec.interface import Implementation

ENTRY_POINT_GROUP = "gatespec.implementations"

_ADAPTERS = "gatespec.conformance.adapters"

# name → (framework, "module:attr").  The one place built-ins are registered.
BUILTINS: dict[str, tuple[str, str]] = {
    "numpy": ("numpy", f"{_ADAPTERS}.numpy_impl.handwritten:NumpyImplementation"),
    "autograd": ("autograd", f"{_ADAPTERS}.autograd_impl.grad:AutogradImplementation"),
    "torch-autograd": ("torch", f"{_ADAPTERS}.torch_impl.autograd:TorchAutograd"),
    "torch-nn": ("torch", f"{_ADAPTERS}.torch_impl.nn:TorchNN"),
    "torch-optim": ("torch", f"{_ADAPTERS}.torch_impl.optim:TorchOptim"),
    "torch-module": ("torch", f"{_ADAPTERS}.torch_impl.module:TorchModule"),
    "torch-func": ("torch", f"{_ADAPTERS}.torch_impl.func:TorchFunc"),
    "torch-compile": ("torch", f"{_ADAPTERS}.torch_impl.compiled:TorchCompile"),
    "tf-tape": ("tensorflow", f"{_ADAPTERS}.tensorflow_impl.tape:TFTape"),
    "tf-function": ("tensorflow", f"{_ADAPTERS}.tensorflow_impl.function:TFFunction"),
    "tf-xla": ("tensorflow", f"{_ADAPTERS}.tensorflow_impl.xla:TFXLA"),
    "tf-keras": ("tensorflow", f"{_ADAPTERS}.tensorflow_impl.keras:TFKeras"),
    "jax-grad": ("jax", f"{_ADAPTERS}.jax_impl.grad:JaxGrad"),
    "jax-jit": ("jax", f"{_ADAPTERS}.jax_impl.jit:JaxJit"),
    "jax-scan": ("jax", f"{_ADAPTERS}.jax_impl.scan:JaxScan"),
    "flax-nnx": ("jax", f"{_ADAPTERS}.jax_impl.flax_nnx:FlaxNNX"),
    "equinox": ("jax", f"{_ADAPTERS}.jax_impl.eqx:Equinox"),
    "keras-jax": ("jax", f"{_ADAPTERS}.keras_impl.styles:KerasJax"),
    "keras-torch": ("torch", f"{_ADAPTERS}.keras_impl.styles:KerasTorch"),
    # Other languages, through the exec protocol (exec_impl/protocol.py): the shipped clients.
    "node-plain": ("node", f"{_ADAPTERS}.exec_impl.builtin:NodePlain"),
    "c-plain": ("c", f"{_ADAPTERS}.exec_impl.builtin:CPlain"),
}

FRAMEWORKS = ("numpy", "autograd", "torch", "tensorflow", "jax", "node", "c")
EXEC_PREFIX = "exec:"


@dataclass(frozen=True)
class Entry:
    """One implementation as discovered: loaded (``impl``) or unavailable (``reason``)."""

    name: str
    framework: str
    source: str  # "builtin", "entry-point" or "module:attr"
    impl: Implementation | None = None
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.impl is not None


class UsageError(ValueError):
    """A selection that names nothing loadable; the message lists what is available."""


def load_object(spec: str) -> Implementation:
    """Import ``package.module:attr`` and return an Implementation instance.

    ``attr`` may be an Implementation subclass (instantiated with no arguments) or an instance.
    Raises ImportError when the module does not import and UsageError when the attribute is
    missing or is not an implementation.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{spec!r}: expected 'package.module:attr'")
    module = importlib.import_module(module_name)
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"{spec!r}: module {module_name!r} has no attribute {attr!r}; {_defined_in(module)}") from None
    if not _is_implementation(obj):
        raise UsageError(
            f"{spec!r}: expected a gatespec.conformance.spec.interface.Implementation subclass or instance, "
            f"got {type(obj).__name__}; {_defined_in(module)}"
        )
    return _as_implementation(spec, obj)


def _is_implementation(obj: object) -> bool:
    return isinstance(obj, Implementation) or (isinstance(obj, type) and issubclass(obj, Implementation))


def _defined_in(module) -> str:
    """What ``module:attr`` could have named instead: the module's named implementations."""
    names = sorted(k for k, v in vars(module).items() if _is_implementation(v) and getattr(v, "name", ""))
    return f"implementations in {module.__name__}: {', '.join(names) or 'none'}"


def _as_implementation(spec: str, obj: object) -> Implementation:
    if isinstance(obj, type) and issubclass(obj, Implementation):
        obj = obj()
    if not isinstance(obj, Implementation):
        raise UsageError(
            f"{spec!r}: expected a gatespec.conformance.spec.interface.Implementation subclass or instance, "
            f"got {type(obj).__name__}"
        )
    if not obj.name or not obj.framework:
        raise UsageError(f"{spec!r}: an implementation must set both 'name' and 'framework'")
    return obj


def _load(name: str, framework: str, source: str, loader) -> Entry:
    try:
        impl = loader()
    except ImportError as exc:
        if (getattr(exc, "name", None) or "").startswith("gatespec"):
            raise  # our own module is missing: a packaging bug, never an "unavailable framework"
        return Entry(name, framework, source, reason=f"{type(exc).__name__}: {exc}")
    return Entry(impl.name, impl.framework, source, impl=impl)


def builtin(name: str) -> Entry:
    framework, spec = BUILTINS[name]
    return _load(name, framework, "builtin", lambda: load_object(spec))


def entry_points() -> list[Entry]:
    """Implementations registered by installed distributions under :data:`ENTRY_POINT_GROUP`."""
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.append(_load(ep.name, "?", "entry-point", lambda ep=ep: _as_implementation(ep.value, ep.load())))
    return found


def from_spec(spec: str) -> Entry:
    """An implementation named by ``module:attr`` (``--gatespec-impl``); import errors become usage errors."""
    try:
        impl = load_object(spec)
    except ImportError as exc:
        # Named without importing anything more: the built-ins and the installed entry points.
        known = [*BUILTINS, *(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))]
        raise UsageError(f"{spec!r}: cannot import: {exc}. Registered implementations: {', '.join(known)}") from exc
    return Entry(impl.name, impl.framework, "module:attr", impl=impl)


def from_exec(command: str) -> Entry:
    """``exec:COMMAND``: a program speaking the exec protocol; one that cannot start or handshake is a usage error."""
    from gatespec.conformance.adapters.exec_impl import client

    try:
        impl = client.from_command(command)
    except (client.HandshakeError, client.ExecError) as exc:
        raise UsageError(f"--gatespec-impl {EXEC_PREFIX}{command}: {exc}") from None
    return Entry(impl.name, impl.framework, f"{EXEC_PREFIX}{command}", impl=impl)


def discover() -> list[Entry]:
    """Every built-in and entry-point implementation, available or not, in a stable order."""
    return [builtin(name) for name in BUILTINS] + entry_points()


def select(selectors: list[str] | None) -> list[Entry]:
    """Resolve ``--gatespec-impl`` values: a registered name, a framework name (all its styles), module:attr,
    or exec:COMMAND.

    ``None`` or an empty list selects everything :func:`discover` finds.
    """
    if not selectors:
        return discover()
    chosen: dict[str, Entry] = {}
    known: list[Entry] | None = None  # discovered only if a name needs it: importing every framework takes seconds
    loaded: dict[str, list[Entry]] = {}  # what _candidates loaded, so that no selector loads a style twice
    # Repeatable and comma-separated alike (--gatespec-impl numpy,torch or --gatespec-impl numpy
    # --gatespec-impl torch), as --gatespec-require.
    for sel in _split(selectors):
        if sel.startswith(EXEC_PREFIX):
            entry = from_exec(sel[len(EXEC_PREFIX) :])
            chosen[entry.name] = entry
            continue
        if ":" in sel:
            entry = from_spec(sel)
            chosen[entry.name] = entry
            continue
        candidates = _candidates(sel, loaded)
        if not candidates:
            known = discover() if known is None else known
            candidates = known
        matches = [e for e in candidates if e.name == sel] or [e for e in candidates if e.framework == sel]
        if not matches:
            known = discover() if known is None else known  # the error lists every implementation and framework
            names = ", ".join(e.name for e in known)
            frameworks = ", ".join(sorted({e.framework for e in known}))
            raise UsageError(
                f"--gatespec-impl {sel!r}: no such implementation or framework. "
                f"Implementations: {names}. Frameworks: {frameworks}. Or give package.module:attr."
            )
        for e in matches:
            chosen[e.name] = e
    return list(chosen.values())


def _candidates(sel: str, loaded: dict[str, list[Entry]]) -> list[Entry]:
    """What a built-in's name or framework can match, loading that framework's built-ins alone.

    BUILTINS holds every built-in's name and framework, so ``--gatespec-impl numpy`` need not import torch,
    TensorFlow and JAX (8 s, in every xdist worker) to find it; entry points are loaded as in
    :func:`discover`, since only a loaded one tells its name and framework.  [] for any other selector.
    ``loaded`` keeps what was loaded (by name, and ``""`` for the entry points) across selectors.
    """
    if sel in BUILTINS:
        names = [sel]
    elif sel in (fw for fw, _ in BUILTINS.values()):
        names = [name for name, (fw, _) in BUILTINS.items() if fw == sel]
    else:
        return []
    for key in (*names, ""):
        if key not in loaded:
            loaded[key] = entry_points() if key == "" else [builtin(key)]
    return [e for key in (*names, "") for e in loaded[key]]


# The module each framework of a built-in imports first: what a run can look for without importing it.
FRAMEWORK_MODULES = {
    "numpy": "numpy",
    "autograd": "autograd",
    "torch": "torch",
    "tensorflow": "tensorflow",
    "jax": "jax",
}


def frameworks_of(selectors: list[str] | None) -> dict[str, str]:
    """Name → framework of the built-ins ``--gatespec-impl`` selects, known without loading anything (a
    module:attr, an exec program or an entry point tells its framework only once loaded: left out)."""
    parts = _split(selectors or []) or list(BUILTINS)
    found = {}
    for sel in parts:
        if sel in BUILTINS:
            found[sel] = BUILTINS[sel][0]
        found |= {name: fw for name, (fw, _) in BUILTINS.items() if fw == sel}
    return found


def entry_point_names() -> list[str]:
    """The names installed distributions register under :data:`ENTRY_POINT_GROUP`, without loading them."""
    return [ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]


def _split(selectors: list[str]) -> list[str]:
    """``--gatespec-impl`` values, repeatable and comma-separated alike; an ``exec:`` value is one selector,
    commas and all."""
    parts: list[str] = []
    for arg in selectors:
        if arg.strip().startswith(EXEC_PREFIX):
            parts.append(arg.strip())
            continue
        parts.extend(part.strip() for part in arg.split(",") if part.strip())
    return parts
