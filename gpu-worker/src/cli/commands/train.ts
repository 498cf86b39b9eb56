import { parseArgs } from "node:util";
import {
  BatchSampler,
  CIFAR10_MEAN,
  CIFAR10_STD,
  cosineLr,
  DasError,
  evaluateAccuracy,
  getSpace,
  labelledBatch,
  Rng,
  Trainer,
} from "@das/core";
import { loadTrainingData, resolveDataDir } from "../../data/data-dir.js";
import { nodeRuntime } from "../../runtime/node-runtime.js";
import { intFlag, providerFlag, requireFlag, sizeOverrides } from "../options.js";

export const TRAIN_USAGE = `das train --space nb201|nb101|darts --arch SPEC --steps K [--batch-size 64] [--lr 0.1] [--momentum 0.9]
          [--weight-decay 5e-4] [--nesterov] [--seed 1] [--eval-every N] [--eval-images 10000]
          [--width C] [--depth L] [--data-dir DIR] [--json]
  SGD on CIFAR-10 train-4000.bin (random flips, cosine learning rate), top-1 accuracy on
  test-10000-jpeg.bin with BatchNorm running statistics. --width/--depth set a DARTS network's
  channels and cells (CPU-sized runs) or NB201's stem width.`;

const CLASSES = 10;

function floatFlag(name: string, value: string | undefined, min: number, max: number): number {
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v) || v < min || v > max) throw new DasError("INVALID_ARGUMENT", `--${name} must be a number in ${min}..${max}, got '${value}'`);
  return v;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      space: { type: "string" },
      arch: { type: "string" },
      steps: { type: "string" },
      "batch-size": { type: "string", default: "64" },
      lr: { type: "string", default: "0.1" },
      momentum: { type: "string", default: "0.9" },
      "weight-decay": { type: "string", default: "5e-4" },
      nesterov: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      "eval-every": { type: "string" },
      "eval-images": { type: "string", default: "10000" },
      width: { type: "string" },
      depth: { type: "string" },
      "data-dir": { type: "string" },
      provider: { type: "string", default: "cpu" },
      threads: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const space = getSpace(requireFlag("space", values.space)).name;
  const spec = requireFlag("arch", values.arch);
  const steps = intFlag("steps", values.steps, 1, 1_000_000);
  const batchSize = intFlag("batch-size", values["batch-size"], 2, 1024);
  const seed = intFlag("seed", values.seed, 0, 2 ** 32 - 1);
  const evalImages = intFlag("eval-images", values["eval-images"], 500, 10000);
  const evalEvery = values["eval-every"] === undefined ? 0 : intFlag("eval-every", values["eval-every"], 1, steps);
  const sgd = { lr: floatFlag("lr", values.lr, 0, 10), momentum: floatFlag("momentum", values.momentum, 0, 1), weightDecay: floatFlag("weight-decay", values["weight-decay"], 0, 1) };
  const overrides = sizeOverrides(space, values.width, values.depth);
  const runtime = nodeRuntime({ provider: providerFlag(values.provider), threads: values.threads === undefined ? undefined : intFlag("threads", values.threads, 1, 256) });
  const { train, test } = loadTrainingData(resolveDataDir(values["data-dir"]));
  const ref = { space, spec, seed, overrides };
  const trainer = await Trainer.create(runtime, { ...ref, batchSize, nesterov: values.nesterov });
  const rng = new Rng(seed + 1);
  const sampler = new BatchSampler(train.count, batchSize, rng);
  const testBatch = (start: number, count: number) => labelledBatch(test, Array.from({ length: count }, (_, i) => start + i), CIFAR10_MEAN, CIFAR10_STD, CLASSES);
  const print = (o: Record<string, unknown>, text: string) => process.stdout.write((values.json ? JSON.stringify(o) : text) + "\n");
  let loss = NaN;
  let correct = 0;
  let seen = 0;
  let stepMs = 0;
  let testAccuracy: number;
  // The training session is released however the run ends.
  try {
    for (let step = 1; step <= steps; step++) {
      const b = labelledBatch(train, sampler.next(), CIFAR10_MEAN, CIFAR10_STD, CLASSES, rng);
      const lr = cosineLr(sgd.lr, step - 1, steps);
      const t = performance.now();
      const r = await trainer.step(b.data, b.onehot, { ...sgd, lr });
      stepMs += performance.now() - t;
      loss = r.loss;
      correct += r.correct;
      seen += batchSize;
      const evaluate = evalEvery > 0 && step % evalEvery === 0 && step < steps;
      if (evaluate || (!values.json && step % 10 === 0)) {
        const point: Record<string, unknown> = { step, epoch: sampler.epoch, lr, trainLoss: loss, trainAccuracy: correct / seen };
        if (evaluate) point.testAccuracy = await evaluateAccuracy(ref, trainer.weights(), testBatch, Math.min(evalImages, 2000), runtime);
        print(point, `step ${step}/${steps}  epoch ${sampler.epoch}  lr ${lr.toFixed(4)}  loss ${loss.toFixed(4)}  train acc ${(correct / seen).toFixed(3)}${evaluate ? `  test acc ${(point.testAccuracy as number).toFixed(3)} (first 2000)` : ""}`);
        correct = 0;
        seen = 0;
      }
    }
    testAccuracy = await evaluateAccuracy(ref, trainer.weights(), testBatch, evalImages, runtime);
  } finally {
    await trainer.release();
  }
  const final = { space, arch: spec, steps, batchSize, testAccuracy, testImages: evalImages, loss, stepMs: stepMs / steps, params: trainer.graph.params.reduce((a, p) => a + p.initial.length, 0), provider: runtime.provider };
  print(final, `done: test accuracy ${testAccuracy.toFixed(4)} on ${evalImages} images, final loss ${loss.toFixed(4)}, ${final.stepMs.toFixed(0)} ms/step`);
  return 0;
}
