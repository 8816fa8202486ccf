#!/usr/bin/env node
// gatespec's tiny networks in plain JavaScript (Node built-ins only), speaking the exec protocol, version 1.
//
// Run: node gatespec_client.js   (the suite: --gatespec-impl "exec:node conformance/adapters/exec_impl/clients/node/gatespec_client.js")
//
// One JSON object a line on stdin (requests) and stdout (responses); logs go to stderr; the
// program exits when stdin closes.  The protocol is gatespec/conformance/adapters/exec_impl/protocol.py,
// the maths gatespec.reference (perceptron, logistic, mlp), whose formulas and order of
// operations this file follows.
//
// Numbers.  Every value is a JS Number (a double).  A "float64" request computes in doubles; a
// "float32" request rounds every input to float32 with Math.fround and rounds the result of
// every arithmetic operation (+, −, ×, ÷, exp, log1p, sqrt) the same way, so the answer is
// what float32 arithmetic gives.  All arithmetic goes through the helpers of `numerics(r)`,
// r being Math.fround or the identity.  The one exception is Adam's per-step scalars
// (1 − β₁, 1 − β₂, η/(1 − β₁ᵗ), √(1 − β₂ᵗ)): like torch.optim.Adam and numpy with Python-float
// hyperparameters, they are computed in double from the hyperparameters and rounded once.
"use strict";

const readline = require("readline");

const PROTOCOL = 1;
const DTYPES = ["float32", "float64"];
const CAPABILITIES = [
  "tlu-predict",
  "perceptron-step",
  "perceptron-online",
  "logistic-loss-grad",
  "single-example-loss-grad",
  "logistic-train",
  "mlp-forward",
  "mlp-loss-grads",
  "mlp-train-sgd",
  "mlp-train-adam",
  "mlp-train-batched",
];

// ----------------------------------------------------------------------------- errors

class ProtocolError extends Error {}
class NotSupported extends Error {}
class InvalidInput extends Error {}

function invalid(message) {
  throw new InvalidInput(message);
}

// ----------------------------------------------------------------------------- arithmetic

const identity = (x) => x;

