/**
 * The gradient passes behind the zero-cost proxies, checked against central finite differences of
 * the loss on a small NB201 network: weight gradients of the cross-entropy (batch statistics),
 * of synflow's pass (|weights|, all-ones image, BatchNorm on running statistics), and the input
 * gradient jacov reads. Then `das score --proxies` end to end.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyDasPlusRule, kendallTauB, JACOV_UNDEFINED, dasPlusFeatures, defaultDasPlusRule, CIFAR10_MEAN, CIFAR10_STD, gradientPasses, labelledBatch, Trainer, type GradientPassRequest, type RuntimeConfig } from "../core/src/index.js";
import { das } from "./helpers/cli.js";
import { bundledCifar10, dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|";
const N = 4;
const batch = labelledBatch(bundledCifar10(), [0, 1, 2, 3], CIFAR10_MEAN, CIFAR10_STD, 10);
const base = { space: "nb201", spec: CELL, seed: 3, overrides: { stemChannels: 4, cellsPerStage: 1 } } as const;

/** The loss with one weight element (layer `l`, index `i`) moved by `d`. */
async function lossWith(req: GradientPassRequest, l: number, i: number, d: number): Promise<number> {
  let layer = -1;
  const transform = (w: Float32Array) => {
    layer++;
    const t = req.weightTransform ? req.weightTransform(w) : Float32Array.from(w);
    if (layer === l) t[i] += d;
    return t;
  };
  return (await gradientPasses({ ...req, weightTransform: transform }, runtime))[0].loss;
}

async function checkWeights(req: GradientPassRequest, h: number) {
  const [pass] = await gradientPasses(req, runtime);
  const picks = [0, Math.floor(pass.weights.length / 2), pass.weights.length - 1].map((l) => [l, (l * 7 + 3) % pass.weights[l].grad.length]);
  for (const [l, i] of picks) {
    const fd = ((await lossWith(req, l, i, h)) - (await lossWith(req, l, i, -h))) / (2 * h);
    const g = pass.weights[l].grad[i];
    // float32 losses: the difference quotient carries about 1e-7 |loss| / h of rounding.
    const scale = pass.weights[l].grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(Math.abs(fd - g), `layer ${l} (${pass.weights[l].name}) element ${i}: analytic ${g}, numeric ${fd}`).toBeLessThanOrEqual(0.03 * Math.abs(g) + 0.01 * scale + (3e-7 * Math.abs(pass.loss)) / h);
  }
  return pass;
}

describe("gradient passes against finite differences", () => {
  it("cross-entropy weight gradients (BatchNorm on batch statistics) equal the training step's: what grad_norm, snip and ZiCo read", async () => {
    // Finite differences of this loss are unreliable in float32: a move of any stem weight flips
    // some of thousands of ReLUs near 0 (the loss is only piecewise smooth). The training step's
    // graph is built from the same rules, each checked by das gradcheck; one SGD step with lr 1,
    // no momentum and no decay moves each weight by exactly its gradient.
    const [pass] = await gradientPasses({ ...base, batchSize: N, runs: [{ images: batch.data, onehot: batch.onehot }], loss: "ce", batchNorm: "batch" }, runtime);
    const trainer = await Trainer.create(runtime, { ...base, batchSize: N });
    try {
      const before = trainer.weights();
      const step = await trainer.step(batch.data, batch.onehot, { lr: 1, momentum: 0, weightDecay: 0 });
      expect(step.loss).toBeCloseTo(pass.loss, 5);
      const after = trainer.weights();
      expect(pass.weights.length).toBeGreaterThan(3);
      for (const w of pass.weights) {
        const moved = before.get(w.name)!.map((v, i) => v - after.get(w.name)![i]);
        const scale = moved.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
        w.grad.forEach((g, i) => expect(Math.abs(g - moved[i]), `${w.name}[${i}]`).toBeLessThanOrEqual(1e-4 * scale + 1e-6));
      }
    } finally {
      await trainer.release();
    }
  });

  it("synflow's pass: |weights|, one all-ones image, BatchNorm on running statistics", async () => {
    const ones = new Float32Array(3 * 32 * 32).fill(1);
    const pass = await checkWeights({ ...base, batchSize: 1, runs: [{ images: ones }], loss: "sum", batchNorm: "running", weightTransform: (w) => w.map(Math.abs) }, 1e-3);
    expect(pass.weights.every((w) => w.weights.every((v) => v >= 0))).toBe(true);
  });

  it("the input gradient of the summed logits (jacov's Jacobian rows)", async () => {
    const req: GradientPassRequest = { ...base, batchSize: N, runs: [{ images: batch.data }], loss: "sum", batchNorm: "batch", inputGradient: true };
    const [pass] = await gradientPasses(req, runtime);
    expect(pass.inputGrad).toHaveLength(batch.data.length);
    // jacov's own pass sweeps to the input only, skipping every weight gradient: the same values.
    const [alone] = await gradientPasses({ ...req, weightGradients: false }, runtime);
    const scale = pass.inputGrad!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(alone.weights.every((w) => w.grad.every((v) => v === 0))).toBe(true);
    alone.inputGrad!.forEach((v, i) => expect(Math.abs(v - pass.inputGrad![i])).toBeLessThanOrEqual(1e-6 * scale));
    const h = 1e-2;
    for (const i of [5, 1500, 4000, 11000]) {
      const moved = async (d: number) => {
        const images = Float32Array.from(batch.data);
        images[i] += d;
        return (await gradientPasses({ ...req, runs: [{ images }], inputGradient: false }, runtime))[0].loss;
      };
      const fd = ((await moved(h)) - (await moved(-h))) / (2 * h);
      expect(Math.abs(fd - pass.inputGrad![i]), `pixel ${i}`).toBeLessThanOrEqual(0.05 * Math.abs(pass.inputGrad![i]) + 5e-3);
    }
  });
});

