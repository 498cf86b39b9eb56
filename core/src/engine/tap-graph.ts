import { DasError } from "../errors.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr } from "../onnx/model.js";
import type { ActivationTap, NetworkBuilder } from "../nn/network-builder.js";

/**
 * How the codes leave the runtime:
 * - `gram-int8`: per tapped tensor, C C^T with MatMulInteger (uint8 codes x
 *   int8 codes, int32 accumulation: exact), weighted and summed in the graph.
 * - `gram-f32`: the same product as a float32 Gemm (exact below 2^24 per entry).
 * Only an N x N matrix G = sum_t m_t C_t C_t^T leaves the runtime.
 */
export const TAP_STRATEGIES = ["gram-int8", "gram-f32"] as const;
export type TapStrategy = (typeof TAP_STRATEGIES)[number];

/** ONNX TensorProto codes used by Cast. */
const CAST_TO = { float32: 1, uint8: 2, int8: 3 } as const;
/** float32 represents integers exactly up to 2^24. */
const F32_EXACT_LIMIT = 2 ** 24;

export interface TapSummary {
  /** N_A: units per sample summed over every ReLU module (multiplicity included, zero tensors too). */
  readonly unitCount: number;
  /** ReLU modules in the reference network. */
  readonly reluCount: number;
  /** Distinct tensors the graph actually reduces. */
  readonly liveTaps: number;
}

export function summariseTaps(taps: readonly ActivationTap[]): TapSummary {
  let unitCount = 0;
  let reluCount = 0;
  let liveTaps = 0;
  for (const t of taps) {
    unitCount += t.units * t.multiplicity;
    reluCount += t.multiplicity;
    if (!t.tensor.zero) liveTaps++;
  }
  return { unitCount, reluCount, liveTaps };
}

/**
 * Appends the tap reduction to a network graph and marks G as the graph's
 * output. Returns undefined when no tap is live (every ReLU reads a tensor
 * known to be zero): then G = 0 and nothing needs to run.
 */
export function attachGramOutput(net: NetworkBuilder, strategy: TapStrategy): Value | undefined {
  const g = net.graph;
  const live = net.taps.filter((t) => !t.tensor.zero);
  if (live.length === 0) return undefined;
  const n = net.batchSize;
  const { unitCount } = summariseTaps(net.taps);
  if (strategy === "gram-f32" && unitCount >= F32_EXACT_LIMIT) {
    throw new DasError("INVALID_ARGUMENT", `gram-f32 is exact only below 2^24 units; this network has ${unitCount}`);
  }
  const flatShape = g.int64s("flat_shape", [n, -1]);
  const zero = g.scalar("zero", 0);
  const grams: Value[] = [];
  for (const tap of live) {
    const flat = g.op("Reshape", [tap.tensor, flatShape], [n, tap.units]);
    const pos = g.op("Greater", [flat, zero], [n, tap.units], undefined, "bool");
    let gram: Value;
    if (strategy === "gram-int8") {
      const a = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.uint8) }, "uint8");
      const b = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.int8) }, "int8");
      const bT = g.op("Transpose", [b], [tap.units, n], { perm: attr.ints([1, 0]) }, "int8");
      gram = g.op("MatMulInteger", [a, bT], [n, n], undefined, "int32");
      if (tap.multiplicity > 1) gram = g.op("Mul", [gram, g.scalar("mult", tap.multiplicity, "int32")], [n, n], undefined, "int32");
    } else {
      const c = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.float32) });
      gram = g.op("Gemm", [c, c], [n, n], { transB: attr.int(1), alpha: attr.float(tap.multiplicity) });
    }
    grams.push(gram);
  }
  const dtype = strategy === "gram-int8" ? "int32" : "float32";
  let total = grams[0];
  for (let i = 1; i < grams.length; i++) total = g.op("Add", [total, grams[i]], [n, n], undefined, dtype);
  g.output(total);
  return total;
}
