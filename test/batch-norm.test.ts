import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { attr, DEFAULT_OPSET, encodeModel, GraphBuilder } from "../core/src/index.js";

// BatchNormalization in training mode reaches onnxruntime lowered to primitives (core/src/onnx/lower-batch-norm.ts),
// because the op's own CPU kernel changes its output with the optimisation level.
const [N, C, H, W] = [3, 2, 3, 4];
const x = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(1.7 * i) + 0.5 * (i % 5));
const gamma = Float32Array.of(2, 0.5);
const beta = Float32Array.of(0.3, -1);
const runMean = Float32Array.of(0.2, -0.4);
const runVar = Float32Array.of(1.5, 0.7);

function model(): Uint8Array {
  const g = new GraphBuilder("bn");
  const xi = g.input("x", [N, C, H, W]);
  const inputs = [xi, g.initializer("gamma", [C], gamma), g.initializer("beta", [C], beta), g.initializer("mean", [C], runMean), g.initializer("var", [C], runVar)];
  const [y, m, v] = g.opMulti("BatchNormalization", inputs, [{ shape: [N, C, H, W] }, { shape: [C] }, { shape: [C] }], {
    epsilon: attr.float(1e-5),
    momentum: attr.float(0.9),
    training_mode: attr.int(1),
  });
  g.output(y);
  g.output(m);
  g.output(v);
  return encodeModel(g.build(DEFAULT_OPSET));
}

/** By hand in float64: batch statistics over N, H, W per channel. */
function reference() {
  const y = new Float64Array(x.length);
  const mean: number[] = [];
  const unbiased: number[] = [];
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) vals.push(x[(n * C + c) * H * W + k]);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    const v = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length;
    mean.push(mu);
    unbiased.push((v * vals.length) / (vals.length - 1));
    for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) {
      const i = (n * C + c) * H * W + k;
      y[i] = ((x[i] - mu) / Math.sqrt(v + 1e-5)) * gamma[c] + beta[c];
    }
  }
  return { y, mean, unbiased };
}

describe("training-mode BatchNormalization", () => {
  const ref = reference();
  for (const level of ["disabled", "basic", "all"] as const) {
    it(`normalises with batch statistics at optimisation level ${level}, running statistics as PyTorch updates them`, async () => {
      const s = await ort.InferenceSession.create(model(), { graphOptimizationLevel: level, logSeverityLevel: 3 });
      const out = await s.run({ x: new ort.Tensor("float32", x, [N, C, H, W]) });
      const [yName, mName, vName] = s.outputNames;
      const y = out[yName].data as Float32Array;
      for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(ref.y[i], 5);
      const m = out[mName].data as Float32Array;
      const v = out[vName].data as Float32Array;
      for (let c = 0; c < C; c++) {
        expect(m[c]).toBeCloseTo(0.9 * runMean[c] + 0.1 * ref.mean[c], 6);
        expect(v[c]).toBeCloseTo(0.9 * runVar[c] + 0.1 * ref.unbiased[c], 6);
      }
      await s.release();
    });
  }
});