// The arithmetic of one dtype: every helper rounds each operation's result with r.
function numerics(r) {
  const exp = (x) => r(Math.exp(x));
  const log1p = (x) => r(Math.log1p(x));

  // Σ a_i b_i, accumulated left to right.
  function dot(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s = r(s + r(a[i] * b[i]));
    return s;
  }

  // g(z) = 1 if z > 0 else 0 (g(0) = 0); NaN stays NaN, as np.heaviside has it.
  function heaviside(z) {
    if (Number.isNaN(z)) return NaN;
    return z > 0 ? 1 : 0;
  }

  // σ(z) through e = e^{−|z|} ∈ (0, 1]: 1/(1+e) for z ≥ 0, e/(1+e) for z < 0; exp never overflows.
  function sigmoid(z) {
    const e = exp(-Math.abs(z));
    const d = r(1 + e);
    return z >= 0 ? r(1 / d) : r(e / d);
  }

  // softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{−|z|})  (np.logaddexp(0, z)).
  function softplus(z) {
    if (Number.isNaN(z)) return NaN;
    return r(Math.max(z, 0) + log1p(exp(-Math.abs(z))));
  }

  // ℓ(z, y) = softplus(z) − y·z, the binary cross-entropy with logits.
  function bce(z, y) {
    return r(softplus(z) - r(y * z));
  }

  // (N, d) · (d,) → (N,)
  function matVec(X, w) {
    const out = new Array(X.length);
    for (let n = 0; n < X.length; n++) out[n] = dot(X[n], w);
    return out;
  }

  // Xᵀ v: (N, d)ᵀ · (N,) → (d,), each entry Σ_n X[n][j] v[n] left to right.
  function matTVec(X, v, d) {
    const out = new Array(d).fill(0);
    for (let n = 0; n < X.length; n++) {
      const row = X[n];
      for (let j = 0; j < d; j++) out[j] = r(out[j] + r(row[j] * v[n]));
    }
    return out;
  }

  // Σ_i bce(z_i, y_i), left to right.
  function lossSum(z, y) {
    let s = 0;
    for (let n = 0; n < z.length; n++) s = r(s + bce(z[n], y[n]));
    return s;
  }

  // ------------------------------------------------------------------- threshold logic unit

  function tluPredict(Xb, w) {
    return matVec(Xb, w).map(heaviside);
  }

  // w + η (y − g(X′w))ᵀ X′
  function perceptronStep(Xb, y, w, eta) {
    const g = tluPredict(Xb, w);
    const err = y.map((yi, n) => r(yi - g[n]));
    const s = matTVec(Xb, err, w.length);
    return w.map((wj, j) => r(wj + r(eta * s[j])));
  }

  // w ← w + η (y_i − g(w·x′_i)) x′_i for i in order; every w along the way.
  function perceptronOnline(Xb, y, w0, eta, order) {
    const weights = [w0];
    let w = w0;
    for (const i of order) {
      const err = r(y[i] - heaviside(dot(Xb[i], w)));
      const step = r(eta * err);
      const x = Xb[i];
      w = w.map((wj, j) => r(wj + r(step * x[j])));
      weights.push(w);
    }
    return weights;
  }

  // --------------------------------------------------------------------- logistic regression

  // l = Σ softplus(z) − y·z,  ∇l = X′ᵀ(σ(z) − y),  z = X′w
  function logisticLossAndGrad(Xb, y, w) {
    const z = matVec(Xb, w);
    const resid = z.map((zn, n) => r(sigmoid(zn) - y[n]));
    return [lossSum(z, y), matTVec(Xb, resid, w.length)];
  }

  // l_x(w) = −log σ(w·x) = softplus(−w·x),  ∇l_x = −σ(−w·x) x
  function singleExampleLossAndGrad(x, w) {
    const z = dot(x, w);
    const s = sigmoid(-z);
    return [softplus(-z), x.map((xj) => r(-s * xj))];
  }

  // w ← w − η∇l(w), steps times
  function logisticTrain(Xb, y, w0, eta, steps) {
    const weights = [w0];
    const losses = [];
    let w = w0;
    for (let t = 0; t < steps; t++) {
      const [loss, grad] = logisticLossAndGrad(Xb, y, w);
      losses.push(loss);
      w = w.map((wj, j) => r(wj - r(eta * grad[j])));
      weights.push(w);
    }
    return [weights, losses];
  }

  // ------------------------------------------------------------------------------------ MLP
  //
  // A net of sizes (n₀, n₁, …, n_L = 1) holds θ = [W1, b1, …, WL, bL] as flat Float64Arrays:
  // W_l (n_{l−1}, n_l) row-major (W[i·n_l + j]), b_l (n_l).  Inputs X (N, n₀) are flat too.
  // A Net owns the work arrays of one (sizes, N): activations h_l (N, n_l), the logits z (N),
  // the backward signals δ_l (N, n_l) and the gradients, reused from step to step.

  class Net {
    constructor(sizes, N) {
      this.sizes = sizes;
      this.L = sizes.length - 1;
      this.N = N;
      this.hs = [null];
      for (let l = 1; l < this.L; l++) this.hs.push(new Float64Array(N * sizes[l]));
      this.z = new Float64Array(N);
      this.deltas = [null];
      for (let l = 1; l <= this.L; l++) this.deltas.push(new Float64Array(N * sizes[l]));
      this.grads = [];
      for (let l = 1; l <= this.L; l++) {
        this.grads.push(new Float64Array(sizes[l - 1] * sizes[l]), new Float64Array(sizes[l]));
      }
    }

    // h_l = σ(h_{l−1} W_l + b_l) for l < L, z = h_{L−1} W_L + b_L; fills this.hs and this.z.
    forward(theta, X) {
      const { sizes, L, N } = this;
      let h = X;
      for (let l = 1; l <= L; l++) {
        const W = theta[2 * l - 2];
        const b = theta[2 * l - 1];
        const nIn = sizes[l - 1];
        const nOut = sizes[l];
        const out = l < L ? this.hs[l] : this.z;
        for (let n = 0; n < N; n++) {
          const row = n * nIn;
          for (let j = 0; j < nOut; j++) {
            let s = 0;
            for (let i = 0; i < nIn; i++) s = r(s + r(h[row + i] * W[i * nOut + j]));
            const a = r(s + b[j]);
            out[n * nOut + j] = l < L ? sigmoid(a) : a;
          }
        }
        h = out;
      }
      return this.z;
    }

    // l = Σ softplus(z) − y·z and its gradients (into this.grads), by the reference's backprop:
    // δ_L = σ(z) − y;  ∂l/∂W_l = h_{l−1}ᵀ δ_l,  ∂l/∂b_l = Σ_rows δ_l;
    // δ_{l−1} = ((δ_l W_lᵀ) ⊙ h_{l−1}) ⊙ (1 − h_{l−1}).
    lossAndGrads(theta, X, y) {
      const { sizes, L, N } = this;
      const z = this.forward(theta, X);
      let loss = 0;
      for (let n = 0; n < N; n++) loss = r(loss + bce(z[n], y[n]));
      const top = this.deltas[L];
      for (let n = 0; n < N; n++) top[n] = r(sigmoid(z[n]) - y[n]);
      for (let l = L; l >= 1; l--) {
        const h = l > 1 ? this.hs[l - 1] : X;
        const delta = this.deltas[l];
        const W = theta[2 * l - 2];
        const dW = this.grads[2 * l - 2];
        const db = this.grads[2 * l - 1];
        const nIn = sizes[l - 1];
        const nOut = sizes[l];
        dW.fill(0);
        db.fill(0);
        for (let n = 0; n < N; n++) {
          for (let j = 0; j < nOut; j++) db[j] = r(db[j] + delta[n * nOut + j]);
          for (let i = 0; i < nIn; i++) {
            const hi = h[n * nIn + i];
            for (let j = 0; j < nOut; j++) dW[i * nOut + j] = r(dW[i * nOut + j] + r(hi * delta[n * nOut + j]));
          }
        }
        if (l > 1) {
          const below = this.deltas[l - 1];
          for (let n = 0; n < N; n++) {
            for (let i = 0; i < nIn; i++) {
              let s = 0;
              for (let j = 0; j < nOut; j++) s = r(s + r(delta[n * nOut + j] * W[i * nOut + j]));
              const hi = h[n * nIn + i];
              below[n * nIn + i] = r(r(s * hi) * r(1 - hi));
            }
          }
        }
      }
      return loss;
    }
  }

  // An optimiser as a stateful step: step(θ, grads) → the new θ (fresh arrays; θ is left as it is).
  function makeOptimizer(opt, theta0) {
    if (opt.kind === "sgd") {
      const lr = r(opt.lr);
      return (theta, grads) =>
        theta.map((p, k) => {
          const g = grads[k];
          const out = new Float64Array(p.length);
          for (let i = 0; i < p.length; i++) out[i] = r(p[i] - r(lr * g[i]));
          return out;
        });
    }
    // torch.optim.Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g·g,
    // θ ← θ − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε), in the reference's order of operations.
    const beta1 = r(opt.beta1);
    const beta2 = r(opt.beta2);
    const oneMinusBeta1 = r(1 - opt.beta1);
    const oneMinusBeta2 = r(1 - opt.beta2);
    const eps = r(opt.eps);
    const m = theta0.map((p) => new Float64Array(p.length));
    const v = theta0.map((p) => new Float64Array(p.length));
    let t = 0;
    return (theta, grads) => {
      t += 1;
      const stepSize = r(opt.lr / (1 - Math.pow(opt.beta1, t)));
      const bc2Sqrt = r(Math.sqrt(1 - Math.pow(opt.beta2, t)));
      return theta.map((p, k) => {
        const g = grads[k];
        const mk = m[k];
        const vk = v[k];
        const out = new Float64Array(p.length);
        for (let i = 0; i < p.length; i++) {
          const gi = g[i];
          const mi = r(r(beta1 * mk[i]) + r(oneMinusBeta1 * gi));
          const vi = r(r(beta2 * vk[i]) + r(r(oneMinusBeta2 * gi) * gi));
          mk[i] = mi;
          vk[i] = vi;
          out[i] = r(p[i] - r(r(stepSize * mi) / r(r(r(Math.sqrt(vi)) / bc2Sqrt) + eps)));
        }
        return out;
      });
    };
  }

  // (z, p = σ(z)), each (N,)
  function mlpForward(sizes, theta, X, N) {
    const z = new Net(sizes, N).forward(theta, X);
    return [Array.from(z), Array.from(z, sigmoid)];
  }

  function mlpLossAndGrads(sizes, theta, X, y) {
    const net = new Net(sizes, y.length);
    const loss = net.lossAndGrads(theta, X, y);
    return [loss, net.grads];
  }

  // steps full-batch updates from θ₀: [θ₀, θ₁, …, θ_steps] (history) or [θ_steps], and the steps losses.
  function mlpTrain(sizes, theta0, X, y, opt, steps, history) {
    const net = new Net(sizes, y.length);
    const step = makeOptimizer(opt, theta0);
    const thetas = [theta0];
    const losses = new Array(steps);
    let theta = theta0;
    for (let t = 0; t < steps; t++) {
      losses[t] = net.lossAndGrads(theta, X, y);
      theta = step(theta, net.grads);
      if (history) thetas.push(theta);
    }
    return [history ? thetas : [theta], losses];
  }

  // B nets (nets[b] = θ of net b), each trained alone on the same data: final θ per net and losses (steps, B).
  function mlpTrainBatched(sizes, nets, X, y, opt, steps) {
    const B = nets.length;
    const finals = [];
    const losses = [];
    for (let t = 0; t < steps; t++) losses.push(new Array(B));
    for (let b = 0; b < B; b++) {
      const [thetas, netLosses] = mlpTrain(sizes, nets[b], X, y, opt, steps, false);
      finals.push(thetas[0]);
      for (let t = 0; t < steps; t++) losses[t][b] = netLosses[t];
    }
    return [finals, losses];
  }

  return {
    r,
    tluPredict,
    perceptronStep,
    perceptronOnline,
    logisticLossAndGrad,
    singleExampleLossAndGrad,
    logisticTrain,
    mlpForward,
    mlpLossAndGrads,
    mlpTrain,
    mlpTrainBatched,
  };
}

