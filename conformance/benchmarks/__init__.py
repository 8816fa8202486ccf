"""Benchmarks of every implementation's native path (pytest-benchmark) and the report that reads them."""
