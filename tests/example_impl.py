"""The README's example implementation, importable as tests.example_impl as the tests name it (it ships in the
package, as conformance/adapters/example.py, because `gatespec new` writes it into every new package)."""

from gatespec.conformance.adapters.example import TinyNumpyMLP

__all__ = ["TinyNumpyMLP"]
