import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr } from "../onnx/model.js";
import { NetworkBuilder } from "../nn/network-builder.js";
import type { BuiltNetwork, NetworkOptions, SearchSpace } from "./search-space.js";

export const DARTS_OPS = [
  "none",
  "max_pool_3x3",
  "avg_pool_3x3",
  "skip_connect",
  "sep_conv_3x3",
  "sep_conv_5x5",
  "dil_conv_3x3",
  "dil_conv_5x5",
] as const;
export type DartsOp = (typeof DARTS_OPS)[number];

export interface DartsGenotype {
  /** Two (op, input) pairs per intermediate node; inputs 0, 1 are the cell inputs, k >= 2 node k. */
  readonly normal: readonly (readonly [DartsOp, number])[];
  readonly normalConcat: readonly number[];
  readonly reduce: readonly (readonly [DartsOp, number])[];
  readonly reduceConcat: readonly number[];
}

/** NAS-Bench-301's training network: C = 32, 8 cells (reductions at 1/3 and 2/3 depth), CIFAR-10. */
export const DARTS_DEFAULTS = { channels: 32, layers: 8, numClasses: 10, stemMultiplier: 3 } as const;

function specError(spec: string, part: string, reason: string): DasError {
  return new DasError(
    "INVALID_ARCH_SPEC",
    `invalid DARTS genotype: ${reason} (at ${JSON.stringify(part)}); expected ` +
      `Genotype(normal=[('op', input), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...]) with ops ${DARTS_OPS.join(", ")}`,
    { space: "darts", spec, part, reason },
  );
}

function parseEdges(spec: string, name: string, text: string | undefined): [DartsOp, number][] {
  if (text === undefined) throw specError(spec, name, `missing ${name}=[...]`);
  const edges: [DartsOp, number][] = [];
  const re = /\(\s*['"]([a-z0-9_]+)['"]\s*,\s*(\d+)\s*\)/g;
  const rest = text.replace(re, (_, op: string, input: string) => {
    if (!(DARTS_OPS as readonly string[]).includes(op)) throw specError(spec, op, `unknown op '${op}' in ${name}`);
    edges.push([op as DartsOp, Number(input)]);
    return "";
  });
  if (rest.replace(/[\s,]/g, "") !== "") throw specError(spec, text, `${name} must be a list of ('op', input) pairs`);
  if (edges.length === 0 || edges.length % 2 !== 0) throw specError(spec, name, `${name} needs two edges per node, found ${edges.length}`);
  edges.forEach(([op, input], k) => {
    const node = (k >> 1) + 2;
    if (input >= node) throw specError(spec, `('${op}', ${input})`, `node ${node} in ${name} can only read states 0..${node - 1}`);
  });
  return edges;
}

function parseConcat(spec: string, name: string, text: string | undefined, states: number): number[] {
  if (text === undefined) throw specError(spec, name, `missing ${name}=[...]`);
  const items = text.split(",").map((t) => t.trim()).filter(Boolean);
  const values = items.map(Number);
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 0 || v >= states)) {
    throw specError(spec, `${name}=[${text}]`, `${name} must list states in 0..${states - 1}`);
  }
  return values;
}

/** Parses the `Genotype(...)` string that DARTS, NB301 and NASLib print. */
export function parseDarts(spec: string): DartsGenotype {
  const text = spec.trim();
  if (!/^Genotype\s*\(.*\)$/s.test(text)) throw specError(spec, text.slice(0, 30), "must start with Genotype(");
  const field = (name: string) => new RegExp(`\\b${name}\\s*=\\s*\\[([^\\]]*)\\]`).exec(text)?.[1];
  const normal = parseEdges(spec, "normal", field("normal"));
  const reduce = parseEdges(spec, "reduce", field("reduce"));
  return {
    normal,
    normalConcat: parseConcat(spec, "normal_concat", field("normal_concat"), normal.length / 2 + 2),
    reduce,
    reduceConcat: parseConcat(spec, "reduce_concat", field("reduce_concat"), reduce.length / 2 + 2),
  };
}

/** Edges of a node sorted, so the two orders of a node's pair hash alike. */
export function formatDarts(g: DartsGenotype): string {
  const edges = (e: readonly (readonly [DartsOp, number])[]) => {
    const pairs: string[] = [];
    for (let k = 0; k < e.length; k += 2) {
      const node = [e[k], e[k + 1]].map(([op, i]) => `('${op}', ${i})`).sort();
      pairs.push(...node);
    }
    return `[${pairs.join(", ")}]`;
  };
  return `Genotype(normal=${edges(g.normal)}, normal_concat=[${g.normalConcat.join(", ")}], reduce=${edges(g.reduce)}, reduce_concat=[${g.reduceConcat.join(", ")}])`;
}

// ---- operations (quark0/darts operations.py) ----
// NAS-Bench-301's networks build the edge operations with affine=False BatchNorm and the cell
// preprocessing with affine=True: that is what makes our parameter counts equal theirs.
const OP_AFFINE = false;

function reluConvBn(net: NetworkBuilder, x: Value, c: number, k: number, stride: number, pad: number): Value {
  return net.batchNorm(net.conv2d(net.relu(x), { outChannels: c, kernel: k, stride, padding: pad }));
}

function dilConv(net: NetworkBuilder, x: Value, c: number, k: number, stride: number, pad: number, dilation: number): Value {
  const cin = x.shape[1];
  const dw = net.conv2d(net.relu(x), { outChannels: cin, kernel: k, stride, padding: pad, dilation, groups: cin });
  return net.batchNorm(net.conv2d(dw, { outChannels: c, kernel: 1 }), OP_AFFINE);
}

