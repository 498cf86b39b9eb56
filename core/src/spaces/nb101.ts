import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr } from "../onnx/model.js";
import { NetworkBuilder } from "../nn/network-builder.js";
import type { BuiltNetwork, NetworkOptions, SearchSpace } from "./search-space.js";

export const NB101_OPS = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"] as const;
export type Nb101Op = (typeof NB101_OPS)[number];

/** A pruned NB101 cell: adjacency (upper triangular, vertex 0 input, last output) and interior ops. */
export interface Nb101Cell {
  readonly matrix: readonly (readonly number[])[];
  /** ops[0] = "input", ops[last] = "output". */
  readonly ops: readonly string[];
}

const MAX_VERTICES = 7;
const MAX_EDGES = 9;
/** NB101 macro network: stem 128, 3 stacks of 3 cells, 10 classes (as the benchmark and NASWOT). */
export const NB101_DEFAULTS = { stemChannels: 128, stacks: 3, cellsPerStack: 3, numClasses: 10 } as const;

function specError(spec: string, part: string, reason: string): DasError {
  return new DasError(
    "INVALID_ARCH_SPEC",
    `invalid NB101 spec: ${reason} (at ${part}); expected {"adjacency": 7x7 upper-triangular 0/1 matrix, "ops": ["input", ..., "output"]} with ops ${NB101_OPS.join(", ")}`,
    { space: "nb101", spec, part, reason },
  );
}

/** Parses `{"adjacency": [[...]], "ops": [...]}` (also accepts "matrix"), validates and prunes it. */
export function parseNb101(spec: string): Nb101Cell {
  let raw: { adjacency?: unknown; matrix?: unknown; ops?: unknown };
  try {
    raw = JSON.parse(spec) as typeof raw;
  } catch {
    throw specError(spec, spec.slice(0, 40), "not JSON");
  }
  const matrix = raw?.adjacency ?? raw?.matrix;
  const ops = raw?.ops;
  if (!Array.isArray(matrix) || !matrix.every((r) => Array.isArray(r))) throw specError(spec, "adjacency", "adjacency must be a list of rows");
  if (!Array.isArray(ops)) throw specError(spec, "ops", "ops must be a list");
  const n = matrix.length;
  if (n < 2 || n > MAX_VERTICES) throw specError(spec, "adjacency", `needs 2..${MAX_VERTICES} vertices, found ${n}`);
  if (ops.length !== n) throw specError(spec, "ops", `${ops.length} ops for ${n} vertices`);
  matrix.forEach((row: unknown[], i: number) => {
    if (row.length !== n) throw specError(spec, `adjacency[${i}]`, `row has ${row.length} entries, expected ${n}`);
    row.forEach((v, j) => {
      if (v !== 0 && v !== 1) throw specError(spec, `adjacency[${i}][${j}]`, `entries must be 0 or 1, found ${JSON.stringify(v)}`);
      if (v === 1 && j <= i) throw specError(spec, `adjacency[${i}][${j}]`, "the matrix must be strictly upper triangular (a DAG in vertex order)");
    });
  });
  if (ops[0] !== "input") throw specError(spec, "ops[0]", `the first op must be "input", found ${JSON.stringify(ops[0])}`);
  if (ops[n - 1] !== "output") throw specError(spec, `ops[${n - 1}]`, `the last op must be "output", found ${JSON.stringify(ops[n - 1])}`);
  for (let i = 1; i < n - 1; i++) {
    if (!(NB101_OPS as readonly unknown[]).includes(ops[i])) throw specError(spec, `ops[${i}]`, `unknown op ${JSON.stringify(ops[i])}`);
  }
  const pruned = prune(matrix as number[][], ops as string[], spec);
  // Like NAS-Bench-101's is_valid, the edge limit applies after pruning.
  const edges = pruned.matrix.flat().reduce((a, b) => a + b, 0);
  if (edges > MAX_EDGES) throw specError(spec, "adjacency", `${edges} edges after pruning; NB101 allows at most ${MAX_EDGES}`);
  return pruned;
}

/**
 * NAS-Bench-101's ModelSpec._prune: drop vertices not on a path from input
 * to output. A spec with no such path is invalid.
 */
function prune(matrix: number[][], ops: string[], spec: string): Nb101Cell {
  const n = matrix.length;
  const fromInput = new Set([0]);
  for (let v = 0; v < n; v++) if (fromInput.has(v)) for (let w = v + 1; w < n; w++) if (matrix[v][w]) fromInput.add(w);
  const toOutput = new Set([n - 1]);
  for (let v = n - 1; v >= 0; v--) if (toOutput.has(v)) for (let u = 0; u < v; u++) if (matrix[u][v]) toOutput.add(u);
  const keep = [...Array(n).keys()].filter((v) => fromInput.has(v) && toOutput.has(v));
  if (!keep.includes(0) || !keep.includes(n - 1)) throw specError(spec, "adjacency", "no path from input to output");
  return { matrix: keep.map((i) => keep.map((j) => matrix[i][j])), ops: keep.map((i) => ops[i]) };
}

/**
 * Canonical form invariant under isomorphism: the lexicographically smallest
 * encoding over every relabelling of interior vertices that keeps the matrix
 * upper triangular (at most 5! = 120 of them).
 */
export function canonicalNb101(cell: Nb101Cell): string {
  const n = cell.matrix.length;
  let best: string | undefined;
  for (const perm of permutations([...Array(n - 2).keys()].map((i) => i + 1))) {
    const order = [0, ...perm, n - 1]; // new vertex k is old vertex order[k]
    let upper = true;
    for (let a = 0; a < n && upper; a++) for (let b = 0; b <= a && upper; b++) if (cell.matrix[order[a]][order[b]]) upper = false;
    if (!upper) continue;
    const enc = JSON.stringify({ adjacency: order.map((i) => order.map((j) => cell.matrix[i][j])), ops: order.map((i) => cell.ops[i]) });
    if (best === undefined || enc < best) best = enc;
  }
  return best!;
}

