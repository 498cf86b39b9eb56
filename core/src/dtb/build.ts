/**
 * Builds one DTB record: trains a DARTS network under a protocol and records its state (training
 * loss and accuracy, test accuracy, atomic metrics, WOT, DAS) at initialisation, at the early steps
 * and at each epoch's end. Runtime-agnostic: the caller brings the runtime and the image sets.
 */
import { CIFAR10_MEAN, CIFAR10_STD } from "../data/cifar10.js";
import { BatchSampler, cosineLr, labelledBatch } from "../data/batches.js";
import type { ImageSet } from "../data/cifar10.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { DasError } from "../errors.js";
import { sizeOverridesFor } from "../protocol/scoring-protocol.js";
import { applyDasRule } from "../scoring/das-rules.js";
import { defaultDasRule } from "../scoring/das-defaults.js";
import { architectureId, getSpace } from "../spaces/registry.js";
import { evaluateAccuracy, type NetworkRef } from "../train/evaluate.js";
import { scoreWeights } from "../train/fast-train.js";
import { Trainer } from "../train/trainer.js";
import { Rng } from "../util/rng.js";
import { dtbProtocolHash, recordedSteps, stepsPerEpoch, type DtbProtocol } from "./protocol.js";
import { DTB_RECORD_VERSION, parseDtbRecord, type DtbRecord, type DtbState } from "./record.js";

const CLASSES = 10;

export interface DtbBuildInput {
  readonly runtime: RuntimeConfig;
  readonly protocol: DtbProtocol;
  readonly genotype: string;
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** What built it, for the record: engine version, runtime, provider, device. */
  readonly info: { readonly engineVersion: string; readonly runtime: string; readonly provider: string; readonly device: string };
  /** Called with each state as it is recorded (progress). */
  readonly onState?: (state: DtbState, recorded: number, of: number) => void;
}

/** The architecture's canonical genotype and id, as every record and key names it. */
export async function dtbArchitecture(genotype: string): Promise<{ genotype: string; archId: string }> {
  const space = getSpace("darts");
  const canonical = space.canonical(space.parse(genotype));
  return { genotype: canonical, archId: await architectureId(space.name, canonical) };
}

export async function buildDtbRecord(input: DtbBuildInput): Promise<DtbRecord> {
  const { protocol: p, runtime, train, test } = input;
  if (train.count < p.split.trainImages || test.count < p.split.testImages) {
    throw new DasError("INVALID_DATASET", `protocol '${p.name}' needs ${p.split.trainImages} training and ${p.split.testImages} test images (${p.split.train}, ${p.split.test}); the sets given hold ${train.count} and ${test.count}`);
  }
  const started = performance.now();
  const arch = await dtbArchitecture(input.genotype);
  const ref: NetworkRef = { space: "darts", spec: arch.genotype, seed: p.seed, overrides: sizeOverridesFor("darts", p.width, p.depth) };
  const per = stepsPerEpoch(p);
  const total = per * p.epochs;
  const marks = recordedSteps(p);
  const rng = new Rng(p.seed + 1);
  const sampler = new BatchSampler(p.split.trainImages, p.batchSize, rng);
  const scoringImages = labelledBatch(train, Array.from({ length: p.scoringBatch }, (_, i) => i), CIFAR10_MEAN, CIFAR10_STD, CLASSES).data;
  const testBatch = (start: number, count: number) => labelledBatch(test, Array.from({ length: count }, (_, i) => start + i), CIFAR10_MEAN, CIFAR10_STD, CLASSES);
  const states: DtbState[] = [];
  const trainer = await Trainer.create(runtime, { ...ref, batchSize: p.batchSize, nesterov: p.optimiser.nesterov });
  const params = trainer.graph.params.reduce((a, q) => a + q.initial.length, 0);
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let steps = 0;
  try {
    for (let step = 0; step <= total; step++) {
      if (marks.includes(step)) {
        const weights = trainer.weights();
        const score = await scoreWeights(ref, weights, scoringImages, p.scoringBatch, runtime, "gram-int8");
        const testAccuracy = await evaluateAccuracy(ref, weights, testBatch, p.split.testImages, runtime, Math.min(500, p.split.testImages));
        const finite = (v: number) => (Number.isFinite(v) ? v : null);
        const das = applyDasRule(defaultDasRule("darts", step === 0 ? "init" : "fast-trained"), score);
        const state: DtbState = {
          step,
          epoch: step / per,
          trainLoss: steps > 0 ? lossSum / steps : null,
          trainAccuracy: seen > 0 ? correct / seen : null,
          testAccuracy,
          activationUnits: score.activationUnits,
          logActivationUnits: score.logActivationUnits,
          distinguishing: finite(score.distinguishing),
          wot: finite(score.wot),
          das: finite(das),
          singular: score.singular,
          wallMs: performance.now() - started,
        };
        states.push(state);
        input.onState?.(state, states.length, marks.length);
        lossSum = correct = seen = steps = 0;
      }
      if (step === total) break;
      const b = labelledBatch(train, sampler.next(), CIFAR10_MEAN, CIFAR10_STD, CLASSES, rng);
      const o = p.optimiser;
      const r = await trainer.step(b.data, b.onehot, { lr: cosineLr(o.lr, step, total), momentum: o.momentum, weightDecay: o.weightDecay });
      lossSum += r.loss;
      correct += r.correct;
      seen += p.batchSize;
      steps++;
    }
  } finally {
    await trainer.release();
  }
  const { description: _description, ...protocol } = p;
  // Validated like any record read back: a builder bug fails here, not in a reader.
  return parseDtbRecord({
    version: DTB_RECORD_VERSION,
    architecture: { space: "darts", genotype: arch.genotype, archId: arch.archId },
    protocol: { ...protocol, hash: await dtbProtocolHash(p) },
    params,
    states,
    finalTestAccuracy: states[states.length - 1].testAccuracy,
    build: { ...input.info, wallMs: performance.now() - started, builtAt: new Date().toISOString() },
  });
}