function sepConv(net: NetworkBuilder, x: Value, c: number, k: number, stride: number, pad: number): Value {
  const y = dilConv(net, x, x.shape[1], k, stride, pad, 1);
  return dilConv(net, y, c, k, 1, pad, 1);
}

/** ReLU, two 1x1 stride-2 convs (the second on the input shifted by one pixel), concat, BN. */
function factorizedReduce(net: NetworkBuilder, x: Value, c: number, affine: boolean): Value {
  const r = net.relu(x);
  const a = net.conv2d(r, { outChannels: c >> 1, kernel: 1, stride: 2 });
  const g = net.graph;
  const [n, ch, h, w] = r.shape;
  const shifted = r.zero
    ? net.zeros([n, ch, h - 1, w - 1])
    : g.op("Slice", [r, g.int64s("starts", [1, 1]), g.int64s("ends", [h, w]), g.int64s("axes", [2, 3])], [n, ch, h - 1, w - 1]);
  const b = net.conv2d(shifted, { outChannels: c - (c >> 1), kernel: 1, stride: 2 });
  const cat = a.zero && b.zero ? net.zeros([n, c, a.shape[2], a.shape[3]]) : concat(net, [a, b]);
  return net.batchNorm(cat, affine);
}

function concat(net: NetworkBuilder, xs: readonly Value[]): Value {
  const live = xs.map((x) => (x.zero ? net.materialize(x) : x));
  if (live.length === 1) return live[0];
  const [n, , h, w] = live[0].shape;
  return net.graph.op("Concat", live, [n, live.reduce((a, v) => a + v.shape[1], 0), h, w], { axis: attr.int(1) });
}

function maxPool(net: NetworkBuilder, x: Value, stride: number): Value {
  const [n, c, h, w] = x.shape;
  const shape = [n, c, Math.floor((h + 2 - 3) / stride) + 1, Math.floor((w + 2 - 3) / stride) + 1];
  if (x.zero) return net.zeros(shape);
  return net.graph.op("MaxPool", [x], shape, { kernel_shape: attr.ints([3, 3]), strides: attr.ints([stride, stride]), pads: attr.ints([1, 1, 1, 1]) });
}

function applyOp(net: NetworkBuilder, op: DartsOp, x: Value, c: number, stride: number): Value {
  switch (op) {
    case "none": {
      const [n, ch, h, w] = x.shape;
      return net.zeros([n, ch, Math.ceil(h / stride), Math.ceil(w / stride)]);
    }
    case "avg_pool_3x3":
      return net.avgPool(x, { kernel: 3, stride, padding: 1 });
    case "max_pool_3x3":
      return maxPool(net, x, stride);
    case "skip_connect":
      return stride === 1 ? x : factorizedReduce(net, x, c, OP_AFFINE);
    case "sep_conv_3x3":
      return sepConv(net, x, c, 3, stride, 1);
    case "sep_conv_5x5":
      return sepConv(net, x, c, 5, stride, 2);
    case "dil_conv_3x3":
      return dilConv(net, x, c, 3, stride, 2, 2);
    case "dil_conv_5x5":
      return dilConv(net, x, c, 5, stride, 4, 2);
  }
}

function cell(net: NetworkBuilder, g: DartsGenotype, s0: Value, s1: Value, c: number, reduction: boolean, reductionPrev: boolean): Value {
  const p0 = reductionPrev ? factorizedReduce(net, s0, c, true) : reluConvBn(net, s0, c, 1, 1, 0);
  const p1 = reluConvBn(net, s1, c, 1, 1, 0);
  const edges = reduction ? g.reduce : g.normal;
  const states = [p0, p1];
  for (let k = 0; k < edges.length; k += 2) {
    const outs = [edges[k], edges[k + 1]].map(([op, i]) => applyOp(net, op, states[i], c, reduction && i < 2 ? 2 : 1));
    states.push(net.sum(outs));
  }
  return concat(net, (reduction ? g.reduceConcat : g.normalConcat).map((i) => states[i]));
}

/** DARTS NetworkCIFAR (quark0/darts model.py) without the auxiliary head. */
export function buildDarts(g: DartsGenotype, o: NetworkOptions): BuiltNetwork {
  const { channels, layers, numClasses, stemMultiplier } = { ...DARTS_DEFAULTS, ...o.overrides };
  const net = new NetworkBuilder(o.batchSize, o.seed, "darts", o.foldZeros ?? true, o.shareRelus ?? true, o.batchNormStats ?? "batch");
  const input = net.input([3, 32, 32]);
  const stem = net.batchNorm(net.conv2d(input, { outChannels: stemMultiplier * channels, kernel: 3, padding: 1 }));
  let s0 = stem;
  let s1 = stem;
  let c = channels;
  let reductionPrev = false;
  for (let i = 0; i < layers; i++) {
    const reduction = i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
    if (reduction) c *= 2;
    const out = cell(net, g, s0, s1, c, reduction, reductionPrev);
    [s0, s1] = [s1, out];
    reductionPrev = reduction;
  }
  const logits = net.linear(net.globalAvgPoolFlat(s1.zero ? net.materialize(s1) : s1), numClasses);
  return { builder: net, input, logits };
}

export const dartsSpace: SearchSpace<DartsGenotype> = {
  name: "darts",
  specColumn: "genotype",
  parse: parseDarts,
  canonical: formatDarts,
  build: buildDarts,
  inputShape: [3, 32, 32],
};
