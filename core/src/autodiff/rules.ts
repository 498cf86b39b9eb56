import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr, type NodeSpec } from "../onnx/model.js";
import type { GradContext } from "./grad-context.js";
import { isTrainingBatchNorm, lowerBatchNorm } from "../onnx/lower-batch-norm.js";

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
 * otherwise ConvTranspose. dW: see convWeightGrad (im2col by one Gather,
 * one batched MatMul); far cheaper here than a Conv over transposed tensors
 * (a dY-sized kernel).
 */
const conv: GradRule = (ctx, node, [dy], needed) => {
  const x = ctx.v(node.inputs[0]);
  const w = ctx.v(node.inputs[1]);
  const [, cIn, h, wd] = x.shape;
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
  if (needed[1]) grads[1] = convWeightGrad(ctx, x, g, w.shape, { sh, sw, dh, dw, ph, pw, depthwise });
  if (node.inputs.length > 2 && needed[2]) grads[2] = ctx.reduceSum(g, [0, 2, 3], false);
  return grads;
};

interface ConvGeometry {
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly ph: number;
  readonly pw: number;
  readonly depthwise: boolean;
}

/**
 * dW[o, i, a, b] = sum_n sum_(y,x) dY[n, o, y, x] * Xpad[n, i, y*s + a*d, x*s + b*d].
 * The padded input goes to channels-last once; one Gather with a constant
 * index table builds the im2col matrix [n, P, k*k*cIn] (rows: output positions,
 * columns: tap then channel, each gathered row a contiguous run of cIn values);
 * one MatMul batched over images contracts it with dY [n, cOut, P] (no
 * transpose of dY), and a sum over the batch finishes. Wide GEMMs instead of
 * k*k skinny ones (cIn x cOut with a contraction of n*P) keep the arithmetic
 * intensity up; strided slices per tap were memory-bound here. Depthwise
 * kernels: see depthwiseWeightGrad.
 */
function convWeightGrad(ctx: GradContext, x: Value, g: Value, wShape: readonly number[], geo: ConvGeometry): Value {
  if (geo.depthwise) return depthwiseWeightGrad(ctx, x, g, wShape, geo);
  const [n, cIn, h, wd] = x.shape;
  const [cOut, , kh, kw] = wShape;
  const [, , ho, wo] = g.shape;
  const { sh, sw, dh, dw, ph, pw } = geo;
  const hp = h + 2 * ph;
  const wp = wd + 2 * pw;
  const positions = ho * wo;
  const kk = kh * kw;
  const dyRows = ctx.reshape(g, [n, cOut, positions]);
  if (kk === 1 && ph === 0 && pw === 0) {
    // 1x1: im2col is the (strided) input itself. Its transpose swaps the last two axes only, which
    // onnxruntime folds into the MatMul (a GEMM with B transposed): no channels-last copy, several
    // times faster than the copy and MatMul.
    const sampled = sh === 1 && sw === 1 ? x : ctx.op("Slice", [x, ctx.ints([0, 0]), ctx.ints([(ho - 1) * sh + 1, (wo - 1) * sw + 1]), ctx.ints([2, 3]), ctx.ints([sh, sw])], [n, cIn, ho, wo]);
    const xRows = ctx.transpose(ctx.reshape(sampled, [n, cIn, positions]), [0, 2, 1]);
    return ctx.reshape(ctx.reduceSum(ctx.op("MatMul", [dyRows, xRows], [n, cOut, cIn]), [0], false), wShape);
  }
  const padded = ph || pw ? ctx.op("Pad", [x, ctx.ints([0, 0, ph, pw, 0, 0, ph, pw])], [n, cIn, hp, wp]) : x;
  const nhwc = ctx.reshape(ctx.transpose(padded, [0, 2, 3, 1]), [n, hp * wp, cIn]);
  const index = new BigInt64Array(positions * kk);
  for (let y = 0; y < ho; y++)
    for (let xo = 0; xo < wo; xo++)
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++) index[(y * wo + xo) * kk + a * kw + b] = BigInt((y * sh + a * dh) * wp + xo * sw + b * dw);
  const table = ctx.g.initializer("im2col_index", [positions, kk], index, "int64");
  const cols = ctx.op("Gather", [nhwc, table], [n, positions, kk, cIn], { axis: attr.int(1) });
  const perImage = ctx.op("MatMul", [dyRows, ctx.reshape(cols, [n, positions, kk * cIn])], [n, cOut, kk * cIn]);
  const flat = ctx.reduceSum(perImage, [0], false);
  return kk === 1 ? ctx.reshape(flat, wShape) : ctx.reshape(ctx.transpose(ctx.reshape(flat, [cOut, kk, cIn]), [0, 2, 1]), wShape);
}

