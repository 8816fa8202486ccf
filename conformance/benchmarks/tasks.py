"""What the benchmarks time, as data: tasks, their inputs, their expected results and their arithmetic.

Every task is a frozen dataclass with an ``id`` (``xor-train-1000``, ``parity-08``,
``batched-1024``), so benchmark ids read ``test_task[jax-scan-xor-train-1000]``.  Inputs are
the reference's float64 arrays; each implementation casts them to float32 on its native path
outside the timed region.

**Arithmetic limit.**  :func:`flops` counts the floating-point work of one task from its layer
sizes and row count, rule by rule (below); :func:`limit_seconds` turns the count into the time
an idealised core would need for it:

    t_limit = (flops + C_T · transcendentals) / f_clock

with one scalar flop per cycle and ``C_T`` = 20 cycles for each exp or log1p (a libm
``expf`` costs 15–25 cycles).  Scalar, because a 2-2-1 net on 4 rows is a chain of tiny
dependent operations with nothing to fill a SIMD register; the limit is a model of the work,
not a measurement of any code, and the report says so.  Counting rules, per layer of fan-in
``i``, fan-out ``o`` and ``N`` rows:

- matmul ``2·N·i·o`` (a multiply and an add per term); bias ``N·o``;
- σ(z) = 1/(1 + e^{−z}): one exp and 2 flops (add, divide) per element;
- loss l = Σ max(z, 0) + log1p(e^{−|z|}) − y·z: an exp and a log1p and 4 flops per row,
  ``N − 1`` for the sum;
- backward: δ_L = σ(z) − y (one σ and a subtract per row); ∂W = hᵀδ ``2·N·i·o``; ∂b ``N·o``;
  δ_{l−1} = (δ Wᵀ) ⊙ h(1 − h): ``2·N·i·o`` + 3 per element;
- update: SGD 2 per parameter (θ − η·g); Adam 13 and a square root (counted as a
  transcendental) per parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from gatespec.conformance.spec import cases as C
from gatespec.reference import gates, init, mlp
from gatespec.reference.mlp import SGD, Adam, Params

CYCLES_PER_FLOP = 1
CYCLES_PER_TRANSCENDENTAL = 20
FALLBACK_CLOCK_HZ = 3.0e9  # when the benchmark JSON carries no CPU clock

# The comparison's float32: the "same work everywhere".
DTYPE = "float32"


# ----------------------------------------------------------------------------- arithmetic


@dataclass(frozen=True)
class Work:
    """Floating-point work: basic flops and transcendentals (exp, log1p, sqrt)."""

    flops: int
    transcendentals: int

    def __add__(self, other: Work) -> Work:
        return Work(self.flops + other.flops, self.transcendentals + other.transcendentals)

    def __mul__(self, k: int) -> Work:
        return Work(self.flops * k, self.transcendentals * k)


def _layers(sizes: tuple[int, ...]) -> list[tuple[int, int]]:
    return list(zip(sizes[:-1], sizes[1:]))


def forward_work(sizes: tuple[int, ...], rows: int, *, output_sigmoid: bool = True) -> Work:
    """Logits z, and σ(z) unless ``output_sigmoid`` is False (the loss works from z)."""
    w = Work(0, 0)
    layers = _layers(sizes)
    for k, (i, o) in enumerate(layers):
        w += Work(2 * rows * i * o + rows * o, 0)
        if k < len(layers) - 1 or output_sigmoid:
            w += Work(2 * rows * o, rows * o)
    return w


def loss_and_grads_work(sizes: tuple[int, ...], rows: int) -> Work:
    """Forward to z, the summed BCE loss, and the backward pass of the module docstring."""
    w = forward_work(sizes, rows, output_sigmoid=False)
    w += Work(4 * rows + rows - 1, 2 * rows)  # loss
    w += Work(3 * rows, rows)  # δ_L = σ(z) − y
    layers = _layers(sizes)
    for k, (i, o) in enumerate(reversed(layers)):
        w += Work(2 * rows * i * o + rows * o, 0)  # ∂W, ∂b
        if k < len(layers) - 1:
            w += Work(2 * rows * i * o + 3 * rows * i, 0)  # δ of the layer below
    return w


def n_parameters(sizes: tuple[int, ...]) -> int:
    return sum(i * o + o for i, o in _layers(sizes))


def step_work(sizes: tuple[int, ...], rows: int) -> Work:
    """One SGD step: loss, gradients and θ − η·g."""
    return loss_and_grads_work(sizes, rows) + Work(2 * n_parameters(sizes), 0)


def adam_step_work(sizes: tuple[int, ...], rows: int) -> Work:
    """One Adam step: loss, gradients, and per parameter m′ = β₁m + (1−β₁)g (3 flops), v′ = β₂v + (1−β₂)g² (4),
    Δ = s·m′/(√v′/c + ε) (4 flops and a square root, counted as a transcendental) and θ − Δ (1)."""
    n = n_parameters(sizes)
    return loss_and_grads_work(sizes, rows) + Work(12 * n, n)


def limit_seconds(work: Work, clock_hz: float) -> float:
    """t_limit = (flops + C_T·transcendentals)/f_clock, the module docstring's model."""
    return (CYCLES_PER_FLOP * work.flops + CYCLES_PER_TRANSCENDENTAL * work.transcendentals) / clock_hz


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One benchmarked operation on one net: ``op`` a native op name, run for ``steps`` if training."""

    name: str
    op: str
    gate_name: str
    params: Params = field(compare=False, repr=False)
    steps: int = 0
    lr: float = 0.5
    note: str = ""
    adam: Adam | None = None  # an Adam run instead of SGD(lr)

    @property
    def id(self) -> str:
        return self.name

    @cached_property
    def gate(self) -> gates.Gate:
        return gates.gate(self.gate_name)

    @property
    def sizes(self) -> tuple[int, ...]:
        return mlp.layer_sizes(self.params)

    @property
    def rows(self) -> int:
        return len(self.gate.y)

    @property
    def optimizer(self) -> SGD | Adam:
        return self.adam if self.adam is not None else SGD(self.lr)

    @cached_property
    def case(self) -> C.MLPCase:
        """The task as a conformance case: its net, gate and SGD run (the checks' builders take it)."""
        return C.MLPCase(self.name, self.gate_name, self.params, self.optimizer, self.steps)

    def inputs(self) -> dict:
        """Keyword arguments of the native op (the numpy operation's, without ``target``)."""
        g = self.gate
        args = {"params": self.params, "X": g.X}
        if self.op != "mlp_forward":
            args["y"] = g.y
        if self.op == "mlp_train":
            args |= {"optimizer": self.optimizer, "steps": self.steps}
        return args

    def work(self) -> Work:
        if self.op == "mlp_forward":
            return forward_work(self.sizes, self.rows)
        if self.op == "mlp_loss_and_grads":
            return loss_and_grads_work(self.sizes, self.rows)
        step = adam_step_work if self.adam is not None else step_work
        return step(self.sizes, self.rows) * self.steps

    @property
    def net_steps(self) -> int:
        return max(self.steps, 1)


XOR = C.XOR_221  # the conformance suite's XOR net: standard-normal seed 0, learns in 1000 SGD(0.5) steps

TASKS = (
    Task("xor-forward", "mlp_forward", "xor", XOR.params, note="logits and σ of the 2-2-1 net on 4 rows"),
    Task("xor-loss-grads", "mlp_loss_and_grads", "xor", XOR.params, note="summed BCE loss and its 4 gradients"),
    Task("xor-sgd-step", "mlp_train", "xor", XOR.params, steps=1, note="one SGD(0.5) step with its loss"),
    Task(
        "xor-train-1000",
        "mlp_train",
        "xor",
        XOR.params,
        steps=1000,
        note="1000 full-batch SGD(0.5) steps, the loss computed every step",
    ),
    # torch.optim.Adam's defaults on the notebook's net: the conformance case xor-2-2-1-adam-torch-defaults, whose
    # float32 run every built-in passes, so its check holds every style to the matrix's budget.
    Task(
        "xor-adam-train-25",
        "mlp_train",
        "xor",
        XOR.params,
        steps=25,
        adam=Adam(1e-3, 0.9, 0.999, 1e-8),
        note="25 full-batch Adam steps with torch's defaults, the loss computed every step",
    ),
)

# Parity of n inputs, 2^n rows, an n-n-1 net: how the cost of a step grows with the work in it.
# η = 2/2^n: the losses are sums over rows, so this is XOR's η = 0.5 per 4 rows at every size
# (η = 0.5 on 65536 summed rows would throw the net into saturation on the first step).
PARITY_STEPS = 10
PARITY_SIZES = tuple(range(2, 17))


def parity_task(n: int) -> Task:
    params = init.standard_normal((n, n, 1), np.random.default_rng(n))
    return Task(
        f"parity-{n:02d}",
        "mlp_train",
        f"parity-{n}",
        params,
        steps=PARITY_STEPS,
        lr=2.0 / 2**n,
        note=f"{PARITY_STEPS} SGD steps of a {n}-{n}-1 net on parity-{n}'s {2**n} rows",
    )


PARITY = tuple(parity_task(n) for n in PARITY_SIZES)


# Many independent XOR nets trained at once, vectorised the framework's own way.
BATCHED_STEPS = 100
BATCHED_SIZES = (1, 4, 16, 64, 256, 1024, 4096)
# Nets whose final parameters are checked against the reference run alone, by index.
BATCHED_CHECKED = 3


@dataclass(frozen=True)
class BatchedTask:
    """``nets`` 2-2-1 XOR nets (standard normal, net b from seed b), ``steps`` SGD(0.5) steps each."""

    nets: int
    steps: int = BATCHED_STEPS
    lr: float = 0.5

    @property
    def id(self) -> str:
        return f"batched-{self.nets:04d}"

    @property
    def optimizer(self) -> SGD:
        return SGD(self.lr)

    @cached_property
    def per_net(self) -> tuple[Params, ...]:
        return tuple(init.standard_normal((2, 2, 1), np.random.default_rng(b)) for b in range(self.nets))

    @cached_property
    def params(self) -> Params:
        """The nets stacked on a leading axis: W₁ (B, 2, 2), b₁ (B, 2), …"""
        return tuple(np.stack(p) for p in zip(*self.per_net))

    def inputs(self) -> dict:
        g = gates.gate("xor")
        return {"params": self.params, "X": g.X, "y": g.y, "optimizer": self.optimizer, "steps": self.steps}

    def checked(self) -> list[int]:
        """First, middle and last net: a mix-up along the net axis shows in at least one."""
        return sorted({0, self.nets // 2, self.nets - 1})

    def work(self) -> Work:
        return step_work((2, 2, 1), 4) * (self.steps * self.nets)

    @property
    def net_steps(self) -> int:
        return self.steps * self.nets


BATCHED = tuple(BatchedTask(b) for b in BATCHED_SIZES)
