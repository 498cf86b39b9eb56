import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr, type NodeSpec } from "../onnx/model.js";
import type { GradContext } from "./grad-context.js";

/**
 * One gradient rule per op: given the node, the gradients of its outputs
 * (undefined where no gradient flows) and which inputs need one, return a
 * gradient per input (undefined where none is needed). Rules may return a
 * gradient of a broadcast shape; the walker reduces it to the input's shape
 * and sums fan-out.
 */
export type GradRule = (ctx: GradContext, node: NodeSpec, dy: readonly (Value | undefined)[], needed: readonly boolean[]) => (Value | undefined)[];

function intAttr(node: NodeSpec, name: string, dflt: number): number {
  const a = node.attrs?.[name];
  return a && a.kind === "int" ? a.value : dflt;
}
function intsAttr(node: NodeSpec, name: string, dflt: readonly number[]): readonly number[] {
  const a = node.attrs?.[name];
  return a && a.kind === "ints" ? a.value : dflt;
}
function floatAttr(node: NodeSpec, name: string, dflt: number): number {
  const a = node.attrs?.[name];
  return a && a.kind === "float" ? a.value : dflt;
}

/** Output padding that makes a ConvTranspose reproduce the forward input size exactly. */
function outputPadding(inSize: number, outSize: number, k: number, s: number, p: number, d: number): number {
  return inSize - ((outSize - 1) * s - 2 * p + d * (k - 1) + 1);
}

/**
 * Conv. dX: for stride 1 a plain convolution of dY with the flipped,
 * transposed kernel (onnxruntime runs it as fast as the forward pass);
 * otherwise ConvTranspose. dW: k*k shifted (strided) slices of the padded
 * input, each contracted with dY by a batched MatMul and summed over the
 * batch, as one GEMM: exact, and far cheaper here than a Conv over
 * transposed tensors (a dY-sized kernel). Depthwise: the same slices,
 * multiplied elementwise and reduced.
 */
const conv: GradRule = (ctx, node, [dy], needed) => {
  const x = ctx.v(node.inputs[0]);
  const w = ctx.v(node.inputs[1]);
  const [n, cIn, h, wd] = x.shape;
  const [cOut, , kh, kw] = w.shape;
  const groups = intAttr(node, "group", 1);
  const [sh, sw] = intsAttr(node, "strides", [1, 1]);
  const [dh, dw] = intsAttr(node, "dilations", [1, 1]);
  const [ph, pw, ph2, pw2] = intsAttr(node, "pads", [0, 0, 0, 0]);
  if (ph !== ph2 || pw !== pw2) throw new DasError("UNSUPPORTED_OP", `Conv ${node.name}: asymmetric padding has no gradient rule`);
  const depthwise = groups !== 1;
  if (depthwise && !(groups === cIn && cOut === cIn)) {
    throw new DasError("UNSUPPORTED_OP", `Conv ${node.name}: groups=${groups} other than 1 or depthwise has no gradient rule`);
  }
  const g = dy!;
  const [, , ho, wo] = g.shape;
  const grads: (Value | undefined)[] = [];
  if (needed[0]) {
    if (sh === 1 && sw === 1 && dh * (kh - 1) >= ph && dw * (kw - 1) >= pw) {
      const flipped = ctx.op("Slice", [w, ctx.ints([-1, -1]), ctx.ints([-kh - 1, -kw - 1]), ctx.ints([2, 3]), ctx.ints([-1, -1])], w.shape);
      const kernel = depthwise ? flipped : ctx.transpose(flipped, [1, 0, 2, 3]);
      const qh = dh * (kh - 1) - ph;
      const qw = dw * (kw - 1) - pw;
      grads[0] = ctx.op("Conv", [g, kernel], x.shape, {
        kernel_shape: attr.ints([kh, kw]),
        pads: attr.ints([qh, qw, qh, qw]),
        dilations: attr.ints([dh, dw]),
        group: attr.int(groups),
      });
    } else {
      grads[0] = ctx.op("ConvTranspose", [g, w], x.shape, {
        kernel_shape: attr.ints([kh, kw]),
        strides: attr.ints([sh, sw]),
        pads: attr.ints([ph, pw, ph, pw]),
        dilations: attr.ints([dh, dw]),
        group: attr.int(groups),
        output_padding: attr.ints([outputPadding(h, ho, kh, sh, ph, dh), outputPadding(wd, wo, kw, sw, pw, dw)]),
      });
    }
  }
  if (needed[1]) {
    // dW[o, i, a, b] = sum_n sum_(y,x) dY[n, o, y, x] * Xpad[n, i, y*s + a*d, x*s + b*d]: transpose the
    // padded input once to [cIn, n, H, W]; each (a, b) is a strided slice of it, flattened to
    // [cIn, n*P]; stacked, they meet dY as [n*P, cOut] in one GEMM with the batch in the contraction.
    const padded = ph || pw ? ctx.op("Pad", [x, ctx.ints([0, 0, ph, pw, 0, 0, ph, pw])], [n, cIn, h + 2 * ph, wd + 2 * pw]) : x;
    const xt = ctx.transpose(padded, [1, 0, 2, 3]);
    const np = n * ho * wo;
    const strided = sh !== 1 || sw !== 1;
    const dyc = depthwise ? ctx.reshape(ctx.transpose(g, [1, 0, 2, 3]), [cIn, np]) : undefined;
    const dyt = depthwise ? undefined : ctx.reshape(ctx.transpose(g, [0, 2, 3, 1]), [np, cOut]);
    const taps: Value[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const bounds = [xt, ctx.ints([a * dh, b * dw]), ctx.ints([a * dh + sh * (ho - 1) + 1, b * dw + sw * (wo - 1) + 1]), ctx.ints([2, 3])];
        // A 1x1 unstrided kernel's only tap is the whole input: no slice (copy) needed.
        const whole = kh === 1 && kw === 1 && !strided && ho === padded.shape[2] && wo === padded.shape[3];
        const shifted = whole ? xt : ctx.op("Slice", strided ? [...bounds, ctx.ints([sh, sw])] : bounds, [cIn, n, ho, wo]);
        const flat = ctx.reshape(shifted, [cIn, np]);
        // Each tap is one GEMM straight off its slice: no stacked copy of all k*k slices.
        taps.push(
          depthwise
            ? ctx.reshape(ctx.reduceSum(ctx.mul(flat, dyc!), [1], false), [cIn, 1])
            : ctx.reshape(ctx.op("MatMul", [flat, dyt!], [cIn, cOut]), [cIn, cOut, 1]),
        );
      }
    }
    const stacked = taps.length === 1 ? taps[0] : ctx.op("Concat", taps, depthwise ? [cIn, kh * kw] : [cIn, cOut, kh * kw], { axis: attr.int(depthwise ? 1 : 2) });
    grads[1] = depthwise ? ctx.reshape(stacked, [cIn, 1, kh, kw]) : ctx.reshape(ctx.transpose(stacked, [1, 0, 2]), [cOut, cIn, kh, kw]);
  }
  if (node.inputs.length > 2 && needed[2]) grads[2] = ctx.reduceSum(g, [0, 2, 3], false);
  return grads;
};