function* permutations(items: number[]): Generator<number[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) yield [items[i], ...rest];
  }
}

/** compute_vertex_channels of nasbench/lib/model_builder.py. */
export function vertexChannels(inChannels: number, outChannels: number, matrix: readonly (readonly number[])[]): number[] {
  const n = matrix.length;
  const ch = new Array<number>(n).fill(0);
  ch[0] = inChannels;
  ch[n - 1] = outChannels;
  if (n === 2) return ch;
  let inDegree = 0;
  for (let v = 1; v < n; v++) inDegree += matrix[v][n - 1];
  const interior = Math.floor(outChannels / inDegree);
  let correction = outChannels % inDegree;
  for (let v = 1; v < n - 1; v++) {
    if (matrix[v][n - 1]) {
      ch[v] = interior;
      if (correction) {
        ch[v]++;
        correction--;
      }
    }
  }
  for (let v = n - 3; v > 0; v--) {
    if (!matrix[v][n - 1]) for (let dst = v + 1; dst < n - 1; dst++) if (matrix[v][dst]) ch[v] = Math.max(ch[v], ch[dst]);
  }
  return ch;
}

function convBnRelu(net: NetworkBuilder, x: Value, c: number, kernel: number): Value {
  return net.relu(net.batchNorm(net.conv2d(x, { outChannels: c, kernel, padding: (kernel - 1) >> 1 })));
}

/** The first `c` channels (nasbench's truncate). */
function truncate(net: NetworkBuilder, x: Value, c: number): Value {
  if (x.shape[1] === c) return x;
  if (x.shape[1] < c) throw new DasError("INTERNAL", `truncate: ${x.shape[1]} channels < ${c}`);
  const g = net.graph;
  return g.op("Slice", [x, g.int64s("starts", [0]), g.int64s("ends", [c]), g.int64s("axes", [1])], [x.shape[0], c, x.shape[2], x.shape[3]]);
}

function cell(net: NetworkBuilder, x: Value, spec: Nb101Cell, outChannels: number): Value {
  const { matrix, ops } = spec;
  const n = matrix.length;
  const ch = vertexChannels(x.shape[1], outChannels, matrix);
  const tensors: Value[] = [x];
  const concat: Value[] = [];
  for (let t = 1; t < n - 1; t++) {
    const fanIn: Value[] = [];
    for (let src = 1; src < t; src++) if (matrix[src][t]) fanIn.push(truncate(net, tensors[src], ch[t]));
    if (matrix[0][t]) fanIn.push(convBnRelu(net, x, ch[t], 1)); // projection
    const input = net.sum(fanIn);
    let out: Value;
    if (ops[t] === "maxpool3x3") {
      out = net.graph.op("MaxPool", [input], input.shape, { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]), pads: attr.ints([1, 1, 1, 1]) });
    } else out = convBnRelu(net, input, ch[t], ops[t] === "conv3x3-bn-relu" ? 3 : 1);
    tensors.push(out);
    if (matrix[t][n - 1]) concat.push(out);
  }
  if (concat.length === 0) return convBnRelu(net, x, outChannels, 1);
  const [b, , h, w] = concat[0].shape;
  let out = concat.length === 1 ? concat[0] : net.graph.op("Concat", concat, [b, concat.reduce((a, v) => a + v.shape[1], 0), h, w], { axis: attr.int(1) });
  if (matrix[0][n - 1]) out = net.sum([out, convBnRelu(net, x, outChannels, 1)]);
  return out;
}

/** The NB101 network (nasbench model_builder, as ported to PyTorch for NASWOT). */
export function buildNb101(spec: Nb101Cell, o: NetworkOptions): BuiltNetwork {
  const { stemChannels, stacks, cellsPerStack, numClasses } = { ...NB101_DEFAULTS, ...o.overrides };
  const net = new NetworkBuilder(o.batchSize, o.seed, "nb101", o.foldZeros ?? true, o.shareRelus ?? true, o.batchNormStats ?? "batch");
  const input = net.input([3, 32, 32]);
  let x = convBnRelu(net, input, stemChannels, 3);
  let channels = stemChannels;
  for (let s = 0; s < stacks; s++) {
    if (s > 0) {
      x = net.graph.op("MaxPool", [x], [x.shape[0], x.shape[1], x.shape[2] / 2, x.shape[3] / 2], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
      channels *= 2;
    }
    for (let i = 0; i < cellsPerStack; i++) x = cell(net, x, spec, channels);
  }
  const logits = net.linear(net.globalAvgPoolFlat(x), numClasses);
  return { builder: net, input, logits };
}

/** CSV rows hold `adjacency` and `ops` columns; the CLI and API take one JSON object. */
export function nb101SpecFromRow(row: Readonly<Record<string, string>>): string {
  try {
    return JSON.stringify({ adjacency: JSON.parse(row.adjacency) as unknown, ops: JSON.parse(row.ops) as unknown });
  } catch {
    throw specError(`${row.adjacency} ${row.ops}`, "adjacency/ops columns", "the CSV's adjacency and ops columns must hold JSON lists");
  }
}

export const nb101Space: SearchSpace<Nb101Cell> = {
  name: "nb101",
  specColumn: "adjacency",
  specFromRow: nb101SpecFromRow,
  parse: parseNb101,
  canonical: canonicalNb101,
  build: buildNb101,
  inputShape: [3, 32, 32],
};
