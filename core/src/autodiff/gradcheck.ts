import { encodeModel } from "../onnx/encode.js";
import { GraphBuilder, numel, type Value } from "../onnx/graph-builder.js";
import { attr, type Attribute } from "../onnx/model.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { withSession } from "../engine/session.js";
import { Rng } from "../util/rng.js";
import { appendGradients } from "./backward.js";

/**
 * Finite-difference checks of the gradient rules, kept as data: each case is
 * one op on awkward shapes (odd sizes, stride 2, dilation 2, depthwise,
 * windows at borders), its inputs drawn away from kinks.
 */
export interface GradCase {
  readonly name: string;
  /** The rule (op type) it checks. */
  readonly rule: string;
  readonly inputs: readonly { readonly shape: readonly number[]; readonly wrt?: boolean; readonly data?: (rng: Rng, n: number) => Float32Array }[];
  /** Builds the op(s) from the input values; returns the output. */
  readonly build: (g: GraphBuilder, x: readonly Value[]) => Value;
}

/**
 * Float32 central differences: truncation error ~ h^2 f''' and rounding error
 * ~ eps32 |L| / h (eps32 = 6e-8). With h = 1e-2 and |L| ~ 10 both stay near
 * 1e-4 of typical gradients; a wrong rule is off by O(1). Tolerance 1e-2.
 */
export const FD_STEP = 1e-2;
export const GRADCHECK_TOLERANCE = 1e-2;
/** Elements perturbed per input (sampled), to keep the check quick. */
const SAMPLES = 24;

const uniform = (lo: number, hi: number) => (rng: Rng, n: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
/** Values at least 0.1 from zero, so ReLU kinks are farther than the FD step. */
const awayFromZero = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1) * (0.1 + rng.next()));
/** Distinct values spaced wider than the FD step, so max pooling has no near-ties. */
const distinct = (rng: Rng, n: number) => {
  const v = rng.sample(n, n).map((i) => i * 0.05 - n * 0.025);
  return Float32Array.from(v);
};

const convCase = (name: string, x: number[], w: number[], a: Record<string, Attribute>, bias = false): GradCase => ({
  name,
  rule: "Conv",
  inputs: [{ shape: x, wrt: true }, { shape: w, wrt: true }, ...(bias ? [{ shape: [w[0]], wrt: true }] : [])],
  build: (g, [xi, wi, bi]) => {
    const k = w[2];
    const s = a.strides?.kind === "ints" ? a.strides.value[0] : 1;
    const d = a.dilations?.kind === "ints" ? a.dilations.value[0] : 1;
    const p = a.pads?.kind === "ints" ? a.pads.value[0] : 0;
    const out = (n: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
    return g.op("Conv", bi ? [xi, wi, bi] : [xi, wi], [x[0], w[0], out(x[2]), out(x[3])], { kernel_shape: attr.ints([k, k]), ...a });
  },
});

const pool = (op: string, name: string, x: number[], k: number, s: number, p: number, data = distinct): GradCase => ({
  name,
  rule: op,
  inputs: [{ shape: x, wrt: true, data }],
  build: (g, [xi]) => {
    const out = (n: number) => Math.floor((n + 2 * p - k) / s) + 1;
    return g.op(op, [xi], [x[0], x[1], out(x[2]), out(x[3])], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([s, s]),
      pads: attr.ints([p, p, p, p]),
      ...(op === "AveragePool" ? { count_include_pad: attr.int(0) } : {}),
    });
  },
});

