"""The model styles' base: a model of nn.Linear layers, ``BCEWithLogitsLoss``, and the loop that trains it.

What a torch.nn user writes: build the model, then per step predict, take the loss, zero the gradients,
``loss.backward()`` and update.  :class:`ModelStyle` writes that loop once; a style supplies the model
(``build``) and the update (``update``).  Its parameters are read in the reference's canonical layout,
W = weightᵀ (:func:`canonical`).

The logistic unit is the one-layer model on X without its bias column (nn.Linear carries the bias), so
its loss, gradient and training are the MLP's.  Many nets at once (``mlp_train_batched``) are one
:class:`BatchedMLP` trained by the same update: the nets share no parameter, so the summed loss's
``backward()`` gives each its own gradient, and SGD and Adam are elementwise, so one step updates every
net as it would alone.  ``mlp_init`` draws what models built after ``torch.manual_seed(seed)`` hold:
nn.Linear's own initialisation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn.utils import skip_init

from gatespec.conformance.adapters.style import LogisticAsOneLayerNet
from gatespec.conformance.adapters.torch_impl.common import (
    Recorder,
    TorchStyle,
    as_numpy,
    batched_run,
    forward_op,
    numpy_loss_and_grads,
    summed_bce_per_net,
    sync,
    tensor,
    torch_device,
    torch_dtype,
    trajectory,
)
from gatespec.conformance.spec.interface import Capability, NativeOp, Target
from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params

# make(cls, *args, **kwargs): the torch module cls(*args, **kwargs) with the target's dtype (and device) added.
Make = Callable[..., nn.Module]
# A step of a model style: (zero the gradients, apply the update).
Update = tuple[Callable[[], None], Callable[[], None]]
_R = TypeVar("_R")


# ----------------------------------------------------------------------------- models' parameters


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def canonical(model: nn.Module) -> tuple[torch.Tensor, ...]:
    """The model's parameters as (W₁, b₁, …), W = weight.T (views, no copies)."""
    return tuple(t for lin in _linears(model) for t in (lin.weight.mT, lin.bias))


def canonical_grads(model: nn.Module) -> tuple[torch.Tensor, ...]:
    return tuple(t for lin in _linears(model) for t in (lin.weight.grad.mT, lin.bias.grad))


class BatchedMLP(nn.Module):
    """B independent nets as one module: per layer, the nets' nn.Linear weights stacked (B, out, in) and
    biases (B, out), applied by one ``torch.baddbmm``; a sigmoid between layers, logits (B, N) out."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.weights = nn.ParameterList(nn.Parameter(w) for w in weights)
        self.biases = nn.ParameterList(nn.Parameter(b) for b in biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.expand(self.weights[0].shape[0], *x.shape)  # (B, N, in): a view, the inputs are shared
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.unsqueeze(1), h.sigmoid() if k else h, w.mT)
        return h[..., 0]

    def canonical(self) -> tuple[torch.Tensor, ...]:
        """(W₁, b₁, …) with W = weightᵀ, net axis leading (views)."""
        return tuple(t for w, b in zip(self.weights, self.biases) for t in (w.mT, b))


# ----------------------------------------------------------------------------- the loop


def _fit(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, update: Update, steps: int
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The notebook's loop: predict, loss, zero the gradients, backward, step; every step's parameters and loss."""
    zero_grad, step = update
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    recorder = Recorder(canonical(model))
    for _ in range(steps):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        zero_grad()
        loss.backward()
        step()
        recorder.loss(loss)
        recorder.snapshot()
    return recorder.stacked()


