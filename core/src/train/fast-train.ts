import type { RuntimeConfig } from "../engine/ort.js";
import { scoreNetwork, type NetworkScore } from "../engine/score-network.js";
import type { TapStrategy } from "../engine/tap-graph.js";
import type { LabelledBatch } from "../data/batches.js";
import { cosineLr } from "../data/batches.js";
import { buildWithWeights, type NetworkRef } from "./evaluate.js";
import { Trainer, type SgdSettings } from "./trainer.js";

export interface FastTrainProtocol {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Cosine annealing to 0 over `steps` when true; constant lr otherwise. */
  readonly cosine: boolean;
}

/** Fast-training defaults (the paper's settings are not public): a short constant-rate SGD run. */
export const DEFAULT_FAST_TRAIN: Omit<FastTrainProtocol, "steps"> = { batchSize: 64, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, cosine: false };

export interface TrajectoryPoint {
  readonly step: number;
  readonly trainLoss?: number;
  readonly score: NetworkScore;
}

/** The steps at which the trajectory is scored: 0, K and the given ones (default K/4, K/2), ascending. */
export function checkpoints(steps: number, within: readonly number[] = [Math.round(steps / 4), Math.round(steps / 2)]): number[] {
  return [...new Set([0, ...within.filter((s) => s > 0 && s < steps), steps])].sort((a, b) => a - b);
}

/** Scores of a network with given weights on the scoring batch (BatchNorm with batch statistics, as at initialisation). */
export async function scoreWeights(ref: NetworkRef, weights: ReadonlyMap<string, Float32Array>, images: Float32Array, scoringBatch: number, runtime: RuntimeConfig, strategy: TapStrategy): Promise<NetworkScore> {
  return scoreNetwork(buildWithWeights(ref, scoringBatch, weights, "batch"), images, runtime, strategy);
}

/**
 * K SGD steps on training batches, scoring the network on the fixed scoring
 * batch at 0, K and the checkpoints between (default K/4 and K/2).
 */
export async function fastTrain(
  runtime: RuntimeConfig,
  ref: NetworkRef,
  protocol: FastTrainProtocol,
  nextBatch: () => LabelledBatch,
  scoring: { readonly images: Float32Array; readonly batchSize: number; readonly strategy: TapStrategy },
  within?: readonly number[],
): Promise<TrajectoryPoint[]> {
  const trainer = await Trainer.create(runtime, { ...ref, batchSize: protocol.batchSize });
  const marks = new Set(checkpoints(protocol.steps, within));
  const trajectory: TrajectoryPoint[] = [];
  let lastLoss: number | undefined;
  try {
    for (let step = 0; step <= protocol.steps; step++) {
      if (marks.has(step)) {
        trajectory.push({ step, trainLoss: lastLoss, score: await scoreWeights(ref, trainer.weights(), scoring.images, scoring.batchSize, runtime, scoring.strategy) });
      }
      if (step === protocol.steps) break;
      const sgd: SgdSettings = {
        lr: protocol.cosine ? cosineLr(protocol.lr, step, protocol.steps) : protocol.lr,
        momentum: protocol.momentum,
        weightDecay: protocol.weightDecay,
      };
      const b = nextBatch();
      lastLoss = (await trainer.step(b.data, b.onehot, sgd)).loss;
    }
  } finally {
    await trainer.release();
  }
  return trajectory;
}
