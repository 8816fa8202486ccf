"""The run types: steps + 1 parameter rows and steps losses, read back by .final and .at(t)."""

import numpy as np
import pytest

from gatespec.reference import gates, logistic, mlp
from gatespec.reference.convergence import train_many
from gatespec.reference.runs import BatchedRun, MLPTrajectory, Trajectory

XOR = gates.gate("xor")
NET = (np.array([[1.0, -2.0], [0.5, 1.5]]), np.array([0.1, -0.3]), np.array([[2.0], [-1.0]]), np.array([0.2]))


def test_a_trajectory_holds_the_start_and_one_row_per_step():
    run = logistic.gradient_descent(XOR.Xb, XOR.y, np.zeros(3), 0.5, 4)
    assert isinstance(run, Trajectory)
    assert (run.weights.shape, run.losses.shape, run.steps) == ((5, 3), (4,), 4)
    np.testing.assert_array_equal(run.at(0), np.zeros(3))
    np.testing.assert_array_equal(run.final, run.at(4))
    # one step from at(t) is at(t + 1): the rows are the steps, in order
    np.testing.assert_array_equal(logistic.gradient_descent(XOR.Xb, XOR.y, run.at(2), 0.5, 1).final, run.at(3))


def test_an_mlp_trajectory_reads_every_parameter_at_step_t():
    run = mlp.train(NET, XOR.X, XOR.y, mlp.SGD(0.5), 3)
    assert isinstance(run, MLPTrajectory) and run.steps == 3 and run.losses.shape == (3,)
    for got, p in zip(run.at(0), NET):
        np.testing.assert_array_equal(got, p)
    for got, p in zip(run.final, run.at(-1)):
        np.testing.assert_array_equal(got, p)
    for got, p in zip(mlp.train(run.at(1), XOR.X, XOR.y, mlp.SGD(0.5), 1).final, run.at(2)):
        np.testing.assert_array_equal(got, p)
    with pytest.raises(IndexError, match="t = 0 … 3, got 4"):
        run.at(4)


def test_a_batched_run_keeps_only_the_final_parameters():
    many = tuple(np.stack([p, p + 0.25]) for p in NET)
    run = train_many(many, XOR.X, XOR.y, mlp.SGD(0.5), 3)
    assert isinstance(run, BatchedRun) and run.steps == 3 and run.losses.shape == (3, 2)
    for got, p in zip(run.net(1), run.final):
        np.testing.assert_array_equal(got, p[1])
    assert run.at(3) is run.final
    with pytest.raises(IndexError, match="only its final parameters"):
        run.at(1)
