"""JAX, three ways: eager ``jax.grad`` (the notebook's "Using JAX" cell), ``jax.jit`` steps, one ``lax.scan``.

One module per style, each a subclass of :class:`~.common.JaxStyle`, which holds what they
share (scoped precision and device, conversion, the model as pure functions):

- :mod:`.grad`: ``jax-grad``, eager operations and Python training loops;
- :mod:`.jit`: ``jax-jit``, every operation and step jitted, training a Python loop over the
  jitted step, many nets as that step under ``jax.vmap``;
- :mod:`.scan`: ``jax-scan``, jax-jit with each training run one jitted ``lax.scan``.
"""

from gatespec.conformance.adapters.jax_impl.grad import JaxGrad
from gatespec.conformance.adapters.jax_impl.jit import JaxJit
from gatespec.conformance.adapters.jax_impl.scan import JaxScan

__all__ = ["JaxGrad", "JaxJit", "JaxScan"]
