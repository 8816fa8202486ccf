"""``gatespec repro NODEID --impl NAME``: a failing test as a standalone script, for an upstream bug report.

The script needs numpy and the framework, never gatespec.  It holds the test's inputs and the
reference's expected values with their tolerances (the export's vector for that test, case and
dtype: :mod:`gatespec.conformance.tools.export`, so the numbers are the suite's), the framework code of
the style's idiom for the operation, and the comparison; run, it prints each compared quantity's
worst error over its tolerance and exits 1 where one exceeds 1.

The framework code is the idiom of the style, written out plainly (:data:`TEMPLATES`), not the
adapter's: a report upstream must read as the framework's users write it.  ``torch`` is
torch-optim's (``nn.Sequential`` of ``nn.Linear`` and ``nn.Sigmoid``, ``BCEWithLogitsLoss(reduction=
"sum")``, ``torch.optim``), under ``torch.compile`` for torch-compile; ``jax`` is jax-jit's (pure
functions under ``jax.jit``, torch's Adam by hand, float64 scoped by ``jax.enable_x64``);
``tensorflow`` is tf-tape's (``tf.Variable``, ``GradientTape``, ``assign_sub``), its step under
``tf.function`` (and XLA) for tf-function and tf-xla; ``keras`` is tf-keras's (``Sequential`` of
``Dense``, ``BinaryCrossentropy``, Keras's optimizers); ``numpy`` is the numpy style's backprop;
``exec`` starts the program and speaks the exec protocol to it.  Operations: the MLP's forward, loss
and gradients, and training (SGD and Adam).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.interface import DTYPES
from gatespec.conformance.tools import export

# The styles each template reproduces, and the template's settings for it.
STYLES: dict[str, tuple[str, dict[str, str]]] = {
    **{name: ("torch", {"COMPILE": "False"}) for name in ("torch-nn", "torch-optim", "torch-module", "torch-autograd")},
    "torch-compile": ("torch", {"COMPILE": "True"}),
    **{name: ("jax", {}) for name in ("jax-grad", "jax-jit", "jax-scan")},
    "tf-tape": ("tensorflow", {"FUNCTION": "False", "JIT": "False"}),
    "tf-function": ("tensorflow", {"FUNCTION": "True", "JIT": "False"}),
    "tf-xla": ("tensorflow", {"FUNCTION": "True", "JIT": "True"}),
    "tf-keras": ("keras", {}),
    **{name: ("numpy", {}) for name in ("numpy", "autograd")},
}
OPERATIONS = ("mlp_forward", "mlp_loss_and_grads", "mlp_train")


class ReproError(ValueError):
    """A node id or implementation the command cannot reproduce; the message says what it can."""


@dataclass(frozen=True)
class Found:
    test: str
    case: object
    dtype: str
    vector: dict


def find(nodeid: str, impl_name: str) -> Found:
    """The exported vector of ``nodeid`` (``[path::]test[IMPL-case-dtype]``) for the implementation ``impl_name``."""
    name = nodeid.split("::")[-1]
    test, bracket, params = name.partition("[")
    if not bracket or not params.endswith("]"):
        raise ReproError(
            f"{nodeid!r}: expected a node id such as test_mlp_one_adam_step[torch-optim-xor-2-2-1-float32]"
        )
    if test not in export.EXPORTED:
        raise ReproError(f"{test}: not a test of the exported matrix; reproducible tests: {', '.join(export.EXPORTED)}")
    if not params.startswith(f"{impl_name}-"):
        raise ReproError(f"{nodeid!r}: its parameters do not start with the implementation's name {impl_name!r}")
    wanted = f"{test}[*-{params[len(impl_name) + 1 :]}"
    for case in export.cases_of(test):
        for dtype in DTYPES:
            if export.vector_id(test, case, dtype) == wanted:
                vector = export._vector_json(test, case, dtype, export.EXPORTED[test].build(export.ANY, case, dtype))
                return Found(test, case, dtype, vector)
    raise ReproError(f"{nodeid!r}: no case of {test} has that id (a regression file's case is not reproduced)")


def script(nodeid: str, selector: str) -> str:
    """The standalone script for ``nodeid`` run on the implementation ``selector`` (a built-in name or exec:COMMAND)."""
    if selector.startswith(registry.EXEC_PREFIX):
        command = selector[len(registry.EXEC_PREFIX) :]
        entry = registry.from_exec(command)
        entry.impl.close()
        template, settings = "exec", {"COMMAND": repr(shlex.split(command))}
        name = entry.name
    elif selector in STYLES:
        template, settings = STYLES[selector]
        name = selector
    else:
        raise ReproError(f"{selector!r}: no reproduction template; reproducible: {', '.join(STYLES)}, and exec:COMMAND")
    found = find(nodeid, name)
    operation = export.EXPORTED[found.test].operation
    if operation not in OPERATIONS:
        raise ReproError(
            f"{found.test}: its operation {operation} has no template (templates: {', '.join(OPERATIONS)})"
        )
    body = TEMPLATES[template]
    for key, value in settings.items():
        body = body.replace(f"@{key}@", value)
    vector = json.dumps({**found.vector, "operation": operation}, sort_keys=True, ensure_ascii=False)
    return HEADER.format(nodeid=nodeid, impl=name, needs=NEEDS[template], vector=vector) + body + COMPARE


NEEDS = {
    "torch": "numpy and torch",
    "jax": "numpy and jax",
    "tensorflow": "numpy and tensorflow",
    "keras": "numpy, tensorflow and keras",
    "numpy": "numpy",
    "exec": "numpy and the program",
}

HEADER = '''\
"""A reproduction of gatespec's test {nodeid} on {impl}.