const NUMERICS = { float64: numerics(identity), float32: numerics(Math.fround) };

// ----------------------------------------------------------------------------- arguments
//
// Checked as gatespec.reference checks them (reference/_validate.py): a bad argument is an
// "invalid-input" error naming it.  Arrays come as nested JSON lists of numbers (non-finite
// ones as "NaN", "Infinity", "-Infinity", which the reference refuses as inputs).

const NON_FINITE = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

function describe(v) {
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 80 ? text.slice(0, 77) + "..." : text;
}

function number(v, where) {
  if (typeof v === "number") return v;
  if (typeof v === "string" && Object.prototype.hasOwnProperty.call(NON_FINITE, v)) return NON_FINITE[v];
  return invalid(`${where}: expected a number, got ${describe(v)}`);
}

function finite(x, name) {
  if (!Number.isFinite(x)) invalid(`${name}: expected finite values, found NaN or inf`);
  return x;
}

function need(args, name) {
  if (!Object.prototype.hasOwnProperty.call(args, name)) invalid(`${name}: missing argument`);
  return args[name];
}

// An array of `rank` (1, 2 or 3) of finite numbers, rectangular, with `shape` where given
// (null leaves an axis free); returned as nested arrays of numbers rounded with r.
function floatArray(name, v, rank, shape, r) {
  const dims = [];
  function walk(x, depth, path) {
    if (depth === rank) return r(finite(number(x, name + path), name));
    if (!Array.isArray(x)) invalid(`${name}: expected an array of rank ${rank}, got ${describe(x)} at ${name}${path}`);
    if (dims.length === depth) dims.push(x.length);
    else if (dims[depth] !== x.length) invalid(`${name}: ragged at ${name}${path}: expected ${dims[depth]} entries, got ${x.length}`);
    return x.map((e, i) => walk(e, depth + 1, `${path}[${i}]`));
  }
  const out = walk(v, 0, "");
  // An empty axis hides the ones below it: they take their expected size.
  while (dims.length < rank) dims.push(shape && shape[dims.length] != null ? shape[dims.length] : 0);
  if (shape) {
    for (let axis = 0; axis < rank; axis++) {
      if (shape[axis] != null && dims[axis] !== shape[axis]) {
        const want = "(" + shape.map((s) => (s == null ? "any" : s)).join(", ") + (rank === 1 ? ",)" : ")");
        invalid(`${name}: expected shape ${want}, got (${dims.join(", ")}${rank === 1 ? "," : ""}) (axis ${axis})`);
      }
    }
  }
  return { value: out, shape: dims };
}

