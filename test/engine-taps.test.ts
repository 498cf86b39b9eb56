import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { bundledCifar10 } from "./shared-data.js";
import {
  atomicMetrics,
  buildNb201,
  getSpace,
  chooseTapStrategy,
  encodeModel,
  hammingKernelFromCodes,
  parseNb201,
  scoreNetwork,
  scoringBatch,
  TAP_STRATEGIES,
  type RuntimeConfig,
} from "../core/src/index.js";

// Graph optimisations may reorder float arithmetic differently in graphs with different outputs,
// flipping the sign of pre-activations within rounding of zero (WOT moves by ~1e-4 relative).
// With them off, both paths compute bit-identical activations, so the tap arithmetic is checked exactly.
const runtime: RuntimeConfig = {
  ort,
  provider: "cpu",
  runtime: "onnxruntime-node",
  sessionOptions: { intraOpNumThreads: 2, graphOptimizationLevel: "disabled" },
};
const SMALL = { stemChannels: 4, cellsPerStage: 1, numClasses: 10 };
const N = 16;

/**
 * The reference path, as NASWOT's hooks do it: no folding, every ReLU input
 * fetched from the runtime, codes binarised on the host, one kernel per
 * ReLU module (multiplicity expanded), summed.
 */
async function referenceKernel(
  spec: string,
  images: Float32Array,
  space = "nb201",
  overrides: Record<string, number> = SMALL,
): Promise<{ kernel: Float64Array; units: number }> {
  const sp = getSpace(space);
  const built = sp.build(sp.parse(spec), { batchSize: N, seed: 3, overrides, foldZeros: false });
  const net = built.builder;
  for (const t of net.taps) net.graph.output(t.tensor);
  const session = await ort.InferenceSession.create(encodeModel(net.graph.build()), runtime.sessionOptions);
  const out = await session.run({ [built.input.name]: new ort.Tensor("float32", images, [...built.input.shape]) });
  const kernel = new Float64Array(N * N);
  let units = 0;
  for (const t of net.taps) {
    const x = out[t.tensor.name].data as Float32Array;
    const codes = Array.from({ length: N }, (_, i) => Array.from(x.subarray(i * t.units, (i + 1) * t.units), (v) => (v > 0 ? 1 : 0)));
    const k = hammingKernelFromCodes(codes);
    for (let m = 0; m < t.multiplicity; m++) for (let i = 0; i < k.length; i++) kernel[i] += k[i];
    units += t.units * t.multiplicity;
  }
  await session.release();
  return { kernel, units };
}

describe("activation taps against the NASWOT reference path", () => {
  let images: Float32Array;
  beforeAll(() => {
    images = scoringBatch(bundledCifar10(), N, 1);
  });

  it.each([
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
  ])("every tap strategy gives the reference kernel exactly: %s", async (spec) => {
    const ref = await referenceKernel(spec, images);
    const expected = atomicMetrics(ref.kernel, N, ref.units);
    for (const strategy of TAP_STRATEGIES) {
      const built = buildNb201(parseNb201(spec), { batchSize: N, seed: 3, overrides: SMALL });
      const s = await scoreNetwork(built, images, runtime, strategy);
      expect(s.activationUnits).toBe(ref.units);
      expect(s.wot).toBe(expected.wot);
      expect(s.distinguishing).toBe(expected.distinguishing);
      expect(Math.abs(s.wot - (N * Math.log(s.activationUnits) + s.distinguishing))).toBeLessThan(1e-9);
    }
  });

  it.each([
    ["nb101", JSON.stringify({ adjacency: [[0, 1, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], ops: ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"] }), { stemChannels: 8, stacks: 2, cellsPerStack: 1 }],
    ["darts", "Genotype(normal=[('sep_conv_3x3', 0), ('none', 1), ('dil_conv_5x5', 0), ('skip_connect', 1), ('max_pool_3x3', 2), ('avg_pool_3x3', 3), ('skip_connect', 0), ('sep_conv_5x5', 4)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('none', 1), ('dil_conv_3x3', 2), ('max_pool_3x3', 1), ('none', 0), ('none', 1), ('sep_conv_3x3', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])", { channels: 4, layers: 5 }],
  ])("%s: the engine's kernel equals the reference path's", async (space, spec, overrides) => {
    const ref = await referenceKernel(spec, images, space, overrides);
    const expected = atomicMetrics(ref.kernel, N, ref.units);
    const sp = getSpace(space);
    for (const strategy of TAP_STRATEGIES) {
      const s = await scoreNetwork(sp.build(sp.parse(spec), { batchSize: N, seed: 3, overrides }), images, runtime, strategy);
      expect(s.activationUnits).toBe(ref.units);
      expect(s.wot).toBe(expected.wot);
    }
  });

  it("measures every strategy and picks the fastest", async () => {
    const choice = await chooseTapStrategy(runtime, images, N);
    expect(Object.keys(choice.measured).sort()).toEqual([...TAP_STRATEGIES].sort());
    const times = Object.values(choice.measured) as number[];
    for (const t of times) expect(t).toBeGreaterThan(0);
    expect(choice.measured[choice.strategy]).toBe(Math.min(...times));
  });

  it("scores a cell disconnected from its input as singular: -Infinity, flagged, no NaN", async () => {
    const built = buildNb201(parseNb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), { batchSize: N, seed: 3 });
    const s = await scoreNetwork(built, images, runtime);
    expect(s.singular).toBe(true);
    expect(s.wot).toBe(-Infinity);
    expect(s.distinguishing).toBe(-Infinity);
    expect(s.liveTaps).toBe(0);
    // The same network computed without folding reaches the same verdict through the runtime.
    const ref = await referenceKernel("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", images);
    expect(atomicMetrics(ref.kernel, N, ref.units).singular).toBe(true);
  });
});
