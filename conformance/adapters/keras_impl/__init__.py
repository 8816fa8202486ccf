"""Keras 3 styles: the one model of :mod:`.model` on each backend Keras runs on.

tf-keras (:mod:`..tensorflow_impl.keras`) trains it on TensorFlow; :mod:`.styles` holds keras-jax
and keras-torch, which train it on JAX and PyTorch with the loops of Keras's own guides
(:mod:`.jax_backend`, :mod:`.torch_backend`).  Keras fixes its backend once per process
(``KERAS_BACKEND`` at import), so outside a process of their own backend these two run in a
worker subprocess (:mod:`.proxy`, :mod:`.worker`).
"""