function labels(name, v, rows) {
  const y = floatArray(name, v, 1, null, identity).value;
  if (y.length !== rows) invalid(`${name}: expected ${rows} labels to match the rows of the inputs, got ${y.length}`);
  for (const yi of y) if (yi !== 0 && yi !== 1) invalid(`${name}: expected labels in {0, 1}, got ${yi}`);
  return y;
}

function realAtLeast(name, v, strict) {
  if (typeof v !== "number" || !Number.isFinite(v) || (strict ? v <= 0 : v < 0)) {
    invalid(`${name}: expected a ${strict ? "positive real number" : "real number ≥ 0"}, got ${describe(v)}`);
  }
  return v;
}

function count(name, v, minimum) {
  if (typeof v !== "number" || !Number.isInteger(v) || v < minimum) {
    invalid(`${name}: expected an integer >= ${minimum}, got ${describe(v)}`);
  }
  return v;
}

// Xb (N, d) and a weight vector (d,)
function inputsAndWeights(args, wName, r) {
  const Xb = floatArray("Xb", need(args, "Xb"), 2, null, r);
  const w = floatArray(wName, need(args, wName), 1, [Xb.value.length ? Xb.shape[1] : null], r);
  return [Xb.value, w.value, Xb.value.length];
}

// The canonical MLP layout [W1, b1, …, WL, bL] (batched: every array with a leading net axis),
// checked as reference.mlp.check_params / reference.convergence.check_many, as the layer sizes
// (n₀, …, n_L = 1) and θ in the flat layout of `Net`: { sizes, theta } or, batched, { sizes, nets: [θ per net] }.
function mlpParams(v, nInputs, batched, r) {
  if (!Array.isArray(v) || v.length < 2 || v.length % 2) {
    invalid("params: expected a non-empty list [W1, b1, …, WL, bL]" + (batched ? ", each with a leading net axis" : ""));
  }
  const arrays = [];
  let width = nInputs;
  let nets = null;
  const extra = batched ? 1 : 0;
  for (let l = 0; l < v.length / 2; l++) {
    const W = floatArray(`params[W${l + 1}]`, v[2 * l], 2 + extra, batched ? [nets, width, null] : [width, null], r);
    if (batched) nets = W.shape[0];
    width = W.shape[1 + extra];
    const b = floatArray(`params[b${l + 1}]`, v[2 * l + 1], 1 + extra, batched ? [nets, width] : [width], r);
    arrays.push(W.value, b.value);
  }
  if (width !== 1) invalid(`params: expected one output unit in the last layer, got ${width}`);
  if (batched && nets === 0) invalid("params: expected at least one net, got 0");
  const sizes = [batched ? (nets ? arrays[0][0].length : 0) : arrays[0].length];
  for (let k = 1; k < arrays.length; k += 2) sizes.push(batched ? arrays[k][0].length : arrays[k].length);
  if (!batched) return { sizes, theta: arrays.map(flat) };
  const thetas = [];
  for (let b = 0; b < nets; b++) thetas.push(arrays.map((p) => flat(p[b])));
  return { sizes, nets: thetas };
}

