"""The comparisons' failure messages: they point at the elements that failed, and print numbers as numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gatespec.conformance.spec.compare import assert_close
from gatespec.conformance.spec.tolerances import Tolerance
from gatespec.reference import _validate, mlp


def test_the_errors_named_are_those_of_a_mismatched_element():
    # Element 0 expects ~0: its relative error is huge (1e-13 / 1e-300) but within atol; element 2 fails.
    desired = np.array([1e-300, 1.0, 2.0])
    actual = np.array([1e-13, 1.0, 2.001])
    with pytest.raises(AssertionError) as failure:
        assert_close(actual, desired, tol=Tolerance(1e-12, 1e-12, "test"), impl="x", case="c", quantity="q")
    message = str(failure.value)
    assert "mismatched elements: 1 / 3" in message
    assert "largest relative error of a mismatched element: 0.0005 at index (2,)" in message
    assert "largest absolute error of a mismatched element: 0.001 at index (2,)" in message


@pytest.mark.parametrize(
    ("build", "shown"),
    [
        (lambda: _validate.positive("eta", np.float64(-0.33593041890218944)), "got -0.33593041890218944"),
        (lambda: mlp.Adam(beta1=np.float64(1.5)), "got 1.5"),
        (lambda: mlp.SGD(lr=np.float32(-1.0)), "got -1.0"),
    ],
)
def test_a_numpy_scalar_in_a_message_reads_as_a_number(build, shown):
    with pytest.raises(ValueError, match=shown):
        build()