/**
 * BatchNormalization with batch statistics, differentiated through them.
 * With xc = x - mean, inv = 1/sqrt(var + eps), a = mean(dY), b = mean(dY * xc):
 *   dX = gamma inv (dY - a - xc inv^2 b),  dgamma = M inv b,  dbeta = M a  (M = N H W),
 * written as per-channel scales so the full-size tensors are swept few times.
 */
const batchNorm: GradRule = (ctx, node, [dy], needed) => {
  if (intAttr(node, "training_mode", 0) !== 1) throw new DasError("UNSUPPORTED_OP", `BatchNormalization ${node.name}: only training mode (batch statistics) is differentiated`);
  const x = ctx.v(node.inputs[0]);
  const gamma = ctx.v(node.inputs[1]);
  const [n, c, h, w] = x.shape;
  const m = n * h * w;
  const eps = floatAttr(node, "epsilon", 1e-5);
  const axes = [0, 2, 3];
  const g = dy!;
  const xc = ctx.sub(x, ctx.reduceMean(x, axes));
  const inv = ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.add(ctx.reduceMean(ctx.mul(xc, xc), axes), ctx.scalar(eps))], [1, c, 1, 1])], [1, c, 1, 1]);
  const a = ctx.reduceMean(g, axes);
  const b = ctx.reduceMean(ctx.mul(g, xc), axes);
  const grads: (Value | undefined)[] = [];
  if (needed[0]) {
    const k1 = ctx.mul(ctx.reshape(gamma, [1, c, 1, 1]), inv);
    const k2 = ctx.op("Neg", [ctx.mul(ctx.mul(k1, ctx.mul(inv, inv)), b)], [1, c, 1, 1]);
    const k3 = ctx.op("Neg", [ctx.mul(k1, a)], [1, c, 1, 1]);
    grads[0] = ctx.add(ctx.add(ctx.mul(g, k1), ctx.mul(xc, k2)), k3);
  }
  if (needed[1]) grads[1] = ctx.reshape(ctx.mul(ctx.mul(inv, b), ctx.scalar(m)), [c]);
  if (needed[2]) grads[2] = ctx.reshape(ctx.mul(a, ctx.scalar(m)), [c]);
  return grads;
};

const relu: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const pos = ctx.op("Greater", [x, ctx.scalar(0)], x.shape, undefined, "bool");
  return [ctx.op("Where", [pos, dy!, ctx.scalar(0)], x.shape)];
};

