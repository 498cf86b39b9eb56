import { DasError } from "../errors.js";
import { PopcountGram } from "./popcount-gram.js";
import { attr } from "../onnx/model.js";
import type { ActivationTap, NetworkBuilder } from "../nn/network-builder.js";

/**
 * How the codes leave the runtime. All are exact and give the same
 * G = sum_t m_t C_t C_t^T:
 * - `gram-int8`: per tapped tensor, C C^T with MatMulInteger (uint8 codes x
 *   int8 codes, int32 accumulation), weighted and summed in the graph; only
 *   an N x N matrix leaves the runtime.
 * - `gram-f32`: the same product per tap as a float32 Gemm (exact: each tap's
 *   counts stay below 2^24), cast to int32 before the taps are summed.
 * - `bits`: one byte per unit leaves the runtime (Greater); the host packs
 *   bits and counts with popcount (WebAssembly).
 */
export const TAP_STRATEGIES = ["gram-int8", "gram-f32", "bits"] as const;
export type TapStrategy = (typeof TAP_STRATEGIES)[number];

/** ONNX TensorProto codes used by Cast. */
const CAST_TO = { float32: 1, uint8: 2, int8: 3, int32: 6 } as const;
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

/** Kernel entries are int32 counts up to N_A: refuse networks whose weighted unit count could overflow them. */
export function checkCountRange(unitCount: number): void {
  if (!(unitCount < 2 ** 31)) {
    throw new DasError("MODEL_TOO_LARGE", `${unitCount} ReLU units per image (with multiplicity) exceed the exact int32 range of the kernel`);
  }
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

/** What the scoring graph hands out, and how to turn it into G. */
export interface TapReadout {
  readonly outputs: readonly string[];
  gram(results: Readonly<Record<string, { readonly data: unknown }>>): Promise<ArrayLike<number>>;
}

/**
 * Appends the tap reduction to a network graph and marks its outputs.
 * Returns undefined when no tap is live (every ReLU reads a tensor known to
 * be zero): then G = 0 and nothing needs to run.
 */
export function attachTaps(net: NetworkBuilder, strategy: TapStrategy): TapReadout | undefined {
  const g = net.graph;
  const live = net.taps.filter((t) => !t.tensor.zero);
  if (live.length === 0) return undefined;
  const n = net.batchSize;
  const tooBig = live.find((t) => t.units * t.multiplicity >= F32_EXACT_LIMIT);
  if (strategy === "gram-f32" && tooBig) {
    throw new DasError("INVALID_ARGUMENT", `gram-f32 is exact only below 2^24 units per tap; ${tooBig.tensor.name} has ${tooBig.units * tooBig.multiplicity}`);
  }
  checkCountRange(summariseTaps(net.taps).unitCount);
  const flatShape = g.int64s("flat_shape", [n, -1]);
  const zero = g.scalar("zero", 0);
  const codes = live.map((tap) => g.op("Greater", [g.op("Reshape", [tap.tensor, flatShape], [n, tap.units]), zero], [n, tap.units], undefined, "bool"));
  if (strategy === "bits") {
    for (const c of codes) g.output(c);
    return {
      outputs: codes.map((c) => c.name),
      async gram(results) {
        const pg = await PopcountGram.create(n);
        live.forEach((tap, i) => pg.accumulate(results[codes[i].name].data as Uint8Array, tap.units, tap.multiplicity));
        return pg.result();
      },
    };
  }
  const grams = live.map((tap, i) => {
    const pos = codes[i];
    if (strategy === "gram-f32") {
      const c = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.float32) });
      const gram = g.op("Gemm", [c, c], [n, n], { transB: attr.int(1), alpha: attr.float(tap.multiplicity) });
      return g.op("Cast", [gram], [n, n], { to: attr.int(CAST_TO.int32) }, "int32");
    }
    const a = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.uint8) }, "uint8");
    const b = g.op("Cast", [pos], [n, tap.units], { to: attr.int(CAST_TO.int8) }, "int8");
    const bT = g.op("Transpose", [b], [tap.units, n], { perm: attr.ints([1, 0]) }, "int8");
    const gram = g.op("MatMulInteger", [a, bT], [n, n], undefined, "int32");
    return tap.multiplicity > 1 ? g.op("Mul", [gram, g.scalar("mult", tap.multiplicity, "int32")], [n, n], undefined, "int32") : gram;
  });
  let total = grams[0];
  for (let i = 1; i < grams.length; i++) total = g.op("Add", [total, grams[i]], [n, n], undefined, "int32");
  g.output(total);
  return { outputs: [total.name], gram: async (results) => results[total.name].data as ArrayLike<number> };
}