// A vector or a matrix of rows as one flat Float64Array (row-major).
function flat(a) {
  if (a.length && Array.isArray(a[0])) {
    const cols = a[0].length;
    const out = new Float64Array(a.length * cols);
    for (let i = 0; i < a.length; i++) out.set(a[i], i * cols);
    return out;
  }
  return Float64Array.from(a);
}

// A flat parameter of θ back as JSON-ready arrays: k even, W (n_{l−1}, n_l) as rows; k odd, b.
function unflat(p, k, sizes) {
  if (k % 2) return Array.from(p);
  const cols = sizes[k / 2 + 1];
  const rows = [];
  for (let i = 0; i < sizes[k / 2]; i++) rows.push(Array.from(p.subarray(i * cols, (i + 1) * cols)));
  return rows;
}

// X (N, n) from the request as a flat Float64Array, its width checked against the first layer.
function mlpInputs(args, r) {
  const X = floatArray("X", need(args, "X"), 2, null, r);
  return { X: flat(X.value), N: X.value.length, width: X.value.length ? X.shape[1] : null };
}

const SGD_DEFAULTS = { lr: 0.5 };
const ADAM_DEFAULTS = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

// {"kind": "sgd", "lr"} or {"kind": "adam", "lr", "beta1", "beta2", "eps"}, checked as reference.mlp.SGD / Adam.
function optimizer(v) {
  if (v === null || typeof v !== "object" || Array.isArray(v)) invalid(`optimizer: expected an object, got ${describe(v)}`);
  const get = (defaults, key) => (v[key] === undefined ? defaults[key] : v[key]);
  if (v.kind === "sgd") return { kind: "sgd", lr: realAtLeast("lr", get(SGD_DEFAULTS, "lr"), false) };
  if (v.kind === "adam") {
    const opt = {
      kind: "adam",
      lr: realAtLeast("lr", get(ADAM_DEFAULTS, "lr"), false),
      beta1: get(ADAM_DEFAULTS, "beta1"),
      beta2: get(ADAM_DEFAULTS, "beta2"),
      eps: realAtLeast("eps", get(ADAM_DEFAULTS, "eps"), true),
    };
    for (const name of ["beta1", "beta2"]) {
      const b = opt[name];
      if (typeof b !== "number" || !(b >= 0 && b < 1)) invalid(`${name}: expected a number in [0, 1), got ${describe(b)}`);
    }
    return opt;
  }
  return invalid(`optimizer: expected kind "sgd" or "adam", got ${describe(v.kind)}`);
}

