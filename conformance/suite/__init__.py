"""The collected test modules: leaves that turn the check registry (spec.checks.CHECKS) into tests."""