const passThrough: GradRule = (_ctx, node, [dy]) => node.inputs.map(() => dy);

const sub: GradRule = (ctx, _node, [dy]) => [dy, ctx.op("Neg", [dy!], dy!.shape)];

const mul: GradRule = (ctx, node, [dy], needed) => {
  const [a, b] = node.inputs.map((i) => ctx.v(i));
  return [needed[0] ? ctx.mul(dy!, b) : undefined, needed[1] ? ctx.mul(dy!, a) : undefined];
};

const neg: GradRule = (ctx, _node, [dy]) => [ctx.op("Neg", [dy!], dy!.shape)];

const reshapeBack: GradRule = (ctx, node, [dy]) => [ctx.reshape(dy!, ctx.v(node.inputs[0]).shape)];

const globalAveragePool: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const scaled = ctx.mul(dy!, ctx.scalar(1 / (x.shape[2] * x.shape[3])));
  return [ctx.op("Expand", [scaled, ctx.ints(x.shape)], x.shape)];
};

/** Average pooling, padding excluded from the count: spread dY / count back with a ones kernel per channel. */
const averagePool: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const [, c, h, w] = x.shape;
  const [kh, kw] = intsAttr(node, "kernel_shape", [1, 1]);
  const [sh, sw] = intsAttr(node, "strides", [1, 1]);
  const [ph, pw] = intsAttr(node, "pads", [0, 0, 0, 0]);
  const includePad = intAttr(node, "count_include_pad", 0) === 1;
  const [, , ho, wo] = dy!.shape;
  const counts = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++)
    for (let j = 0; j < wo; j++) {
      const rows = includePad ? kh : Math.min(i * sh - ph + kh, h) - Math.max(i * sh - ph, 0);
      const cols = includePad ? kw : Math.min(j * sw - pw + kw, w) - Math.max(j * sw - pw, 0);
      counts[i * wo + j] = 1 / (rows * cols);
    }
  const scaled = ctx.mul(dy!, ctx.g.initializer("pool_inv_count", [1, 1, ho, wo], counts));
  const ones = ctx.g.initializer("pool_ones", [c, 1, kh, kw], new Float32Array(c * kh * kw).fill(1));
  return [
    ctx.op("ConvTranspose", [scaled, ones], x.shape, {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([sh, sw]),
      pads: attr.ints([ph, pw, ph, pw]),
      group: attr.int(c),
      output_padding: attr.ints([outputPadding(h, ho, kh, sh, ph, 1), outputPadding(w, wo, kw, sw, pw, 1)]),
    }),
  ];
};

/** Max pooling: recompute the argmax indices and scatter dY onto them (ties go to one element, as in PyTorch). */
const maxPool: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const total = x.shape.reduce((a, b) => a * b, 1);
  const m = dy!.shape.reduce((a, b) => a * b, 1);
  const [, indices] = ctx.g.opMulti("MaxPool", [x], [{ shape: dy!.shape }, { shape: dy!.shape, dtype: "int64" }], node.attrs as Record<string, never>);
  const flatIdx = ctx.reshape(indices, [m]);
  const zeros = ctx.op("ConstantOfShape", [ctx.ints([total])], [total]);
  const scattered = ctx.op("ScatterElements", [zeros, flatIdx, ctx.reshape(dy!, [m])], [total], { axis: attr.int(0), reduction: attr.string("add") });
  return [ctx.reshape(scattered, x.shape)];
};

const gemm: GradRule = (ctx, node, [dy], needed) => {
  const a = ctx.v(node.inputs[0]);
  const b = ctx.v(node.inputs[1]);
  if (intAttr(node, "transA", 0) !== 0) throw new DasError("UNSUPPORTED_OP", `Gemm ${node.name}: transA=1 has no gradient rule`);
  const transB = intAttr(node, "transB", 0) === 1;
  const alpha = floatAttr(node, "alpha", 1);
  const beta = floatAttr(node, "beta", 1);
  const g = alpha === 1 ? dy! : ctx.mul(dy!, ctx.scalar(alpha));
  const [n, k] = a.shape;
  const m = dy!.shape[1];
  const grads: (Value | undefined)[] = [];
  // Y = A B' + C with B' = B^T when transB.
  if (needed[0]) grads[0] = transB ? ctx.op("MatMul", [g, b], [n, k]) : ctx.op("MatMul", [g, ctx.transpose(b, [1, 0])], [n, k]);
  if (needed[1]) grads[1] = transB ? ctx.op("MatMul", [ctx.transpose(g, [1, 0]), a], [m, k]) : ctx.op("MatMul", [ctx.transpose(a, [1, 0]), g], [k, m]);
  if (node.inputs.length > 2 && needed[2]) grads[2] = beta === 1 ? dy : ctx.mul(dy!, ctx.scalar(beta));
  return grads;
};