// ----------------------------------------------------------------------------- operations

const OPS = {
  tlu_predict(args, K) {
    const [Xb, w] = inputsAndWeights(args, "w", K.r);
    return { y: K.tluPredict(Xb, w) };
  },

  perceptron_step(args, K) {
    const [Xb, w, N] = inputsAndWeights(args, "w", K.r);
    const y = labels("y", need(args, "y"), N);
    const eta = K.r(realAtLeast("eta", need(args, "eta"), true));
    return { w: K.perceptronStep(Xb, y, w, eta) };
  },

  perceptron_online(args, K) {
    const [Xb, w0, N] = inputsAndWeights(args, "w0", K.r);
    const y = labels("y", need(args, "y"), N);
    const eta = K.r(realAtLeast("eta", need(args, "eta"), true));
    const order = need(args, "order");
    if (!Array.isArray(order) || order.some((i) => !Number.isInteger(i))) {
      invalid(`order: expected a list of integer instance indices, got ${describe(order)}`);
    }
    if (order.length === 0) invalid("order: expected at least one index, got none");
    if (order.some((i) => i < 0 || i >= N)) {
      invalid(`order: expected indices in [0, ${N}), got ${Math.min(...order)}…${Math.max(...order)}`);
    }
    return { w: K.perceptronOnline(Xb, y, w0, eta, order) };
  },

  logistic_loss_and_grad(args, K) {
    const [Xb, w, N] = inputsAndWeights(args, "w", K.r);
    const y = labels("y", need(args, "y"), N);
    const [loss, grad] = K.logisticLossAndGrad(Xb, y, w);
    return { loss, grad };
  },

  single_example_loss_and_grad(args, K) {
    const x = floatArray("x", need(args, "x"), 1, null, K.r).value;
    const w = floatArray("w", need(args, "w"), 1, [x.length], K.r).value;
    const [loss, grad] = K.singleExampleLossAndGrad(x, w);
    return { loss, grad };
  },

  logistic_train(args, K) {
    const [Xb, w0, N] = inputsAndWeights(args, "w0", K.r);
    const y = labels("y", need(args, "y"), N);
    // η = 0 is allowed, as for SGD: the suite checks that it leaves w exactly as it is.
    const eta = K.r(realAtLeast("eta", need(args, "eta"), false));
    const steps = count("steps", need(args, "steps"), 1);
    const [weights, losses] = K.logisticTrain(Xb, y, w0, eta, steps);
    return { weights, losses };
  },

  mlp_forward(args, K) {
    const { X, N, width } = mlpInputs(args, K.r);
    const { sizes, theta } = mlpParams(need(args, "params"), width, false, K.r);
    const [z, p] = K.mlpForward(sizes, theta, X, N);
    return { z, p };
  },

  mlp_loss_and_grads(args, K) {
    const { X, N, width } = mlpInputs(args, K.r);
    const { sizes, theta } = mlpParams(need(args, "params"), width, false, K.r);
    const y = labels("y", need(args, "y"), N);
    const [loss, grads] = K.mlpLossAndGrads(sizes, theta, X, y);
    return { loss, grads: grads.map((g, k) => unflat(g, k, sizes)) };
  },

  mlp_train(args, K) {
    const { X, N, width } = mlpInputs(args, K.r);
    const { sizes, theta } = mlpParams(need(args, "params"), width, false, K.r);
    const y = labels("y", need(args, "y"), N);
    const opt = optimizer(need(args, "optimizer"));
    const steps = count("steps", need(args, "steps"), 1);
    const [thetas, losses] = K.mlpTrain(sizes, theta, X, y, opt, steps, true);
    // per parameter: its (steps + 1, *shape) trajectory
    return { params: theta.map((_, k) => thetas.map((th) => unflat(th[k], k, sizes))), losses };
  },

  mlp_train_batched(args, K) {
    const { X, N, width } = mlpInputs(args, K.r);
    const { sizes, nets } = mlpParams(need(args, "params"), width, true, K.r);
    const y = labels("y", need(args, "y"), N);
    const opt = optimizer(need(args, "optimizer"));
    const steps = count("steps", need(args, "steps"), 1);
    const [finals, losses] = K.mlpTrainBatched(sizes, nets, X, y, opt, steps);
    // per parameter: the final values of every net, net axis first
    return { params: finals[0].map((_, k) => finals.map((th) => unflat(th[k], k, sizes))), losses };
  },
};

