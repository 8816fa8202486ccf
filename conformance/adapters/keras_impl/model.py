"""The one Keras 3 model definition every Keras style runs, whatever the backend (tf-keras, keras-jax, keras-torch).

Backend-neutral: only ``keras`` (its layers, losses, optimizers, ``keras.ops``, ``keras.random``)
is used here, so the same Sequential of Dense layers, the same loss object and the same
optimizer mapping run on TensorFlow, JAX and PyTorch; each style writes only its backend's
training loop (the Keras guide's "training loop from scratch" for that backend).

What the styles declare (capabilities, deviations) is in :mod:`.declared`, which imports no Keras.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np

from gatespec.conformance.spec.interface import Target
from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params


def keras_sequential(params: Params, target: Target, output: Any = None) -> keras.Sequential:
    """Sigmoid hidden Dense layers and a linear (or ``output``) Dense(1), all in the target dtype, holding ``params``.

    Zero initialisers: the weights are overwritten by set_weights, so drawing random ones would
    only advance Keras's global seed generator.
    """
    sizes = mlp.layer_sizes(params)
    dense = functools.partial(
        keras.layers.Dense, dtype=target.dtype, kernel_initializer="zeros", bias_initializer="zeros"
    )
    layers = [keras.Input(shape=(sizes[0],), dtype=target.dtype)]
    layers += [dense(n, activation="sigmoid") for n in sizes[1:-1]]
    layers.append(dense(1, activation=output))
    net = keras.Sequential(layers)
    net.set_weights([np.asarray(p, dtype=target.np_dtype) for p in params])  # kernel (in, out), bias (out,)
    return net


def keras_loss(target: Target) -> keras.losses.Loss:
    # dtype matters: a Keras loss otherwise casts its inputs to floatx (float32).
    return keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum", dtype=target.dtype)


def keras_optimizer(optimizer: SGD | Adam) -> keras.optimizers.Optimizer:
    if isinstance(optimizer, SGD):
        return keras.optimizers.SGD(learning_rate=optimizer.lr)
    return keras.optimizers.Adam(
        learning_rate=optimizer.lr, beta_1=optimizer.beta1, beta_2=optimizer.beta2, epsilon=optimizer.eps
    )


def keras_heaviside(z: Any) -> Any:
    """g(z) with g(0) = 0, as the notebook's np.heaviside(z, 0.0)."""
    return keras.ops.heaviside(z, 0.0)


def keras_glorot(sizes: tuple[int, ...], n: int, seed: int, target: Target) -> list:
    """What Keras Dense's defaults draw: GlorotUniform, i.e. VarianceScaling(1, "fan_avg", "uniform"), and Zeros.

    The limit is √(3/((fan_in + fan_out)/2)); all n kernels of a layer are drawn by one
    ``keras.random.uniform`` call from a SeedGenerator owned by this call (Keras's global one is
    never touched).  The same draw as tf-keras's; the streams are the backend's own RNG's.
    """
    seed_generator = keras.random.SeedGenerator(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = float(np.sqrt(3.0 / max(1.0, (fan_in + fan_out) / 2.0)))
        kernel = keras.random.uniform((n, fan_in, fan_out), -limit, limit, dtype=target.dtype, seed=seed_generator)
        params += [kernel, keras.ops.zeros((n, fan_out), dtype=target.dtype)]
    return params