describe("das score --proxies", () => {
  it("adds the gradient proxies asked for to each record, and refuses unknown names", () => {
    const args = ["score", "--space", "nb201", "--arch", CELL, "--width", "4", "--depth", "1", "--batch-size", "8", "--json"];
    const r = das([...args, "--proxies", "wot,synflow,snip,zico"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = r.json()[0];
    expect(Object.keys(rec.proxies)).toEqual(["synflow", "snip", "zico"]);
    for (const v of Object.values(rec.proxies)) expect(Number.isFinite(v)).toBe(true);
    expect(das(args).json()[0]).not.toHaveProperty("proxies");
    const all = das([...args, "--proxies", "all"]).json()[0];
    expect(Object.keys(all.proxies)).toEqual(["grad_norm", "snip", "synflow", "jacov", "zico"]);
    expect(all.proxies.snip).toBe(rec.proxies.snip);
    // A cell whose every path from the input is cut by `none`: no input gradient, jacov's undefined value (as the reference's -1e8).
    const cut = das(["score", "--space", "nb201", "--arch", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|", "--width", "4", "--depth", "1", "--batch-size", "8", "--json", "--proxies", "jacov"]);
    expect(cut.status, cut.stderr).toBe(0);
    expect(cut.json()[0].proxies.jacov).toBe(JACOV_UNDEFINED);
    const bad = das([...args, "--proxies", "fisher"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown proxy 'fisher'/);
  });
});

describe("das score --proxies das_plus", () => {
  it("adds DAS+ by the space's rule, with the synflow it weighs, and recomputes to the same value", () => {
    const r = das(["score", "--space", "nb201", "--arch", CELL, "--proxies", "das_plus", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = r.json()[0];
    const rule = defaultDasPlusRule("nb201", rec.protocol);
    expect(rec.dasPlus.rule).toBe("rank-sum");
    expect(rec.dasPlus.parameters.weights).toEqual(rule.weights);
    expect(rec.dasPlus.parameters.calibration).toEqual(rule.calibration);
    if (rule.weights.synflow) expect(Number.isFinite(rec.proxies.synflow)).toBe(true);
    expect(rec.dasPlus.value).toBeGreaterThan(0);
    expect(rec.dasPlus.value).toBeLessThan(1);
    expect(rec.dasPlus.value).toBeCloseTo(applyDasPlusRule(rule, dasPlusFeatures(rec)), 12);
  });
  it("is refused at a protocol it was not calibrated for, and left out of `all` there", () => {
    const args = ["score", "--space", "nb201", "--arch", CELL, "--width", "4", "--depth", "1", "--batch-size", "8", "--json"];
    const bad = das([...args, "--proxies", "das_plus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/calibrated at batch 128, not 8/);
    const all = das([...args, "--proxies", "all"]).json()[0];
    expect(all).not.toHaveProperty("dasPlus");
  });
  it.skipIf(!hasSharedData)(`das eval reports das_plus beside every other proxy, reusing saved scores (${hasSharedData ? "needs ../shared/data" : SKIP_NO_DATA})`, () => {
    const args = ["eval", "--space", "nb201", "--truth", dataFile("nb201/accuracy-dev.csv"), "--target", "cifar10_test_acc", "--limit", "8", "--json", "--quiet"];
    const out = join(mkdtempSync(join(tmpdir(), "das-plus-")), "scores.jsonl");
    const r = das([...args, "--proxies", "das_plus", "--scores-out", out]);
    expect(r.status, r.stderr).toBe(0);
    const report = r.json()[0];
    expect(Object.keys(report.proxies)).toEqual(["wot", "das", "activation_units", "distinguishing", "params", "flops", "synflow", "das_plus"]);
    const saved = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const acc = saved.map((x) => x.target.cifar10_test_acc);
    expect(report.proxies.das_plus.kendall).toBeCloseTo(kendallTauB(saved.map((x) => x.dasPlus.value), acc), 12);
    // Read back, the saved scores give the same report without scoring again.
    const again = das([...args, "--proxies", "das_plus", "--scores-in", out]);
    expect(again.json()[0].proxies.das_plus).toEqual(report.proxies.das_plus);
  });
});