/**
 * Depthwise dW[c, a, b] = sum_n sum_(y,x) dY[n, c, y, x] * Xpad[n, c, y*s + a*d, x*s + b*d]:
 * each (image, channel) plane of X correlated with its own dY plane, i.e. one
 * convolution grouped by plane with dY as the kernel (kernel dilation s,
 * stride d, the forward padding), then a sum over images. No im2col copy:
 * 5-9x faster than im2col, multiply and reduce on DARTS's separable and
 * dilated convolutions here, once the grouped convolution runs on NCHWc.
 */
function depthwiseWeightGrad(ctx: GradContext, x: Value, g: Value, wShape: readonly number[], geo: ConvGeometry): Value {
  const [n, c, h, wd] = x.shape;
  const [, , kh, kw] = wShape;
  const [, , ho, wo] = g.shape;
  const { sh, sw, dh, dw, ph, pw } = geo;
  // Taps the correlation reaches; more than the kernel where the forward stride left rows unused.
  const oh = Math.floor((h + 2 * ph - sh * (ho - 1) - 1) / dh) + 1;
  const ow = Math.floor((wd + 2 * pw - sw * (wo - 1) - 1) / dw) + 1;
  const planes = n * c;
  let taps = ctx.op("Conv", [ctx.reshape(x, [1, planes, h, wd]), ctx.reshape(g, [planes, 1, ho, wo])], [1, planes, oh, ow], {
    kernel_shape: attr.ints([ho, wo]),
    pads: attr.ints([ph, pw, ph, pw]),
    strides: attr.ints([dh, dw]),
    dilations: attr.ints([sh, sw]),
    group: attr.int(planes),
  });
  if (oh !== kh || ow !== kw) taps = ctx.op("Slice", [taps, ctx.ints([0, 0]), ctx.ints([kh, kw]), ctx.ints([2, 3])], [1, planes, kh, kw]);
  return ctx.reshape(ctx.reduceSum(ctx.reshape(taps, [n, c, kh * kw]), [0], false), wShape);
}

/**
 * BatchNormalization with batch statistics, differentiated through them.
 * The forward node is first lowered in place (onnx/lower-batch-norm.ts) so that
 * the backward pass reuses its centred input and inverse deviation instead
 * of recomputing them. With xc = x - mean, inv = 1/sqrt(var + eps),
 * k = gamma inv, a = mean(dY), b = mean(dY * xc), M = N H W:
 *   dX = k dY - (k inv^2 b) xc - k a,  dgamma = M inv b,  dbeta = M a.
 * A training step is memory-bound here, so the full-size tensors are swept
 * as few times as possible: dX is one per-channel scale of dY plus one
 * per-channel affine map of xc.
 */
const batchNorm: GradRule = (ctx, node, [dy], needed) => {
  if (!isTrainingBatchNorm(node)) return inferenceBatchNorm(ctx, node, dy!, needed);
  const gamma = ctx.v(node.inputs[1]);
  const { xc, variance, epsilon } = lowerBatchNorm(ctx.g, node, { runningStats: true, centred: true });
  const [n, c, h, w] = xc.shape;
  const inv = ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.add(ctx.reshape(variance, [1, c, 1, 1]), ctx.scalar(epsilon))], [1, c, 1, 1])], [1, c, 1, 1]);
  const scale = ctx.mul(ctx.reshape(gamma, [1, c, 1, 1]), inv);
  const m = n * h * w;
  const axes = [0, 2, 3];
  const g = dy!;
  const a = ctx.reduceMean(g, axes);
  const b = ctx.reduceMean(ctx.mul(g, xc), axes);
  const grads: (Value | undefined)[] = [];
  if (needed[0]) {
    const slope = ctx.op("Neg", [ctx.mul(ctx.mul(scale, ctx.mul(inv, inv)), b)], [1, c, 1, 1]);
    const offset = ctx.op("Neg", [ctx.mul(scale, a)], [1, c, 1, 1]);
    grads[0] = ctx.add(ctx.mul(g, scale), channelAffine(ctx, xc, slope, offset));
  }
  if (needed[1]) grads[1] = ctx.reshape(ctx.mul(ctx.mul(inv, b), ctx.scalar(m)), [c]);
  if (needed[2]) grads[2] = ctx.reshape(ctx.mul(a, ctx.scalar(m)), [c]);
  return grads;
};

/**
 * BatchNormalization on its running statistics (constants): y = (x - mean) k + beta with
 * k = gamma / sqrt(var + eps), so dX = k dY per channel (synflow's pass). Its own parameters are
 * not differentiated in this mode.
 */
