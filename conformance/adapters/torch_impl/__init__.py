"""PyTorch, in the four styles the notebook writes it and two more, one module each.

- :mod:`.autograd` (``torch-autograd``): raw tensors with ``requires_grad``, ``loss.backward()``
  and a hand-written update under ``torch.no_grad()``, in the notebook's raw layout.
- :mod:`.nn` (``torch-nn``): ``nn.Sequential(Linear, Sigmoid, …)``, ``BCEWithLogitsLoss``,
  ``model.zero_grad()`` and ``param -= lr * param.grad``.
- :mod:`.optim` (``torch-optim``): the same model trained by ``torch.optim.SGD`` / ``Adam``.
- :mod:`.module` (``torch-module``): the notebook's own ``nn.Module`` classes, trained by ``torch.optim``.
- :mod:`.func` (``torch-func``): torch-nn's model as a function of a parameter dict: ``torch.func``'s
  ``functional_call``, ``grad_and_value`` and ``vmap``, the updates written on the dict.
- :mod:`.compiled` (``torch-compile``): torch-optim's model and step under ``torch.compile`` (inductor).

:mod:`.common` holds what they share: tensors in and out, the CUDA sync, the step recorder, and
:class:`~.common.TorchStyle` on :class:`~..style.Style`, the base every style subclasses (its docstring
lists the hooks a style writes).  :mod:`.models` holds :class:`~.models.ModelStyle`, the base of the
styles that train a model of nn.Linear layers: the loop once, the model (``build``) and the update
(``update``) theirs.
"""

from gatespec.conformance.adapters.torch_impl.autograd import TorchAutograd
from gatespec.conformance.adapters.torch_impl.compiled import TorchCompile
from gatespec.conformance.adapters.torch_impl.func import TorchFunc
from gatespec.conformance.adapters.torch_impl.module import TorchModule
from gatespec.conformance.adapters.torch_impl.nn import TorchNN
from gatespec.conformance.adapters.torch_impl.optim import TorchOptim

__all__ = ["TorchAutograd", "TorchCompile", "TorchFunc", "TorchModule", "TorchNN", "TorchOptim"]
