"""Shared test configuration: hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

# CI runs derandomised, so a red build is reproducible from its log; locally hypothesis
# explores new examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