export const GRAD_CASES: readonly GradCase[] = [
  convCase("conv 3x3 pad 1, odd sizes", [2, 3, 7, 5], [4, 3, 3, 3], { pads: attr.ints([1, 1, 1, 1]) }),
  convCase("conv 3x3 stride 2 pad 1, odd input", [2, 3, 9, 8], [5, 3, 3, 3], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
  convCase("conv 3x3 dilation 2 pad 2", [2, 2, 9, 9], [3, 2, 3, 3], { dilations: attr.ints([2, 2]), pads: attr.ints([2, 2, 2, 2]) }),
  convCase("conv 1x1 stride 1 (no slice)", [2, 3, 5, 6], [4, 3, 1, 1], {}),
  convCase("conv 1x1 stride 2 with bias", [2, 3, 7, 7], [2, 3, 1, 1], { strides: attr.ints([2, 2]) }, true),
  convCase("depthwise 3x3 (groups = channels)", [2, 4, 7, 6], [4, 1, 3, 3], { group: attr.int(4), pads: attr.ints([1, 1, 1, 1]) }),
  convCase("depthwise 3x3 stride 2, even input (cropped correlation)", [2, 4, 8, 8], [4, 1, 3, 3], { group: attr.int(4), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
  convCase("depthwise 5x5 dilation 2 stride 2", [2, 3, 11, 11], [3, 1, 5, 5], { group: attr.int(3), dilations: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([4, 4, 4, 4]) }),
  {
    name: "batch norm, batch statistics",
    rule: "BatchNormalization",
    inputs: [{ shape: [3, 4, 3, 5], wrt: true, data: uniform(-2, 2) }, { shape: [4], wrt: true, data: uniform(0.5, 1.5) }, { shape: [4], wrt: true }],
    build: (g, [x, gamma, beta]) => {
      const [y] = g.opMulti(
        "BatchNormalization",
        [x, gamma, beta, g.initializer("m", [4], new Float32Array(4)), g.initializer("v", [4], new Float32Array(4).fill(1))],
        [{ shape: x.shape }, { shape: [4] }, { shape: [4] }],
        { epsilon: attr.float(1e-5), momentum: attr.float(0.9), training_mode: attr.int(1) },
      );
      return y;
    },
  },
  { name: "relu", rule: "Relu", inputs: [{ shape: [2, 3, 4, 5], wrt: true, data: awayFromZero }], build: (g, [x]) => g.op("Relu", [x], x.shape) },
  { name: "add, broadcast [1,C,1,1]", rule: "Add", inputs: [{ shape: [2, 3, 4, 4], wrt: true }, { shape: [1, 3, 1, 1], wrt: true }], build: (g, [a, b]) => g.op("Add", [a, b], a.shape) },
  { name: "sum of three", rule: "Sum", inputs: [{ shape: [2, 3, 3, 3], wrt: true }, { shape: [2, 3, 3, 3], wrt: true }, { shape: [2, 3, 3, 3], wrt: true }], build: (g, xs) => g.op("Sum", [...xs], xs[0].shape) },
  { name: "mul, broadcast", rule: "Mul", inputs: [{ shape: [2, 3, 4], wrt: true }, { shape: [3, 1], wrt: true }], build: (g, [a, b]) => g.op("Mul", [a, b], a.shape) },
  { name: "sub", rule: "Sub", inputs: [{ shape: [2, 5], wrt: true }, { shape: [2, 5], wrt: true }], build: (g, [a, b]) => g.op("Sub", [a, b], a.shape) },
  { name: "concat channels", rule: "Concat", inputs: [{ shape: [2, 3, 4, 4], wrt: true }, { shape: [2, 2, 4, 4], wrt: true }], build: (g, [a, b]) => g.op("Concat", [a, b], [2, 5, 4, 4], { axis: attr.int(1) }) },
  {
    name: "slice [:, :, 1:, 1:] (factorized reduce)",
    rule: "Slice",
    inputs: [{ shape: [2, 3, 6, 5], wrt: true }],
    build: (g, [x]) => g.op("Slice", [x, g.int64s("s", [1, 1]), g.int64s("e", [6, 5]), g.int64s("a", [2, 3])], [2, 3, 5, 4]),
  },
  { name: "slice channels (truncate)", rule: "Slice", inputs: [{ shape: [2, 5, 3, 3], wrt: true }], build: (g, [x]) => g.op("Slice", [x, g.int64s("s", [0]), g.int64s("e", [3]), g.int64s("a", [1])], [2, 3, 3, 3]) },
  {
    name: "split channels",
    rule: "Split",
    inputs: [{ shape: [2, 5, 3, 3], wrt: true }],
    build: (g, [x]) => {
      const [a, b] = g.opMulti("Split", [x, g.int64s("split", [2, 3])], [{ shape: [2, 2, 3, 3] }, { shape: [2, 3, 3, 3] }], { axis: attr.int(1) });
      return g.op("Concat", [b, g.op("Mul", [a, g.scalar("k", 3)], a.shape)], [2, 5, 3, 3], { axis: attr.int(1) });
    },
  },
  { name: "pad spatial", rule: "Pad", inputs: [{ shape: [2, 3, 4, 5], wrt: true }], build: (g, [x]) => g.op("Pad", [x, g.int64s("p", [0, 0, 1, 2, 0, 0, 2, 1])], [2, 3, 7, 8]) },
  pool("AveragePool", "avg pool 3x3 stride 1 pad 1 (count excludes padding)", [2, 3, 7, 6], 3, 1, 1, uniform(-1, 1)),
  pool("AveragePool", "avg pool 3x3 stride 2 pad 1, odd input", [2, 2, 9, 7], 3, 2, 1, uniform(-1, 1)),
  pool("AveragePool", "avg pool 2x2 stride 2", [2, 3, 8, 8], 2, 2, 0, uniform(-1, 1)),
  pool("MaxPool", "max pool 3x3 stride 1 pad 1 (windows at borders)", [2, 3, 6, 7], 3, 1, 1),
  pool("MaxPool", "max pool 3x3 stride 2 pad 1", [2, 2, 9, 9], 3, 2, 1),
  pool("MaxPool", "max pool 2x2 stride 2", [2, 3, 8, 6], 2, 2, 0),
  { name: "global average pool", rule: "GlobalAveragePool", inputs: [{ shape: [2, 3, 5, 4], wrt: true }], build: (g, [x]) => g.op("GlobalAveragePool", [x], [2, 3, 1, 1]) },
  { name: "flatten", rule: "Flatten", inputs: [{ shape: [2, 3, 2, 2], wrt: true }], build: (g, [x]) => g.op("Flatten", [x], [2, 12], { axis: attr.int(1) }) },
  { name: "reshape", rule: "Reshape", inputs: [{ shape: [2, 6], wrt: true }], build: (g, [x]) => g.op("Reshape", [x, g.int64s("s", [3, 4])], [3, 4]) },
  { name: "transpose", rule: "Transpose", inputs: [{ shape: [2, 3, 4], wrt: true }], build: (g, [x]) => g.op("Transpose", [x], [4, 2, 3], { perm: attr.ints([2, 0, 1]) }) },
  { name: "gemm transB with bias", rule: "Gemm", inputs: [{ shape: [3, 5], wrt: true }, { shape: [4, 5], wrt: true }, { shape: [4], wrt: true }], build: (g, [a, b, c]) => g.op("Gemm", [a, b, c], [3, 4], { transB: attr.int(1) }) },
  { name: "matmul", rule: "MatMul", inputs: [{ shape: [3, 5], wrt: true }, { shape: [5, 2], wrt: true }], build: (g, [a, b]) => g.op("MatMul", [a, b], [3, 2]) },
  {
    name: "softmax cross-entropy (LogSoftmax, Mul, ReduceSum, Neg)",
    rule: "LogSoftmax",
    inputs: [{ shape: [4, 6], wrt: true, data: uniform(-3, 3) }, { shape: [4, 6], data: (_r, n) => Float32Array.from({ length: n }, (_, i) => (i % 6 === (Math.floor(i / 6) * 5) % 6 ? 1 : 0)) }],
    build: (g, [z, onehot]) => softmaxCrossEntropy(g, z, onehot),
  },
];

/** Mean softmax cross-entropy over the batch, in primitives the rule table covers. */
export function softmaxCrossEntropy(g: GraphBuilder, logits: Value, onehot: Value): Value {
  const n = logits.shape[0];
  const logp = g.op("LogSoftmax", [logits], logits.shape, { axis: attr.int(1) });
  const picked = g.op("ReduceSum", [g.op("Mul", [logp, onehot], logits.shape), g.int64s("axes", [0, 1])], [], { keepdims: attr.int(0) });
  return g.op("Mul", [picked, g.scalar("neg_inv_n", -1 / n)], []);
}

export interface GradCheckResult {
  readonly name: string;
  readonly rule: string;
  /** max |analytic - numeric| / max(max |numeric|, 1e-3) over the checked elements. */
  readonly worstRelativeError: number;
  readonly checked: number;
  readonly passed: boolean;
}

/** Runs one case: analytic gradients from the appended backward graph vs central differences. */
export async function gradCheck(runtime: RuntimeConfig, c: GradCase, seed = 1): Promise<GradCheckResult> {
  const rng = new Rng(seed);
  const data = c.inputs.map((inp) => (inp.data ?? uniform(-1, 1))(rng, numel(inp.shape)));
  const build = () => {
    const g = new GraphBuilder("gradcheck");
    const xs = c.inputs.map((inp, i) => g.input(`x${i}`, inp.shape));
    const y = c.build(g, xs);
    // A random projection makes the scalar loss depend on every output element differently.
    const r = g.initializer("proj", y.shape, uniform(-1, 1)(new Rng(seed + 7), numel(y.shape)));
    const axes = y.shape.map((_, i) => i);
    const loss = y.shape.length === 0 ? y : g.op("ReduceSum", [g.op("Mul", [y, r], y.shape), g.int64s("axes", axes)], [], { keepdims: attr.int(0) });
    return { g, xs, loss };
  };
  const fwd = build();
  fwd.g.output(fwd.loss);
  const bwd = build();
  const wrt = bwd.xs.filter((_, i) => c.inputs[i].wrt);
  const grads = appendGradients(bwd.g, bwd.loss, wrt);
  for (const w of wrt) bwd.g.output(grads.get(w.name)!);
  const feeds = (d: Float32Array[]) => Object.fromEntries(c.inputs.map((inp, i) => [`x${i}`, new runtime.ort.Tensor("float32", d[i], [...inp.shape])]));
  const { worst, checked } = await withSession(runtime, encodeModel(fwd.g.build()), (fwdSession) =>
    withSession(runtime, encodeModel(bwd.g.build()), async (bwdSession) => {
      const analytic = await bwdSession.run(feeds(data));
      const lossAt = async (d: Float32Array[]) => Number((await fwdSession.run(feeds(d)))[fwd.loss.name].data[0]);
      let worst = 0;
      let checked = 0;
      for (const w of wrt) {
        const i = Number(w.name.slice(1));
        const a = analytic[grads.get(w.name)!.name].data as Float32Array;
        const idx = rng.sample(data[i].length, Math.min(SAMPLES, data[i].length));
        const numeric: number[] = [];
        const got: number[] = [];
        for (const j of idx) {
          const plus = data.map((d) => d.slice());
          const minus = data.map((d) => d.slice());
          plus[i][j] += FD_STEP;
          minus[i][j] -= FD_STEP;
          numeric.push(((await lossAt(plus)) - (await lossAt(minus))) / (2 * FD_STEP));
          got.push(a[j]);
        }
        const scale = Math.max(1e-3, ...numeric.map(Math.abs));
        for (let k = 0; k < numeric.length; k++) worst = Math.max(worst, Math.abs(got[k] - numeric[k]) / scale);
        checked += idx.length;
      }
      return { worst, checked };
    }, { what: `the backward graph of ${c.name}` }),
    { what: `the forward graph of ${c.name}` },
  );
  return { name: c.name, rule: c.rule, worstRelativeError: worst, checked, passed: worst <= GRADCHECK_TOLERANCE };
}
