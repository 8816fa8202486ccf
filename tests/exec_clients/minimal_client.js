// A complete minimal client of the gatespec exec protocol: the MLP forward pass in float64.
const readline = require("node:readline");

const sigmoid = (a) => (a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a)));

function mlpForward({ params, X }) {
  const z = [], p = [];
  for (const x of X) {
    let h = x;
    for (let k = 0; k < params.length; k += 2) {
      const [W, b] = [params[k], params[k + 1]];
      const a = b.map((bj, j) => h.reduce((s, hi, i) => s + hi * W[i][j], 0) + bj);
      h = k === params.length - 2 ? a : a.map(sigmoid);
    }
    z.push(h[0]);
    p.push(sigmoid(h[0]));
  }
  return { z, p };
}

const hello = {
  protocol: 1, name: "minimal-js", language: "javascript", framework: "node",
  version: process.version, dtypes: ["float64"], capabilities: ["mlp-forward"],
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const { id, op, args } = JSON.parse(line);
  let reply;
  if (op === "hello") reply = { id, result: hello };
  else if (op === "mlp_forward") reply = { id, result: mlpForward(args) };
  else reply = { id, error: { kind: "not-supported", message: op } };
  process.stdout.write(JSON.stringify(reply) + "\n");
});
