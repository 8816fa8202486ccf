"""The numpy implementation with ONE planted bug each, for the checks of ``conformance/suite/test_convergence.py``.

============================  ====================================================================
mutant                        check meant to catch it (the planted bug: the ``# BUG`` line)
============================  ====================================================================
mutant-batched-mean-loss      test_mlp_batched_training_matches_each_net_alone
mutant-linear-fan-out         test_mlp_init_draws_from_its_distribution
mutant-batched-first-512      test_xor_convergence_rate_matches_reference
mutant-linear-first-fan-in    test_mlp_init_draws_from_its_distribution (5-2-8-3-1)
mutant-glorot-first-fans      test_mlp_init_draws_from_its_distribution (5-2-8-3-1)
mutant-lecun-untruncated      test_mlp_init_draws_from_its_distribution (its support)
mutant-one-key-every-layer    test_initial_parameters_are_drawn_independently (equal draws)
mutant-glorot-one-stream      test_initial_parameters_are_drawn_independently (one stream, two scales)
mutant-mixed-second-layer     test_initial_parameters_are_drawn_independently (within a net)
mutant-nets-in-a-chain        test_initial_parameters_are_drawn_independently (between nets)
============================  ====================================================================

``mutant-batched-first-512`` passes the other checks (4 nets are fewer than 512, and its
draws are numpy's): only the statistic over 1000 nets sees it.  The last two compute an
initialiser's bound once, from the first layer, for every layer.  On (2, 2, 1) the torch bound
is then right (both fan-ins are 2): only the wider shapes of ``cases.INIT_CASES`` show it; the
Glorot limit is off in (2, 2, 1)'s last layer already.  Like the mutants of ``tests/mutants.py``
these two declare no batched training.  The last three keep every parameter's law exactly and
draw no two values alike: only the dependence between draws shows them.  ``tests/test_convergence.py`` runs each
check against its mutant and demands a failure naming the mutant and the spoiled quantity.
"""

from __future__ import annotations

import math

import numpy as np

from gatespec.conformance.adapters.numpy_impl import handwritten as base
from gatespec.conformance.spec.interface import BatchedRun, Capability

Numpy = base.NumpyImplementation
SINGLE_NET = Numpy.capabilities - {Capability.MLP_TRAIN_BATCHED}


class BatchedMeanLoss(Numpy):
    name = "mutant-batched-mean-loss"

    @staticmethod
    def _batched_losses_and_grads(params, X, y):
        losses, grads = base._batched_losses_and_grads(params, X, y)
        n_nets = params[0].shape[-1]
        return losses, tuple(g / n_nets for g in grads)  # BUG: the gradient of the nets' mean loss, not their sum


class LinearBoundFromFanOut(Numpy):
    name = "mutant-linear-fan-out"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "torch-linear":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        rng = np.random.default_rng(seed)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(fan_out)  # BUG: nn.Linear's bound is 1/√fan_in
            params += [rng.uniform(-bound, bound, (n, fan_in, fan_out)), rng.uniform(-bound, bound, (n, fan_out))]
        return tuple(p.astype(target.np_dtype) for p in params)


class BatchedFirst512(Numpy):
    name = "mutant-batched-first-512"

    def mlp_train_batched(self, params, X, y, optimizer, steps, target):
        head = super().mlp_train_batched(tuple(p[:512] for p in params), X, y, optimizer, steps, target)
        if params[0].shape[0] <= 512:
            return head
        # BUG: nets past the first chunk of 512 are returned untrained
        rest = tuple(np.asarray(p[512:], dtype=target.np_dtype) for p in params)
        first_loss = super().mlp_train_batched(rest, X, y, optimizer, 1, target).losses
        losses = np.concatenate([head.losses, np.repeat(first_loss, steps, axis=0)], axis=1)
        return BatchedRun(tuple(np.concatenate([h, r]) for h, r in zip(head.params, rest)), losses)