const matMul: GradRule = (ctx, node, [dy], needed) => {
  const a = ctx.v(node.inputs[0]);
  const b = ctx.v(node.inputs[1]);
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new DasError("UNSUPPORTED_OP", `MatMul ${node.name}: only 2-D operands are differentiated`);
  return [
    needed[0] ? ctx.op("MatMul", [dy!, ctx.transpose(b, [1, 0])], a.shape) : undefined,
    needed[1] ? ctx.op("MatMul", [ctx.transpose(a, [1, 0]), dy!], b.shape) : undefined,
  ];
};

const concat: GradRule = (ctx, node, [dy], needed) => {
  const axis = intAttr(node, "axis", 0);
  let offset = 0;
  return node.inputs.map((name, i) => {
    const x = ctx.v(name);
    const start = offset;
    offset += x.shape[axis];
    return needed[i] ? ctx.op("Slice", [dy!, ctx.ints([start]), ctx.ints([offset]), ctx.ints([axis])], x.shape) : undefined;
  });
};

/** Slice with constant starts/ends/axes and unit steps: pad dY back with zeros. */
const slice: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const read = (k: number) => Array.from(ctx.g.initializerData(node.inputs[k]).values as BigInt64Array, Number);
  const starts = read(1);
  const axes = node.inputs[3] ? read(3) : starts.map((_, i) => i);
  if (node.inputs[4]) throw new DasError("UNSUPPORTED_OP", `Slice ${node.name}: steps have no gradient rule`);
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  axes.forEach((axis, i) => {
    const a = axis < 0 ? axis + x.shape.length : axis;
    const s = Math.min(starts[i] < 0 ? starts[i] + x.shape[a] : starts[i], x.shape[a]);
    before[a] = s;
    after[a] = x.shape[a] - s - dy!.shape[a];
  });
  return [ctx.op("Pad", [dy!, ctx.ints([...before, ...after])], x.shape)];
};

/** Pad with constant zeros: slice dY back. */
const pad: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const pads = Array.from(ctx.g.initializerData(node.inputs[1]).values as BigInt64Array, Number);
  const r = x.shape.length;
  if (pads.some((p) => p < 0)) throw new DasError("UNSUPPORTED_OP", `Pad ${node.name}: negative pads have no gradient rule`);
  const axes = x.shape.map((_, i) => i);
  return [ctx.op("Slice", [dy!, ctx.ints(pads.slice(0, r)), ctx.ints(axes.map((a) => pads[a] + x.shape[a])), ctx.ints(axes)], x.shape)];
};

const transpose: GradRule = (ctx, node, [dy]) => {
  const perm = intsAttr(node, "perm", []);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [ctx.transpose(dy!, inverse)];
};

/** LogSoftmax over `axis`: dX = dY - softmax(X) * sum(dY). */
const logSoftmax: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const axis = intAttr(node, "axis", -1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  const softmax = ctx.op("Softmax", [x], x.shape, { axis: attr.int(a) });
  return [ctx.sub(dy!, ctx.mul(softmax, ctx.reduceSum(dy!, [a], true)))];
};

const reduceSum: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const keep = intAttr(node, "keepdims", 1) === 1;
  const axes = node.inputs[1] ? Array.from(ctx.g.initializerData(node.inputs[1]).values as BigInt64Array, Number) : x.shape.map((_, i) => i);
  const kept = keep ? dy! : ctx.reshape(dy!, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return [ctx.op("Expand", [kept, ctx.ints(x.shape)], x.shape)];
};

const split: GradRule = (ctx, node, dys) => {
  const x = ctx.v(node.inputs[0]);
  const axis = intAttr(node, "axis", 0);
  const parts = dys.map((d, k) => d ?? ctx.zerosLike(ctx.v(node.outputs[k])));
  return [ctx.op("Concat", parts, x.shape, { axis: attr.int(axis) })];
};

/** The rule table: one row per differentiable op. */
export const GRADIENT_RULES: Readonly<Record<string, GradRule>> = {
  Conv: conv,
  BatchNormalization: batchNorm,
  Relu: relu,
  Add: passThrough,
  Sum: passThrough,
  Identity: passThrough,
  Sub: sub,
  Mul: mul,
  Neg: neg,
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  GlobalAveragePool: globalAveragePool,
  AveragePool: averagePool,
  MaxPool: maxPool,
  Gemm: gemm,
  MatMul: matMul,
  Concat: concat,
  Slice: slice,
  Split: split,
  Pad: pad,
  Transpose: transpose,
  LogSoftmax: logSoftmax,
  ReduceSum: reduceSum,
};

/** Ops whose outputs carry no gradient to their inputs (shapes, constants). */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set(["Shape", "ConstantOfShape", "Greater", "Cast", "ArgMax", "Equal"]);
