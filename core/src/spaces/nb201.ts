import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { NetworkBuilder } from "../nn/network-builder.js";
import type { BuiltNetwork, NetworkOptions, SearchSpace } from "./search-space.js";

/** The five NB201 edge operations. */
export const NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

/** `cell[j - 1][i]` is the op on edge i -> j (nodes 0..3, node 0 the cell input). */
export type Nb201Cell = readonly (readonly Nb201Op[])[];

const CELL_NODES = 4;
/** NB201 macro network: 3 stages of 5 cells, widths 16/32/64, 10 classes (CIFAR-10). */
export const NB201_DEFAULTS = { stemChannels: 16, cellsPerStage: 5, numClasses: 10 } as const;

function specError(spec: string, part: string, reason: string): DasError {
  return new DasError(
    "INVALID_ARCH_SPEC",
    `invalid NB201 spec ${JSON.stringify(spec)}: ${reason} (at ${JSON.stringify(part)}); ` +
      `expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with ops ${NB201_OPS.join(", ")}`,
    { space: "nb201", spec, part, reason },
  );
}

/** Parses `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`; edges within a node may come in any order. */
export function parseNb201(spec: string): Nb201Cell {
  const text = spec.trim();
  const nodes = text.split("+");
  if (nodes.length !== CELL_NODES - 1) {
    throw specError(spec, text, `expected ${CELL_NODES - 1} nodes separated by '+', found ${nodes.length}`);
  }
  return nodes.map((node, j) => {
    if (!/^\|.*\|$/.test(node)) throw specError(spec, node, "a node must start and end with '|'");
    const edges = node.slice(1, -1).split("|");
    if (edges.length !== j + 1) throw specError(spec, node, `node ${j + 1} needs ${j + 1} edges, found ${edges.length}`);
    const ops = new Array<Nb201Op | undefined>(j + 1).fill(undefined);
    for (const edge of edges) {
      const m = /^([a-z0-9_]+)~(\d+)$/.exec(edge);
      if (!m) throw specError(spec, edge, "an edge must look like op~input");
      const [, op, inputText] = m;
      if (!(NB201_OPS as readonly string[]).includes(op)) throw specError(spec, edge, `unknown op '${op}'`);
      const input = Number(inputText);
      if (input > j) throw specError(spec, edge, `node ${j + 1} can only read nodes 0..${j}`);
      if (ops[input] !== undefined) throw specError(spec, edge, `input ${input} appears twice`);
      ops[input] = op as Nb201Op;
    }
    return ops as Nb201Op[];
  });
}

export function formatNb201(cell: Nb201Cell): string {
  return cell.map((node) => "|" + node.map((op, i) => `${op}~${i}`).join("|") + "|").join("+");
}

/**
 * The NB201 TinyNetwork (AutoDL-Projects, cell_infers/tiny_network.py):
 * stem conv3x3 + BN; 3 stages of cells with ResNet basic blocks (stride 2)
 * between; BN + ReLU; global average pool; linear.
 */
export function buildNb201(cell: Nb201Cell, o: NetworkOptions): BuiltNetwork {
  const { stemChannels, cellsPerStage, numClasses } = { ...NB201_DEFAULTS, ...o.overrides };
  const net = new NetworkBuilder(o.batchSize, o.seed, "nb201", o.foldZeros ?? true, o.shareRelus ?? true, o.batchNormStats ?? "batch");
  const input = net.input([3, 32, 32]);
  let x = input;
  x = net.batchNorm(net.conv2d(x, { outChannels: stemChannels, kernel: 3, padding: 1 }));
  for (let stage = 0; stage < 3; stage++) {
    const c = stemChannels * 2 ** stage;
    if (stage > 0) x = resnetBasicBlock(net, x, c);
    for (let i = 0; i < cellsPerStage; i++) x = inferCell(net, x, cell);
  }
  const features = net.relu(net.batchNorm(x));
  const logits = net.linear(net.globalAvgPoolFlat(features), numClasses);
  return { builder: net, input, logits };
}

function reluConvBn(net: NetworkBuilder, x: Value, c: number, kernel: number, stride: number): Value {
  return net.batchNorm(net.conv2d(net.relu(x), { outChannels: c, kernel, stride, padding: (kernel - 1) >> 1 }));
}

function edge(net: NetworkBuilder, op: Nb201Op, x: Value): Value {
  const c = x.shape[1];
  switch (op) {
    case "none":
      return net.zeros(x.shape);
    case "skip_connect":
      return x;
    case "nor_conv_1x1":
      return reluConvBn(net, x, c, 1, 1);
    case "nor_conv_3x3":
      return reluConvBn(net, x, c, 3, 1);
    case "avg_pool_3x3":
      return net.avgPool(x, { kernel: 3, stride: 1, padding: 1 });
  }
}

function inferCell(net: NetworkBuilder, input: Value, cell: Nb201Cell): Value {
  const nodes = [input];
  for (const ops of cell) nodes.push(net.sum(ops.map((op, i) => edge(net, op, nodes[i]))));
  return nodes[CELL_NODES - 1];
}

/** ResNetBasicblock(stride 2): conv_a, conv_b (ReLU-Conv-BN) + avgpool/conv1x1 shortcut, no final ReLU. */
function resnetBasicBlock(net: NetworkBuilder, x: Value, c: number): Value {
  const a = reluConvBn(net, x, c, 3, 2);
  const b = reluConvBn(net, a, c, 3, 1);
  const shortcut = net.conv2d(net.avgPool(x, { kernel: 2, stride: 2 }), { outChannels: c, kernel: 1 });
  return net.sum([shortcut, b]);
}

export const nb201Space: SearchSpace<Nb201Cell> = {
  name: "nb201",
  specColumn: "arch",
  parse: parseNb201,
  canonical: formatNb201,
  build: buildNb201,
  inputShape: [3, 32, 32],
};