Standalone: it needs {needs}, not gatespec.  VECTOR holds the test's inputs (args), the operation, and
each compared quantity's expected value (the float64 reference's), with the tolerance the suite applies
and its derivation.  Run it: each quantity's worst |actual − expected| / (atol + rtol·|expected|) is
printed, and the exit status is 1 where one exceeds 1.  (Written by `gatespec repro`.)
"""

import json
import sys

import numpy as np

VECTOR = json.loads(r"""{vector}""")
DTYPE = VECTOR["dtype"]


def decode(x):
    """JSON numbers as the exec protocol writes them: NaN and ±infinity as strings."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if isinstance(x, dict):
        return {{k: decode(v) for k, v in x.items()}}
    if isinstance(x, str):
        return {{"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}}.get(x, x)
    return x


'''

TEMPLATES: dict[str, str] = {}

TEMPLATES["torch"] = '''\
# ---------------------------------------------------------------- the framework code: torch, as torch-optim writes it
import torch
from torch import nn

TORCH_DTYPE = getattr(torch, DTYPE)
COMPILE = @COMPILE@  # torch.compile the model's forward and the training step (torch-compile)
LOSS = nn.BCEWithLogitsLoss(reduction="sum")  # Σ softplus(z) − y·z


def model_of(params):
    """nn.Sequential of nn.Linear (weight (out, in): Wᵀ) and nn.Sigmoid, holding params = [W1, b1, …]."""
    layers = []
    for k in range(0, len(params), 2):
        W, b = np.asarray(params[k]), np.asarray(params[k + 1])
        linear = nn.Linear(W.shape[0], W.shape[1], dtype=TORCH_DTYPE)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear] if k == len(params) - 2 else [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def params_of(model):
    """[W1, b1, …] in the canonical layout (W (in, out)), in the model's dtype."""
    return [p.detach().numpy().T.copy() if p.ndim == 2 else p.detach().numpy().copy() for p in model.parameters()]


def run(operation, args):
    args = decode(args)
    params = [np.asarray(p, dtype=np.float64) for p in args["params"]]
    x = torch.tensor(np.asarray(args["X"], dtype=np.float64), dtype=TORCH_DTYPE)
    model = model_of(params)
    forward = torch.compile(model) if COMPILE else model
    if operation == "mlp_forward":
        with torch.no_grad():
            z = forward(x)[:, 0]
        return {"z": z.numpy(), "p": torch.sigmoid(z).numpy()}
    y = torch.tensor(np.asarray(args["y"], dtype=np.float64), dtype=TORCH_DTYPE)
    if operation == "mlp_loss_and_grads":
        loss = LOSS(forward(x)[:, 0], y)
        loss.backward()
        grads = [p.grad.numpy().T if p.ndim == 2 else p.grad.numpy() for p in model.parameters()]
        return {"loss": loss.detach().numpy(), "grads": grads}
    spec = args["optimizer"]
    if spec["kind"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])

    def step():
        opt.zero_grad()
        loss = LOSS(model(x)[:, 0], y)
        value = loss.detach()
        loss.backward()
        opt.step()
        return value

    step = torch.compile(step) if COMPILE else step
    history, losses = [params_of(model)], []
    for _ in range(args["steps"]):
        losses.append(step().numpy())
        history.append(params_of(model))
    return {"params": [np.stack(rows) for rows in zip(*history)], "losses": np.stack(losses)}


'''

TEMPLATES["jax"] = '''\
# ---------------------------------------------------------------- the framework code: JAX, as jax-jit writes it
import math

import jax
import jax.numpy as jnp


def forward(params, x):
    h = x
    for k in range(0, len(params), 2):
        a = h @ params[k] + params[k + 1]
        h = a if k == len(params) - 2 else jax.nn.sigmoid(a)
    return h[:, 0]


def loss_of(params, x, y):
    z = forward(params, x)
    return jnp.sum(jax.nn.softplus(z) - y * z)


loss_and_grads = jax.jit(jax.value_and_grad(loss_of))


@jax.jit
def sgd_step(params, x, y, lr):
    loss, grads = jax.value_and_grad(loss_of)(params, x, y)
    return [p - lr * g for p, g in zip(params, grads)], loss


@jax.jit
def adam_step(params, m, v, x, y, beta1, beta2, step_size, bc2_sqrt, eps):
    """torch.optim.Adam's update; the step's scalars come in computed in float64 and rounded once."""
    loss, grads = jax.value_and_grad(loss_of)(params, x, y)
    m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
    v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
    params = [p - step_size * mi / (jnp.sqrt(vi) / bc2_sqrt + eps) for p, mi, vi in zip(params, m, v)]
    return params, m, v, loss


def run(operation, args):
    args = decode(args)
    with jax.enable_x64(DTYPE == "float64"):
        dt = jnp.dtype(DTYPE)
        params = [jnp.asarray(np.asarray(p, dtype=np.float64), dtype=dt) for p in args["params"]]
        x = jnp.asarray(np.asarray(args["X"], dtype=np.float64), dtype=dt)
        if operation == "mlp_forward":
            z = jax.jit(forward)(params, x)
            return {"z": np.asarray(z), "p": np.asarray(jax.nn.sigmoid(z))}
        y = jnp.asarray(np.asarray(args["y"], dtype=np.float64), dtype=dt)
        if operation == "mlp_loss_and_grads":
            loss, grads = loss_and_grads(params, x, y)
            return {"loss": np.asarray(loss), "grads": [np.asarray(g) for g in grads]}
        spec, history, losses = args["optimizer"], [params], []
        m = [jnp.zeros_like(p) for p in params]
        v = [jnp.zeros_like(p) for p in params]
        scalar = lambda s: jnp.asarray(s, dtype=dt)  # noqa: E731
        for t in range(1, args["steps"] + 1):
            if spec["kind"] == "sgd":
                params, loss = sgd_step(params, x, y, scalar(spec["lr"]))
            else:
                b1, b2 = spec["beta1"], spec["beta2"]
                step_size = scalar(spec["lr"] / (1 - b1**t))
                bc2_sqrt = scalar(math.sqrt(1 - b2**t))
                params, m, v, loss = adam_step(
                    params, m, v, x, y, scalar(b1), scalar(b2), step_size, bc2_sqrt, scalar(spec["eps"])
                )
            history.append(params)
            losses.append(loss)
        return {
            "params": [np.stack([np.asarray(p) for p in rows]) for rows in zip(*history)],
            "losses": np.asarray(jnp.stack(losses)),
        }


'''

TEMPLATES["tensorflow"] = """\
# ---------------------------------------------------------------- the framework code: TensorFlow, as tf-tape writes it
import math

import tensorflow as tf

TF_DTYPE = tf.as_dtype(DTYPE)
FUNCTION = @FUNCTION@  # the step as a tf.function (tf-function)
JIT = @JIT@  # compiled by XLA (tf-xla)


def forward(params, x):
    h = x
    for k in range(0, len(params), 2):
        a = tf.matmul(h, params[k]) + params[k + 1]
        h = a if k == len(params) - 2 else tf.sigmoid(a)
    return h[:, 0]


def loss_of(params, x, y):
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=forward(params, x)))


def run(operation, args):
    args = decode(args)
    params = [tf.Variable(np.asarray(p, dtype=DTYPE)) for p in args["params"]]
    x = tf.constant(np.asarray(args["X"], dtype=DTYPE))
    if operation == "mlp_forward":
        z = forward(params, x)
        return {"z": z.numpy(), "p": tf.sigmoid(z).numpy()}
    y = tf.constant(np.asarray(args["y"], dtype=DTYPE))

    def loss_and_grads():
        with tf.GradientTape() as tape:
            loss = loss_of(params, x, y)
        return loss, tape.gradient(loss, params)

    if operation == "mlp_loss_and_grads":
        loss, grads = loss_and_grads()
        return {"loss": loss.numpy(), "grads": [g.numpy() for g in grads]}
    spec = args["optimizer"]
    m = [tf.Variable(tf.zeros_like(p)) for p in params]
    v = [tf.Variable(tf.zeros_like(p)) for p in params]

    def step(lr, beta1, beta2, step_size, bc2_sqrt, eps):
        loss, grads = loss_and_grads()
        for p, g, mi, vi in zip(params, grads, m, v):
            if spec["kind"] == "sgd":
                p.assign_sub(lr * g)
            else:
                mi.assign(beta1 * mi + (1 - beta1) * g)
                vi.assign(beta2 * vi + (1 - beta2) * g * g)
                p.assign_sub(step_size * mi / (tf.sqrt(vi) / bc2_sqrt + eps))
        return loss

    step = tf.function(step, jit_compile=JIT) if FUNCTION else step
    history, losses = [[p.numpy() for p in params]], []
    b1, b2, eps = spec.get("beta1", 0.0), spec.get("beta2", 0.0), spec.get("eps", 1.0)
    for t in range(1, args["steps"] + 1):
        # Adam's scalars for step t in float64 from the given β, rounded once (torch's definition).
        scalars = (spec["lr"], b1, b2, spec["lr"] / (1 - b1**t), math.sqrt(1 - b2**t), eps)
        loss = step(*(tf.constant(s, dtype=TF_DTYPE) for s in scalars))
        losses.append(loss.numpy())
        history.append([p.numpy() for p in params])
    return {"params": [np.stack(rows) for rows in zip(*history)], "losses": np.stack(losses)}


"""

TEMPLATES["keras"] = '''\
# ---------------------------------------------- the framework code: Keras 3 on TensorFlow, as tf-keras writes it
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def model_of(params):
    """Sigmoid hidden Dense layers and a linear Dense(1), in DTYPE, holding params = [W1, b1, …] (kernels (in, out))."""
    sizes = [len(params[0])] + [len(b) for b in params[1::2]]
    layers = [keras.Input(shape=(sizes[0],), dtype=DTYPE)]
    layers += [keras.layers.Dense(n, activation="sigmoid", dtype=DTYPE) for n in sizes[1:-1]]
    layers.append(keras.layers.Dense(1, dtype=DTYPE))
    model = keras.Sequential(layers)
    model.set_weights([np.asarray(p, dtype=DTYPE) for p in params])
    return model


def run(operation, args):
    args = decode(args)
    model = model_of(args["params"])
    x = tf.constant(np.asarray(args["X"], dtype=DTYPE))
    if operation == "mlp_forward":
        z = model(x)[:, 0]
        return {"z": np.asarray(z), "p": np.asarray(keras.ops.sigmoid(z))}
    y = tf.constant(np.asarray(args["y"], dtype=DTYPE))[:, None]
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum", dtype=DTYPE)
    if operation == "mlp_loss_and_grads":
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        return {"loss": np.asarray(loss), "grads": [np.asarray(g) for g in grads]}
    spec = args["optimizer"]
    if spec["kind"] == "sgd":
        opt = keras.optimizers.SGD(learning_rate=spec["lr"])
    else:
        opt = keras.optimizers.Adam(
            learning_rate=spec["lr"], beta_1=spec["beta1"], beta_2=spec["beta2"], epsilon=spec["eps"]
        )

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    history, losses = [model.get_weights()], []
    for _ in range(args["steps"]):
        losses.append(np.asarray(step()))
        history.append(model.get_weights())
    return {"params": [np.stack(rows) for rows in zip(*history)], "losses": np.stack(losses)}


'''

TEMPLATES["numpy"] = """\
# ---------------------------------------------------------------- the code: numpy, as the numpy style writes it
import math


def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))  # 1/(1 + e^{−z}) without overflowing e^{−z} for z ≪ 0


def layers(params, x):
    hs = [x]
    for k in range(0, len(params), 2):
        a = hs[-1] @ params[k] + params[k + 1]
        hs.append(a if k == len(params) - 2 else sigmoid(a))
    return hs


def loss_and_grads(params, x, y):
    hs = layers(params, x)
    z = hs[-1][:, 0]
    loss = np.sum(np.logaddexp(0, z) - y * z)
    delta = (sigmoid(z) - y)[:, None]
    grads = []
    for layer in reversed(range(len(params) // 2)):
        grads[:0] = [hs[layer].T @ delta, delta.sum(axis=0)]
        delta = (delta @ params[2 * layer].T) * hs[layer] * (1 - hs[layer])
    return np.asarray(loss), grads


def run(operation, args):
    args = decode(args)
    params = [np.asarray(p, dtype=DTYPE) for p in args["params"]]
    x = np.asarray(args["X"], dtype=DTYPE)
    if operation == "mlp_forward":
        z = layers(params, x)[-1][:, 0]
        return {"z": z, "p": sigmoid(z)}
    y = np.asarray(args["y"], dtype=DTYPE)
    if operation == "mlp_loss_and_grads":
        loss, grads = loss_and_grads(params, x, y)
        return {"loss": loss, "grads": grads}
    spec, history, losses = args["optimizer"], [params], []
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, args["steps"] + 1):
        loss, grads = loss_and_grads(params, x, y)
        losses.append(loss)
        if spec["kind"] == "sgd":
            params = [p - spec["lr"] * g for p, g in zip(params, grads)]
        else:  # torch.optim.Adam; the step's scalars are Python floats, rounded once to the arrays' dtype
            b1, b2 = spec["beta1"], spec["beta2"]
            m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
            v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
            step_size, bc2_sqrt = spec["lr"] / (1 - b1**t), math.sqrt(1 - b2**t)
            params = [p - step_size * mi / (np.sqrt(vi) / bc2_sqrt + spec["eps"]) for p, mi, vi in zip(params, m, v)]
        history.append(params)
    return {"params": [np.stack(rows) for rows in zip(*history)], "losses": np.stack(losses)}


"""

TEMPLATES["exec"] = """\
# ---------------------------------------------------------------- the program, through the exec protocol (version 1)
import subprocess

COMMAND = @COMMAND@


def run(operation, args):
    program = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(request):
        program.stdin.write(json.dumps(request) + "\\n")
        program.stdin.flush()
        response = json.loads(program.stdout.readline())
        if "error" in response:
            raise RuntimeError(f"{request['op']}: {response['error']}")
        return response["result"]

    try:
        ask({"id": 0, "op": "hello", "protocol": 1})
        request = {"id": 1, "op": operation, "dtype": DTYPE, "device": "cpu", "args": args}
        result = ask(request)
    finally:
        program.stdin.close()
        program.wait(timeout=60)
    return {k: [np.asarray(decode(p), dtype=DTYPE) for p in v] if k in ("params", "grads") else
            np.asarray(decode(v), dtype=DTYPE) for k, v in result.items()}


"""

COMPARE = """\
# ---------------------------------------------------------------- the comparison: the suite's rules
def at(result, path):
    value = result[path[0]]
    for index in path[1:]:
        value = value[index]
    return np.asarray(value)


def main():
    result = run(VECTOR["operation"], VECTOR["args"])  # as the protocol writes them: NaN as "NaN"
    worst = 0.0
    for check in VECTOR["checks"]:
        actual = at(result, check["path"])
        expected = np.asarray(decode(check["expected"]), dtype=np.float64)
        if actual.shape != expected.shape or actual.dtype != np.dtype(DTYPE):
            print(f"FAIL {check['quantity']}: {actual.dtype}{actual.shape}, expected {DTYPE}{expected.shape}")
            worst = np.inf
            continue
        error = np.abs(actual.astype(np.float64) - expected)
        if check["compare"] == "close":
            bound = np.asarray(decode(check["atol"]), dtype=np.float64) + decode(check["rtol"]) * np.abs(expected)
        else:
            bound = np.zeros_like(expected)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(error == 0, 0.0, error / bound)
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        i = int(np.argmax(ratio)) if ratio.size else 0
        r = float(ratio.flat[i]) if ratio.size else 0.0
        worst = max(worst, r)
        where = np.unravel_index(i, ratio.shape) if ratio.ndim else ()
        print(f"{'FAIL' if r > 1 else 'ok  '} {check['quantity']}: worst error {r:.3g} × the tolerance "
              f"at {tuple(int(k) for k in where)} (rtol {decode(check['rtol']):.3g}; {check['derivation']})")
        if r > 1:
            print(f"     ACTUAL {float(actual.flat[i])!r}, DESIRED {float(expected.flat[i])!r}")
    print(f"{VECTOR['id']}: worst error {worst:.3g} × the tolerance: {'FAILED' if worst > 1 else 'passed'}")
    return 1 if worst > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
"""