// ----------------------------------------------------------------------------- protocol

function hello(request) {
  if (request.protocol !== PROTOCOL) {
    throw new ProtocolError(`speaks ${PROTOCOL}, not ${describe(request.protocol)}`);
  }
  return {
    protocol: PROTOCOL,
    name: "node-plain",
    language: "javascript",
    framework: "node",
    version: process.version,
    dtypes: DTYPES,
    capabilities: CAPABILITIES,
  };
}

function handle(request) {
  if (request.op === "hello") return hello(request);
  if (!Object.prototype.hasOwnProperty.call(OPS, request.op)) {
    throw new NotSupported(`unknown operation ${describe(request.op)}`);
  }
  const dtype = request.dtype === undefined ? "float64" : request.dtype;
  if (!DTYPES.includes(dtype)) throw new NotSupported(`dtype ${describe(dtype)}: this program computes in ${DTYPES.join(", ")}`);
  const device = request.device === undefined ? "cpu" : request.device;
  if (device !== "cpu") throw new NotSupported(`device ${describe(device)}: this program runs on the cpu only`);
  const args = request.args === undefined ? {} : request.args;
  if (args === null || typeof args !== "object" || Array.isArray(args)) invalid(`args: expected an object, got ${describe(args)}`);
  return OPS[request.op](args, NUMERICS[dtype]);
}

// JSON with NaN and ±infinity as the strings "NaN", "Infinity", "-Infinity".
function encode(message) {
  return JSON.stringify(message, (key, value) => {
    if (typeof value === "number" && !Number.isFinite(value)) {
      return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    }
    return value;
  });
}

function errorKind(exc) {
  if (exc instanceof ProtocolError) return "protocol";
  if (exc instanceof NotSupported) return "not-supported";
  if (exc instanceof InvalidInput) return "invalid-input";
  return "failure";
}

function respond(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (exc) {
    process.stderr.write(`gatespec_client: not a JSON line: ${line.slice(0, 200)}\n`);
    return { id: null, error: { kind: "failure", message: `not a JSON line: ${exc.message}` } };
  }
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    return { id: null, error: { kind: "failure", message: "a request must be a JSON object" } };
  }
  const id = request.id === undefined ? null : request.id;
  try {
    return { id, result: handle(request) };
  } catch (exc) {
    const kind = errorKind(exc);
    if (kind === "failure") process.stderr.write(`gatespec_client: ${request.op}: ${exc && exc.stack ? exc.stack : exc}\n`);
    return { id, error: { kind, message: String(exc && exc.message !== undefined ? exc.message : exc) } };
  }
}

function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    process.stdout.write(encode(respond(line)) + "\n");
  });
  lines.on("close", () => {
    process.exitCode = 0;
  });
}

main();
