"""gatespec's numpy reference: the specification every framework implementation is held to.

float64 throughout, pure functions, the formula first in each docstring.  Modules:

- :mod:`.gates` — truth tables as data (:func:`gates.gate`), the bias column, separability
- :mod:`.activations` — Heaviside, stable σ, log σ, softplus, BCE with logits
- :mod:`.perceptron` — the threshold unit and Rosenblatt's rule, Novikoff's bound
- :mod:`.logistic` — logistic regression: loss, gradient, gradient descent
- :mod:`.mlp` — sigmoid MLPs: forward, backprop, SGD, Adam, parameter layouts
- :mod:`.runs` — what a training run returns: Trajectory, MLPTrajectory, BatchedRun (``.final``, ``.at(t)``)
- :mod:`.init` — initial-parameter distributions
- :mod:`.golden` — the numbers the original notebook printed
"""

from . import activations, gates, golden, init, logistic, mlp, perceptron, runs, separability

__all__ = ["activations", "gates", "golden", "init", "logistic", "mlp", "perceptron", "runs", "separability"]
