"""Many nets at once (issue 7): batched training, each framework's own initialisers, XOR's convergence statistics.

- ``test_mlp_batched_training_matches_each_net_alone``: a few nets trained side by side by
  ``mlp_train_batched`` end where :func:`gatespec.reference.mlp.train` takes each alone, within
  the trajectory tolerance.
- ``test_mlp_init_draws_from_its_distribution``: ``mlp_init`` is deterministic in its seed, has
  the law's support exactly (zero biases, |w| within the bound) and its moments and
  distribution function (mean, second moment and Kolmogorov–Smirnov tests at
  ``cases.INIT_ALPHA``).
- ``test_xor_convergence_rate_matches_reference`` (marker ``convergence``; skip with
  ``-m "not convergence"``): N = 1000 nets from the implementation's own initialisation and
  generator learn XOR in 1000 steps as often as the reference's N nets from the same law, by
  the pooled two-proportion z-test at ``cases.CONVERGENCE_ALPHA``; rate, Wilson interval,
  failure classes, learned curve and run time go to the report (``--gatespec-report``).

What each test checks is defined once in :mod:`gatespec.conformance.spec.checks`; this module only
collects it.

Run: ``pytest --pyargs gatespec.conformance.suite.test_convergence [--gatespec-impl NAME …] [-m convergence]``.
"""

from gatespec.conformance.plugin.collect import collected

globals().update(collected("test_convergence.py"))
