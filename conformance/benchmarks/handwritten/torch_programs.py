"""torch-compile, written by hand: ``nn.Sequential``, ``BCEWithLogitsLoss`` and torch.optim under ``torch.compile``.

The maths of the net, with torch's layout weight = Wᵀ:

    z = σ(x W₁ + b₁) W₂ + b₂,   l = Σ softplus(z) − y·z,   θ ← opt.step(θ, ∇l)  (torch.optim.SGD(lr) or Adam)

Forward is ``torch.compile(model)`` under ``no_grad``; loss and gradients one compiled function (zero
the gradients, loss, ``backward()``); training a Python loop over a compiled step (``opt.zero_grad()``,
loss, ``backward()``, ``opt.step()``), the loop the compiled step's graph breaks leave in Python.  One
model and one optimizer per program, so the step compiles once: ``run`` loads the start and zeroes
Adam's state in place (a new optimizer would compile again), and keeps a copy of every step's parameters and its loss,
stacked at the end.  Hyperparameters are the optimizer's constants.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import skip_init

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD

_LOSS = nn.BCEWithLogitsLoss(reduction="sum")


def _step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One training step; the loss at its start.  Gradients zeroed first and the loss detached before
    ``backward()``: the code dynamo resumes with after the graph break then holds no non-leaf tensor."""
    opt.zero_grad()
    loss = _LOSS(model(x), y)
    value = loss.detach()
    loss.backward()
    opt.step()
    return value


def _canonical(torch_params) -> tuple:
    """(weight₁, bias₁, …) as numpy float32 in the canonical layout, W = weightᵀ (along the last two axes)."""
    return tuple((p.mT if p.ndim >= 2 and i % 2 == 0 else p).numpy() for i, p in enumerate(torch_params))


def prepare(style: str, task, target: Target) -> NativeOp:
    inputs, device = task.inputs(), torch.device(target.device)
    W1, b1, W2, b2 = inputs["params"]
    # skip_init: the given parameters replace the draws, and torch's global generator is left as found.
    layers = (skip_init(nn.Linear, *W.shape, device=device) for W in (W1, W2))
    model = nn.Sequential(next(layers), nn.Sigmoid(), next(layers))
    start = [torch.tensor(a, dtype=torch.float32, device=device) for a in (W1.T, b1, W2.T, b2)]
    with torch.no_grad():
        for p, p0 in zip(model.parameters(), start):
            p.copy_(p0)
    x = torch.tensor(inputs["X"], dtype=torch.float32, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    if task.op == "mlp_forward":
        forward = torch.compile(model)

        def run():
            with torch.no_grad():
                z = forward(x)[:, 0]
                out = z, z.sigmoid()
            sync()
            return out

        return NativeOp(run, lambda out: tuple(t.cpu().numpy() for t in out))
    y = torch.tensor(inputs["y"][:, None], dtype=torch.float32, device=device)
    if task.op == "mlp_loss_and_grads":

        @torch.compile
        def loss_and_backward(model, x, y):
            model.zero_grad()
            loss = _LOSS(model(x), y)
            value = loss.detach()
            loss.backward()
            return value

        def run():
            loss = loss_and_backward(model, x, y)
            sync()
            return loss, [p.grad for p in model.parameters()]

        return NativeOp(run, lambda out: (out[0].cpu().numpy(), _canonical(g.cpu() for g in out[1])))

    o, steps = task.optimizer, task.steps
    if isinstance(o, SGD):
        opt = torch.optim.SGD(model.parameters(), lr=o.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps)
    step = torch.compile(_step)
    params = list(model.parameters())  # once: model.parameters() walks the modules on every call

    def run():
        with torch.no_grad():  # the same start every call, the optimizer as new
            for p, p0 in zip(params, start):
                p.copy_(p0)
            for state in opt.state.values():
                for value in state.values():
                    value.zero_()
        history, losses = [[p.detach().clone() for p in params]], []
        for _ in range(steps):
            losses.append(step(model, opt, x, y))
            history.append([p.detach().clone() for p in params])
        history, losses = [torch.stack(h) for h in zip(*history)], torch.stack(losses)
        sync()
        return history, losses

    return NativeOp(run, lambda out: MLPTrajectory(_canonical(h.cpu() for h in out[0]), out[1].cpu().numpy()))
