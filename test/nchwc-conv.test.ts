import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { attr, buildTrainingStep, encodeModel, initialStepFeeds, GraphBuilder, lowerRuntimeWeightConvs, nchwcBlockSize, NCHWC_DOMAIN, type RuntimeConfig } from "../core/src/index.js";
import { Rng } from "../core/src/util/rng.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const block = await nchwcBlockSize(runtime);
const why = block ? "" : " (skipped: this onnxruntime build has no NCHWc kernels)";

// onnxruntime's CPU build has NCHWc kernels on every x86-64 machine (block 8 with AVX2, 16 with AVX-512):
// a probe that found none there would be a bug that silently skips the tests below.
it.runIf(process.arch === "x64")("the NCHWc probe finds a block size on x86-64", () => {
  expect([8, 16]).toContain(block);
});

interface ConvCase {
  readonly name: string;
  readonly cIn: number;
  readonly cOut: number;
  readonly k: number;
  readonly stride?: number;
  readonly dilation?: number;
  readonly group?: number;
  readonly size: number;
  readonly bias?: boolean;
  /** Whether the rewrite applies. */
  readonly lowered: boolean;
}

function convGraph(c: ConvCase) {
  const g = new GraphBuilder("conv");
  const s = c.stride ?? 1;
  const d = c.dilation ?? 1;
  const p = (d * (c.k - 1)) >> 1;
  const out = Math.floor((c.size + 2 * p - d * (c.k - 1) - 1) / s) + 1;
  const x = g.input("x", [2, c.cIn, c.size, c.size]);
  const w = g.input("w", [c.cOut, c.cIn / (c.group ?? 1), c.k, c.k]);
  const inputs = c.bias ? [x, w, g.input("b", [c.cOut])] : [x, w];
  const attrs = { kernel_shape: attr.ints([c.k, c.k]), pads: attr.ints([p, p, p, p]), strides: attr.ints([s, s]), dilations: attr.ints([d, d]), group: attr.int(c.group ?? 1) };
  g.output(g.op("Conv", inputs, [2, c.cOut, out, out], attrs));
  return { g, feedsShape: { x: x.shape, w: w.shape, b: [c.cOut] } };
}

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, runtime.sessionOptions);
  const out = (await s.run(feeds))[s.outputNames[0]].data as Float32Array;
  await s.release();
  return out;
}

describe("NCHWc convolutions with weights computed at run time", () => {
  it("finds onnxruntime's channel block on the CPU provider and none elsewhere", async () => {
    expect([0, 8, 16]).toContain(block);
    expect(await nchwcBlockSize({ ...runtime, provider: "cuda" })).toBe(0);
  });

  const b = block || 16;
  const cases: ConvCase[] = [
    { name: "3x3, whole blocks in and out (OIHWBiBo)", cIn: b, cOut: 2 * b, k: 3, size: 9, lowered: true },
    { name: "3x3 stride 2, odd size, with bias", cIn: 2 * b, cOut: b, k: 3, stride: 2, size: 11, bias: true, lowered: true },
    { name: "stem: 3 input channels read as NCHW (OIHWBo)", cIn: 3, cOut: b, k: 3, size: 8, lowered: true },
    { name: "depthwise 5x5 dilation 2 (OIHWBo)", cIn: b, cOut: b, k: 5, dilation: 2, group: b, size: 10, lowered: true },
    { name: "depthwise 3x3 stride 2", cIn: b, cOut: b, k: 3, stride: 2, group: b, size: 9, lowered: true },
    { name: "dense 3x3 dilation 2", cIn: b, cOut: b, k: 3, dilation: 2, size: 10, lowered: true },
    { name: "1x1: left to the plain GEMM path", cIn: b, cOut: b, k: 1, size: 6, lowered: false },
    { name: "channels not in whole blocks: left alone", cIn: b + 4, cOut: b, k: 3, size: 6, lowered: false },
  ];
  for (const c of cases) {
    it.skipIf(!block)(`${c.name}: same output as the plain Conv${why}`, async () => {
      const rng = new Rng(c.cIn * 31 + c.k);
      const plain = convGraph(c);
      const lowered = convGraph(c);
      expect(lowerRuntimeWeightConvs(lowered.g, block, () => false)).toBe(c.lowered ? 1 : 0);
      expect(lowered.g.nodes.some((n) => n.domain === NCHWC_DOMAIN)).toBe(c.lowered);
      const tensor = (shape: readonly number[]) => new ort.Tensor("float32", rng.fillUniform(new Float32Array(shape.reduce((p, q) => p * q, 1)), 1), [...shape]);
      const feeds: Record<string, ort.Tensor> = { x: tensor(plain.feedsShape.x), w: tensor(plain.feedsShape.w) };
      if (c.bias) feeds.b = tensor(plain.feedsShape.b);
      const want = await run(encodeModel(plain.g.build()), feeds);
      const got = await run(encodeModel(lowered.g.build()), feeds);
      expect(got.length).toBe(want.length);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // Same products, another summation order: float32 rounding of sums of at most 2 b 9 terms.
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * scale);
    });
  }
});