function inferenceBatchNorm(ctx: GradContext, node: NodeSpec, dy: Value, needed: readonly boolean[]): (Value | undefined)[] {
  if (needed.slice(1).some(Boolean)) throw new DasError("UNSUPPORTED_OP", `BatchNormalization ${node.name} on running statistics: only its input is differentiated`);
  const c = dy.shape[1];
  const eps = node.attrs?.epsilon?.kind === "float" ? node.attrs.epsilon.value : 1e-5;
  const std = ctx.op("Sqrt", [ctx.add(ctx.v(node.inputs[4]), ctx.scalar(eps))], [c]);
  const k = ctx.op("Div", [ctx.v(node.inputs[1]), std], [c]);
  return [channelAffine(ctx, dy, k, ctx.g.initializer("affine_zero", [c], new Float32Array(c)))];
}

/**
 * x * scale + shift per channel in one sweep: BatchNormalization in inference
 * mode with mean 0, variance 1 and epsilon 0 is exactly that affine map.
 */
function channelAffine(ctx: GradContext, x: Value, scale: Value, shift: Value): Value {
  const c = x.shape[1];
  const zeros = ctx.g.initializer("affine_zero", [c], new Float32Array(c));
  const ones = ctx.g.initializer("affine_one", [c], new Float32Array(c).fill(1));
  return ctx.op("BatchNormalization", [x, ctx.reshape(scale, [c]), ctx.reshape(shift, [c]), zeros, ones], x.shape, { epsilon: attr.float(0) });
}

/**
 * dY masked by x > 0, as a product with the mask cast to float: onnxruntime's
 * Where is a generic broadcasting kernel, 1.6x slower than Cast and Mul here
 * on [64, 64, 32, 32]. dY * 1 and dY * 0 are exact (-0 where dY < 0).
 */
const relu: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const pos = ctx.op("Greater", [x, ctx.scalar(0)], x.shape, undefined, "bool");
  return [ctx.mul(dy!, ctx.op("Cast", [pos], x.shape, { to: attr.int(1) }))];
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

/**
 * Average pooling: dX spreads dY / count back over each window. Two common
 * cases avoid a (slow, depthwise) ConvTranspose: with stride 1 and "same"
 * padding of an odd kernel the adjoint of window sums is the same window sum,
 * i.e. AveragePool counting the padding times k*k; with non-overlapping
 * windows that tile the input it is a nearest upsampling.
 */
const averagePool: GradRule = (ctx, node, [dy]) => {
  const x = ctx.v(node.inputs[0]);
  const [n, c, h, w] = x.shape;
  const [kh, kw] = intsAttr(node, "kernel_shape", [1, 1]);
  const [sh, sw] = intsAttr(node, "strides", [1, 1]);
  const [ph, pw, ph2, pw2] = intsAttr(node, "pads", [0, 0, 0, 0]);
  if (ph !== ph2 || pw !== pw2) throw new DasError("UNSUPPORTED_OP", `AveragePool ${node.name}: asymmetric padding has no gradient rule`);
  const includePad = intAttr(node, "count_include_pad", 0) === 1;
  const [, , ho, wo] = dy!.shape;
  const weights = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++)
    for (let j = 0; j < wo; j++) {
      const rows = includePad ? kh : Math.min(i * sh - ph + kh, h) - Math.max(i * sh - ph, 0);
      const cols = includePad ? kw : Math.min(j * sw - pw + kw, w) - Math.max(j * sw - pw, 0);
      weights[i * wo + j] = 1 / (rows * cols);
    }
  const sameWindows = sh === 1 && sw === 1 && kh % 2 === 1 && kw % 2 === 1 && 2 * ph === kh - 1 && 2 * pw === kw - 1;
  if (sameWindows) {
    for (let i = 0; i < weights.length; i++) weights[i] *= kh * kw;
    const scaled = ctx.mul(dy!, ctx.g.initializer("pool_weight", [1, 1, ho, wo], weights));
    return [ctx.op("AveragePool", [scaled], x.shape, { kernel_shape: attr.ints([kh, kw]), pads: attr.ints([ph, pw, ph, pw]), count_include_pad: attr.int(1) })];
  }
  const scaled = ctx.mul(dy!, ctx.g.initializer("pool_weight", [1, 1, ho, wo], weights));
  if (sh === kh && sw === kw && ph === 0 && pw === 0 && h === ho * kh && w === wo * kw) {
    const spread = ctx.op("Expand", [ctx.reshape(scaled, [n, c, ho, 1, wo, 1]), ctx.ints([n, c, ho, kh, wo, kw])], [n, c, ho, kh, wo, kw]);
    return [ctx.reshape(spread, x.shape)];
  }
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
  const [, indices] = ctx.g.opMulti("MaxPool", [x], [{ shape: dy!.shape }, { shape: dy!.shape, dtype: "int64" }], node.attrs);
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
