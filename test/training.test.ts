import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { bundledCifar10 } from "./shared-data.js";
import { buildNb201, buildTrainingStep, initialStepFeeds, CIFAR10_MEAN, CIFAR10_STD, fastTrain, forwardModel, labelledBatch, parseNb201, scoreNetwork, scoringBatch, Trainer, type RuntimeConfig } from "../core/src/index.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const set = bundledCifar10();
const SMALL = { stemChannels: 4, cellsPerStage: 1 };
const SPEC = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

describe("training-step graphs", () => {
  it("fits a fixed batch: the loss falls steadily under SGD with momentum", async () => {
    const trainer = await Trainer.create(runtime, { space: "nb201", spec: SPEC, batchSize: 16, seed: 1, overrides: SMALL });
    const b = labelledBatch(set, Array.from({ length: 16 }, (_, i) => i), CIFAR10_MEAN, CIFAR10_STD, 10);
    const losses: number[] = [];
    for (let s = 0; s < 40; s++) losses.push((await trainer.step(b.data, b.onehot, { lr: 0.05, momentum: 0.9, weightDecay: 0 })).loss);
    await trainer.release();
    expect(losses[0]).toBeGreaterThan(1.9); // about log(10) at initialisation
    expect(losses[0]).toBeLessThan(2.8);
    expect(losses[39]).toBeLessThan(0.5 * losses[0]);
  });

  it("with lr 0 changes nothing but the running statistics", async () => {
    const trainer = await Trainer.create(runtime, { space: "nb201", spec: SPEC, batchSize: 8, seed: 2, overrides: SMALL });
    const before = new Map([...trainer.weights()].map(([k, v]) => [k, v.slice()]));
    const b = labelledBatch(set, Array.from({ length: 8 }, (_, i) => i), CIFAR10_MEAN, CIFAR10_STD, 10);
    await trainer.step(b.data, b.onehot, { lr: 0, momentum: 0.9, weightDecay: 5e-4 });
    const stats = new Set(trainer.graph.stats.map((s) => s.name));
    for (const [k, v] of trainer.weights()) {
      if (stats.has(k)) continue;
      expect(Array.from(v)).toEqual(Array.from(before.get(k)!));
    }
    expect([...stats].some((k) => Array.from(trainer.weights().get(k)!).some((v, i) => v !== before.get(k)![i]))).toBe(true);
    await trainer.release();
  });

  it("lowers BatchNorm for training without changing the forward pass: logits equal onnxruntime's BatchNormalization", async () => {
    const b = labelledBatch(set, Array.from({ length: 8 }, (_, i) => i + 3), CIFAR10_MEAN, CIFAR10_STD, 10);
    const plain = await ort.InferenceSession.create(forwardModel(buildNb201(parseNb201(SPEC), { batchSize: 8, seed: 4, overrides: SMALL, foldZeros: false })));
    const expected = (await plain.run({ images: new ort.Tensor("float32", b.data, [8, 3, 32, 32]) }))[plain.outputNames[0]].data as Float32Array;
    const tg = buildTrainingStep({ space: "nb201", spec: SPEC, batchSize: 8, seed: 4, overrides: SMALL });
    const step = await ort.InferenceSession.create(tg.model);
    const feeds = initialStepFeeds(tg, (d, dims) => new ort.Tensor("float32", d, [...dims]), { images: b.data, onehot: b.onehot }, { lr: 0, momentum: 0, weightDecay: 0 });
    expect(tg.model.length).toBeGreaterThan(0);
    const out = await step.run(feeds);
    const logits = out[tg.outputs.logits].data as Float32Array;
    expect(logits.length).toBe(80);
    for (let i = 0; i < 80; i++) expect(logits[i]).toBeCloseTo(expected[i], 4);
    // Running statistics after one step (momentum 0.9 on the old value): 0.1 of the batch mean, 0.9 + 0.1 of the unbiased variance.
    const runVar = out[tg.outputs.stats[1]].data as Float32Array;
    for (const v of runVar) expect(v).toBeGreaterThan(0.9);
    await plain.release();
    await step.release();
  });

  it("fast training keeps a trajectory at 0, K/4, K/2, K whose step 0 equals scoring at initialisation", async () => {
    const images = scoringBatch(set, 16, 1);
    let k = 0;
    const next = () => labelledBatch(set, Array.from({ length: 16 }, () => (k++ * 7) % set.count), CIFAR10_MEAN, CIFAR10_STD, 10);
    const protocol = { steps: 8, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, cosine: false };
    const ref = { space: "nb201", spec: SPEC, seed: 1, overrides: SMALL };
    const t = await fastTrain(runtime, ref, protocol, next, { images, batchSize: 16, strategy: "gram-int8" });
    expect(t.map((p) => p.step)).toEqual([0, 2, 4, 8]);
    expect(t[0].trainLoss).toBeUndefined();
    for (const p of t.slice(1)) expect(p.trainLoss).toBeGreaterThan(0);
    // Step 0 is the network as scoring at initialisation builds it (same seed, sizes and batch), so the same numbers.
    const atInit = await scoreNetwork(buildNb201(parseNb201(SPEC), { batchSize: 16, seed: 1, overrides: SMALL }), images, runtime, "gram-int8");
    expect(t[0].score.activationUnits).toBe(atInit.activationUnits);
    expect(t[0].score.wot).toBe(atInit.wot);
    expect(t[0].score.distinguishing).toBe(atInit.distinguishing);
    // Training moves the codes: every later checkpoint scores differently from the one before.
    for (let i = 1; i < t.length; i++) {
      expect(Number.isFinite(t[i].score.wot)).toBe(true);
      expect(t[i].score.wot).not.toBe(t[i - 1].score.wot);
      expect(t[i].score.activationUnits).toBe(atInit.activationUnits);
    }
  });
});