class LinearBoundFromFirstFanIn(Numpy):
    name = "mutant-linear-first-fan-in"
    capabilities = SINGLE_NET

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "torch-linear":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        rng = np.random.default_rng(seed)
        bound = 1 / math.sqrt(sizes[0])  # BUG: hoisted out of the loop: every layer gets the input layer's 1/√fan_in
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            params += [rng.uniform(-bound, bound, (n, fan_in, fan_out)), rng.uniform(-bound, bound, (n, fan_out))]
        return tuple(p.astype(target.np_dtype) for p in params)


class GlorotFromFirstLayerFans(Numpy):
    name = "mutant-glorot-first-fans"
    capabilities = SINGLE_NET

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "keras-glorot":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        rng = np.random.default_rng(seed)
        limit = math.sqrt(6 / (sizes[0] + sizes[1]))  # BUG: every layer's limit from the first layer's fans
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            params += [rng.uniform(-limit, limit, (n, fan_in, fan_out)), np.zeros((n, fan_out))]
        return tuple(p.astype(target.np_dtype) for p in params)


class LecunNormalUntruncated(Numpy):
    name = "mutant-lecun-untruncated"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "flax-lecun-normal":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        rng = np.random.default_rng(seed)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            # BUG: drawn untruncated with the law's variance 1/fan_in: no draw beyond ±2 of the truncated
            # law's scale, yet the moments match and the distribution function nearly does
            params += [math.sqrt(1 / fan_in) * rng.standard_normal((n, fan_in, fan_out)), np.zeros((n, fan_out))]
        return tuple(p.astype(target.np_dtype) for p in params)


class OneKeyForEveryLayer(Numpy):
    name = "mutant-one-key-every-layer"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "standard-normal":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            # BUG: every layer drawn from a generator of the same seed (one PRNG key, never split): W₂ repeats
            # the first values of W₁, b₂ of b₁; each parameter alone still has its law
            rng = np.random.default_rng(seed)
            params += [
                rng.standard_normal((n, fan_in, fan_out)),
                np.random.default_rng(seed).standard_normal((n, fan_out)),
            ]
        return tuple(p.astype(target.np_dtype) for p in params)


class GlorotOneStreamEveryLayer(Numpy):
    name = "mutant-glorot-one-stream"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        if initialiser != "keras-glorot":
            return super().mlp_init(initialiser, sizes, n, seed, target)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = math.sqrt(6 / (fan_in + fan_out))
            # BUG: every layer from a generator of the same seed: W₂ is the start of W₁'s stream at another
            # limit, so no value repeats, but each of W₂'s is one of W₁'s scaled
            rng = np.random.default_rng(seed)
            params += [rng.uniform(-limit, limit, (n, fan_in, fan_out)), np.zeros((n, fan_out))]
        return tuple(p.astype(target.np_dtype) for p in params)


class SecondLayerMixedFromFirst(Numpy):
    name = "mutant-mixed-second-layer"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        params = list(super().mlp_init(initialiser, sizes, n, seed, target))
        if initialiser != "standard-normal" or sizes[1] > sizes[0] or len(sizes) != 3:
            return tuple(params)
        W1, W2 = (np.asarray(p, dtype=np.float64) for p in (params[0], params[2]))
        # BUG: the output layer averaged with the hidden layer's first row "to keep the scales alike": still
        # N(0, 1) elementwise (a sum of two independent N(0, 1) over √2), but W₂[j] correlates with W₁[0, j]
        params[2] = ((W2 + W1[:, 0, :, None]) / math.sqrt(2)).astype(target.np_dtype)
        return tuple(params)


class NetsInAChain(Numpy):
    name = "mutant-nets-in-a-chain"

    def mlp_init(self, initialiser, sizes, n, seed, target):
        params = super().mlp_init(initialiser, sizes, n, seed, target)
        if initialiser != "standard-normal":
            return params
        chained = []
        for p in params:
            x = np.asarray(p, dtype=np.float64).copy()
            for b in range(1, n):
                # BUG: each net a step from the last (to "vary one net"): every net still N(0, 1) elementwise,
                # but net b + 1 correlates 1/√2 with net b
                x[b] = (x[b - 1] + x[b]) / math.sqrt(2)
            chained.append(x.astype(target.np_dtype))
        return tuple(chained)