describe("training steps on NCHWc", () => {
  const DARTS_V2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], " +
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
  const nets: { space: string; spec: string; overrides: Record<string, number> }[] = [
    { space: "nb201", spec: "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", overrides: { cellsPerStage: 1 } },
    { space: "darts", spec: DARTS_V2, overrides: { channels: 16, layers: 3 } },
  ];
  for (const net of nets) {
    it.skipIf(!block)(`${net.space}: the same loss and gradients as with plain Conv nodes${why}`, async () => {
      const n = 8;
      const rng = new Rng(5);
      const images = rng.fillUniform(new Float32Array(n * 3 * 32 * 32), 2);
      const step = async (nchwc: number) => {
        const tg = buildTrainingStep({ ...net, batchSize: n, seed: 1, nchwcBlockSize: nchwc });
        const onehot = Float32Array.from({ length: n * 10 }, (_, i) => (i % 11 === 0 ? 1 : 0));
        const feeds = initialStepFeeds(tg, (d, dims) => new ort.Tensor("float32", d, [...dims]), { images, onehot }, { lr: 0.1, momentum: 0.9, weightDecay: 0 });
        const s = await ort.InferenceSession.create(tg.model, runtime.sessionOptions);
        const out = await s.run(feeds);
        await s.release();
        const usesNchwc = new TextDecoder().decode(tg.model).includes(NCHWC_DOMAIN);
        // Convolution weights: every one has a gradient well above rounding (some BatchNorm shifts feeding another
        // BatchNorm have a true gradient of 0, whose computed value is rounding noise on both paths).
        const convs = tg.params.flatMap((p, i) => (p.shape.length === 4 ? [i] : []));
        return { loss: (out[tg.outputs.loss].data as Float32Array)[0], grads: convs.map((i) => out[tg.outputs.velocities[i]].data as Float32Array), usesNchwc };
      };
      const plain = await step(0);
      const blocked = await step(block);
      expect(plain.usesNchwc).toBe(false);
      expect(blocked.usesNchwc).toBe(true);
      expect(Math.abs(blocked.loss - plain.loss)).toBeLessThan(1e-5 * plain.loss);
      // At momentum 0 from zero buffers the updated buffer is the gradient. Measured: relative L2 differences of 1e-6
      // (about what another graph optimisation level gives); a wrongly blocked filter gives differences of order 1.
      expect(plain.grads.length).toBeGreaterThan(3);
      plain.grads.forEach((want, i) => {
        let diff = 0;
        let norm = 0;
        for (let k = 0; k < want.length; k++) {
          diff += (blocked.grads[i][k] - want[k]) ** 2;
          norm += want[k] ** 2;
        }
        expect(Math.sqrt(diff / norm)).toBeLessThan(1e-4);
      });
    });
  }
});
