"""Every number the original notebook prints, as data, each with the cell it comes from.

Source: chokkan/deeplearning, notebook/binary.ipynb ("Feedforward Neural Networks"), kept
beside the project as shared/seed/000_ec36eac9e7f58289.txt.  Cells are named by their
section heading and ``In [n]`` label; ``In [None]`` cells by heading alone.  ``decimals`` is
how many digits after the point the notebook printed: a test may hold the reference to
half a unit in that last place, and no tighter.

The notebook's slips, kept as it ran:
- ``In [56]`` (online perceptron) says "Training data for NAND" but its labels are AND's,
  (0, 0, 0, 1); its trace and learned w are AND's.
- ``In [57]``/``In [58]`` define ``eta = 0.5`` and never use it: the effective step is 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Printed:
    """Numbers printed by one cell, rounded to ``decimals`` places (None: printed in full, repr)."""

    cell: str
    values: tuple
    decimals: int | None


# --- "Automatic differentiation", Using autograd, In [59]: float64, printed by repr.
SINGLE_EXAMPLE_X = (1.0, 1.0, 1.0)
SINGLE_EXAMPLE_W = (1.0, 1.0, -1.5)
SINGLE_EXAMPLE_LOSS = Printed("Using autograd, In [59]", (0.47407698418010663,), None)
SINGLE_EXAMPLE_GRAD = Printed("Using autograd, In [59]", (-0.37754067, -0.37754067, -0.37754067), 8)
# The float32 frameworks print fewer digits of the same quantities.
SINGLE_EXAMPLE_LOSS_TF = Printed("Using TensorFlow Eager, In [66]", (0.47407696,), 8)
SINGLE_EXAMPLE_GRAD_TF = Printed("Using TensorFlow Eager, In [66]", (-0.37754062,) * 3, 8)
SINGLE_EXAMPLE_GRAD_JAX = Printed("Using JAX, In [4]", (-0.37754068,) * 3, 8)

# --- "Single-layer perceptron", Training a NAND gate, In [56]: online, η = 0.5, AND labels.
ONLINE_LABELS = (0.0, 0.0, 0.0, 1.0)
ONLINE_ETA = 0.5
# (i, w before the step, y_pred) for each printed line #0 … #15; #15's y_pred was cut off.
ONLINE_TRACE = Printed(
    "Training a NAND gate, In [56]",
    (
        (1, (0.0, 0.0, 0.0), 0.0),
        (2, (0.0, 0.0, 0.0), 0.0),
        (2, (0.0, 0.0, 0.0), 0.0),
        (2, (0.0, 0.0, 0.0), 0.0),
        (3, (0.0, 0.0, 0.0), 0.0),
        (2, (0.5, 0.5, 0.5), 1.0),
        (1, (0.0, 0.5, 0.0), 1.0),
        (2, (0.0, 0.0, -0.5), 0.0),
        (3, (0.0, 0.0, -0.5), 0.0),
        (3, (0.5, 0.5, 0.0), 1.0),
        (3, (0.5, 0.5, 0.0), 1.0),
        (3, (0.5, 0.5, 0.0), 1.0),
        (0, (0.5, 0.5, 0.0), 0.0),
        (1, (0.5, 0.5, 0.0), 1.0),
        (3, (0.5, 0.0, -0.5), 0.0),
        (2, (1.0, 0.5, 0.0), None),
    ),
    1,
)
# In [43]/In [44]: the weights after all 50 (unprinted) random steps, and their predictions.
ONLINE_FINAL_W = Printed("Training a NAND gate, In [43]", (0.5, 0.5, -0.5), 1)
ONLINE_FINAL_PRED = Printed("Training a NAND gate, In [44]", (0.0, 0.0, 0.0, 1.0), 0)

# --- "Single-layer perceptron with mini-batch", In [57]: full batch on NAND, w0 = 0, step 1.
# (w before the step, Ypred) for #0 … #9.
BATCH_TRACE = Printed(
    "Single-layer perceptron with mini-batch, In [57]",
    (
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)),
        ((1.0, 1.0, 3.0), (1.0, 1.0, 1.0, 1.0)),
        ((0.0, 0.0, 2.0), (1.0, 1.0, 1.0, 1.0)),
        ((-1.0, -1.0, 1.0), (1.0, 0.0, 0.0, 0.0)),
        ((0.0, 0.0, 3.0), (1.0, 1.0, 1.0, 1.0)),
        ((-1.0, -1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
        ((-1.0, -1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
        ((-1.0, -1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
        ((-1.0, -1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
        ((-1.0, -1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
    ),
    0,
)
BATCH_FINAL_W = Printed("Single-layer perceptron with mini-batch, In [51]", (-1.0, -1.0, 2.0), 0)

# --- "Stochastic gradient descent (SGD) with mini-batch", In [58]: logistic regression on
# NAND, w0 = 0, step 1 (eta unused), 100 steps.  (w before the step, σ(Xw)) for #0 … #4 and
# w before #5; then the final w and σ(Xw) of the two cells that follow.
LOGISTIC_STEPS = 100
LOGISTIC_TRACE = Printed(
    "Stochastic gradient descent (SGD) with mini-batch, In [58]",
    (
        ((0.0, 0.0, 0.0), (0.5, 0.5, 0.5, 0.5)),
        ((0.0, 0.0, 1.0), (0.73105858, 0.73105858, 0.73105858, 0.73105858)),
        ((-0.46211716, -0.46211716, 1.07576569), (0.74569184, 0.64877263, 0.64877263, 0.53781052)),
        ((-0.64870031, -0.64870031, 1.49471806), (0.81678537, 0.69973111, 0.69973111, 0.54916993)),
        ((-0.89760135, -0.89760135, 1.72930054), (0.84932293, 0.6967141, 0.6967141, 0.48353042)),
        ((-1.07784586, -1.07784586, 2.003019), (0.88111369, 0.71609499, 0.71609499)),
    ),
    8,
)
LOGISTIC_FINAL_W = Printed(
    "Stochastic gradient descent (SGD) with mini-batch, w", (-5.59504346, -5.59504346, 8.57206068), 8
)
LOGISTIC_FINAL_P = Printed(
    "Stochastic gradient descent (SGD) with mini-batch, sigmoid(np.dot(x, w))",
    (0.99981071, 0.95152498, 0.95152498, 0.06798725),
    8,
)

# --- "Single-layer neural network using automatic differentiation", In [23]: raw torch,
# float32, NAND, w0 from torch.randn (printed at #0), η = 0.5, loss −Σ log(yŷ + (1−y)(1−ŷ)).
# (w before the step, loss at that w) for #0 … #14.
TORCH_RAW_NAND_ETA = 0.5
TORCH_RAW_NAND_TRACE = Printed(
    "Single-layer neural network using automatic differentiation, In [23]",
    (
        ((-2.0885355, -1.4806837, -0.15213448), 4.949068546295166),
        ((-1.6484289, -1.0742207, 0.97523004), 2.3098151683807373),
        ((-1.3915058, -0.8860434, 1.6314366), 1.5687907934188843),
        ((-1.3432871, -0.8970635, 1.922385), 1.43471097946167),
        ((-1.3743029, -0.9756532, 2.0871632), 1.370697021484375),
        ((-1.4271579, -1.069197, 2.2132783), 1.3172904253005981),
        ((-1.4855065, -1.1632609, 2.3249977), 1.2688961029052734),
        ((-1.5445642, -1.2539637, 2.4296527), 1.2244752645492554),
        ((-1.6029084, -1.340456, 2.5296922), 1.1834886074066162),
        ((-1.6601355, -1.4227742, 2.626064), 1.1455150842666626),
        ((-1.7161564, -1.5011961, 2.7192283), 1.1102027893066406),
        ((-1.7709782, -1.5760455, 2.809472), 1.0772548913955688),
        ((-1.8246365, -1.6476331, 2.8970122), 1.0464177131652832),
        ((-1.877173, -1.7162416, 2.9820302), 1.01747465133667),
        ((-1.9286293, -1.7821238, 3.0646856), 0.9902386665344238),
    ),
    None,  # float32 values printed in full; compare at float32 precision
)


@dataclass(frozen=True)
class TrainedNet:
    """Parameters a cell printed after training, in the cell's own layout, and σ of the outputs it printed.

    ``layout`` is "raw" (reference.mlp.to_notebook_raw: folded w1, then w2, b2) or "torch"
    (torch.nn.Linear weight (out, in) and bias per layer).
    """

    cell: str
    gate: str
    layout: str
    params: tuple
    outputs: tuple
    decimals: int = 4


TRAINED_NETS = (
    TrainedNet(
        "Single-layer neural network using automatic differentiation, In [7]/In [8]",
        "nand",
        "raw",
        (((-4.2430,), (-4.2432,), (6.5565,)),),
        (0.9986, 0.9100, 0.9100, 0.1268),
    ),
    TrainedNet(
        "Multi-layer neural network using automatic differentiation, In [26]/In [27]",
        "xor",
        "raw",
        (
            ((-5.9381, 7.3522), (-5.9374, 7.3486), (8.8981, -3.3369)),
            ((9.9424,), (9.8626,)),
            ((-14.5647,),),
        ),
        (0.0136, 0.9898, 0.9898, 0.0145),
    ),
    TrainedNet(
        "Single-layer neural network with high-level NN modules, In [30]/In [31]",
        "nand",
        "torch",
        (((-4.2650, -4.2642),), (6.5885,)),
        (0.9986, 0.9109, 0.9108, 0.1256),
    ),
    TrainedNet(
        "Multi-layer neural network with high-level NN modules (stuck near 0.5)",
        "xor",
        "torch",
        (((-0.1494, -0.0430), (-0.1074, 0.0421)), (-0.6541, -0.5074), ((-0.0254, -0.0099),), (0.0118,)),
        (0.4998, 0.4999, 0.5001, 0.5001),
    ),
    TrainedNet(
        "Single-layer neural network with an optimizer",
        "nand",
        "torch",
        (((-4.2643, -4.2638),), (6.5877,)),
        (0.9986, 0.9108, 0.9108, 0.1256),
    ),
    TrainedNet(
        "Multi-layer neural networks using an optimizer",
        "xor",
        "torch",
        (((-5.5683, -5.5688), (7.3365, 7.3404)), (8.3403, -3.3190), ((9.4095, 9.2770),), (-13.7123,)),
        (0.0183, 0.9860, 0.9860, 0.0200),
    ),
    TrainedNet(
        "Single-layer neural network with a customizable NN class",
        "nand",
        "torch",
        (((-4.2721, -4.2722),), (6.5998,)),
        (0.9986, 0.9111, 0.9111, 0.1251),
    ),
    TrainedNet(
        "Multi-layer neural network with a customizable NN class (local minimum)",
        "xor",
        "torch",
        (((7.5323, -5.1217), (6.7442, 2.6708)), (-5.8752, -8.3220), ((7.0725, -6.3992),), (-0.0026,)),
        (0.5039, 0.4938, 0.9922, 0.0101),
    ),
)