def _fit_batched(
    model: BatchedMLP, x: torch.Tensor, y: torch.Tensor, update: Update, steps: int
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The loop for B nets at once: the summed loss's backward gives every net its own gradient; the final
    parameters and the losses (steps, B)."""
    zero_grad, step = update
    losses = x.new_empty((steps, model.weights[0].shape[0]))
    for t in range(steps):
        loss = summed_bce_per_net(model(x), y)
        zero_grad()
        loss.sum().backward()
        step()
        losses[t] = loss.detach()
    return tuple(p.detach().clone() for p in model.canonical()), losses


def _from_the_start(model: nn.Module, device: torch.device, fit: Callable[[], _R]) -> Callable[[], _R]:
    """A run: the model's parameters back to what they are now and its gradients cleared, then ``fit()``, and
    ``device`` synchronised; so every call does the same work."""
    start = [p.detach().clone() for p in model.parameters()]

    def run() -> _R:
        with torch.no_grad():
            for p, p0 in zip(model.parameters(), start):
                p.copy_(p0)
        model.zero_grad()
        out = fit()
        sync(device)
        return out

    return run


# ----------------------------------------------------------------------------- the base


class ModelStyle(LogisticAsOneLayerNet, TorchStyle):
    """Base of the styles that train a model of nn.Linear layers with BCEWithLogitsLoss: the loop, once.

    A model style writes two hooks:

    - ``build(sizes, make) -> nn.Module``: the style's model for layer sizes ``sizes`` = (d, h₁, …, 1): logits
      (N, 1) of x (N, d), a sigmoid between layers; its nn.Linear layers, in ``model.modules()`` order, are the
      net's.  Every module with parameters is made by ``make(cls, *args, **kwargs)``, which is
      ``cls(*args, **kwargs)`` with the dtype and device added: on the target's device and left uninitialised
      (``torch.nn.utils.skip_init``) where the reference supplies the parameters, on the CPU and initialised by
      torch where :meth:`draw_initial` draws them.
    - ``update(model, optimizer) -> Update``: (zero the gradients, apply one step), two callables of a fresh
      run of ``optimizer`` (:class:`~gatespec.reference.mlp.SGD` or ``Adam``) on the model's parameters.

    From these two it writes the rest of :class:`TorchStyle`'s hooks: the native MLP ops, ``draw_initial``
    (nn.Linear's own initialisation), and the logistic unit as the one-layer net; :meth:`model` is the built
    model holding given parameters.  A style that runs the model otherwise (torch.func, torch.compile)
    overrides the ``prepare_*`` hooks it changes, calling :meth:`model`.
    """

    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.TLU_PREDICT: "nn has no threshold unit; the raw-tensor TLU is torch-autograd's",
        Capability.PERCEPTRON_STEP: "the perceptron rule is no gradient step of an nn model or optimizer; "
        "see torch-autograd",
        Capability.PERCEPTRON_ONLINE: "the perceptron rule is no gradient step of an nn model or optimizer; "
        "see torch-autograd",
        Capability.SINGLE_EXAMPLE_LOSS_GRAD: "the notebook writes −log σ(w·x) with raw tensors only; "
        "see torch-autograd",
    }
    capabilities = frozenset(Capability).difference(unsupported_reasons)
    initialisers = ("torch-linear",)  # nn.Linear's reset_parameters

    # --- hooks ------------------------------------------------------------------------------

    def build(self, sizes: tuple[int, ...], make: Make) -> nn.Module:
        raise NotImplementedError

    def update(self, model: nn.Module, optimizer: SGD | Adam) -> Update:
        raise NotImplementedError

    # --- the model ------------------------------------------------------------------------

    def model(self, params: Params, target: Target) -> nn.Module:
        """The style's model holding exactly ``params`` in the target dtype and device."""
        # skip_init: the reference supplies every parameter, so torch's random init (which would also advance
        # the global RNG) is skipped.
        make = functools.partial(skip_init, dtype=torch_dtype(target), device=torch_device(target))
        model = self.build(mlp.layer_sizes(params), make)
        torch_params = mlp.to_torch(params)  # weight (out, in) = Wᵀ, bias (out,)
        with torch.no_grad():
            for lin, weight, bias in zip(_linears(model), torch_params[0::2], torch_params[1::2]):
                lin.weight.copy_(torch.from_numpy(weight.astype(target.np_dtype)))
                lin.bias.copy_(torch.from_numpy(bias.astype(target.np_dtype)))
        return model

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """What n models built one after another after ``torch.manual_seed(seed)`` hold, as a user seeds and
        builds them, inside ``torch.random.fork_rng`` so that torch's global generator is left as found.

        Building a model runs each Linear's ``reset_parameters`` in layer order, so one model built and
        then reset n − 1 times draws exactly what n new models would (1000 nets: 0.13 s, not 0.3–0.8 s).
        """
        dtype = torch_dtype(target)

        def make(cls: type[nn.Module], *args: Any, **kwargs: Any) -> nn.Module:
            return cls(*args, dtype=dtype, **kwargs)  # on the CPU, as a user builds it

        nets = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            model = self.build(sizes, make)
            for k in range(n):
                if k:
                    for linear in _linears(model):
                        linear.reset_parameters()
                nets.append([p.clone() for p in canonical(model)])
        return tuple(as_numpy(torch.stack(column), target) for column in zip(*nets))

    # --- native MLP ops ------------------------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        model, x = self.model(params, target), tensor(X, target)
        return forward_op(torch.no_grad()(lambda: model(x)[:, 0]), x.device, target)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        model, x, y_ = self.model(params, target), tensor(X, target), tensor(y[:, None], target)
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")

        def run() -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            loss = loss_fn(model(x), y_)
            model.zero_grad()  # grads set to None: backward writes fresh tensors every call
            loss.backward()
            sync(x.device)
            return loss.detach(), canonical_grads(model)

        return NativeOp(run, functools.partial(numpy_loss_and_grads, target=target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        model, x, y_ = self.model(params, target), tensor(X, target), tensor(y[:, None], target)
        run = _from_the_start(model, x.device, lambda: _fit(model, x, y_, self.update(model, optimizer), steps))
        return NativeOp(run, lambda out: trajectory(*out, target))  # a fresh update (optimizer) every run

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        model = BatchedMLP(
            [tensor(np.swapaxes(W, 1, 2), target) for W in params[0::2]], [tensor(b, target) for b in params[1::2]]
        )
        x, y_ = tensor(X, target), tensor(y, target)
        run = _from_the_start(model, x.device, lambda: _fit_batched(model, x, y_, self.update(model, optimizer), steps))
        return NativeOp(run, lambda out: batched_run(*out, target))
