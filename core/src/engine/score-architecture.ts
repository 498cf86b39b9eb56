import type { LabelledBatch } from "../data/batches.js";
import { applyDasRule, type DasRule } from "../scoring/das-rules.js";
import { fastTrain, type FastTrainProtocol } from "../train/fast-train.js";
import { defaultDasRule } from "../scoring/das-defaults.js";
import { architectureId, getSpace } from "../spaces/registry.js";
import type { RuntimeConfig } from "./ort.js";
import { scoreNetwork, type NetworkScore } from "./score-network.js";
import type { TapStrategy } from "./tap-graph.js";

/** Version of the scoring engine; part of every cache key and provenance. */
export const ENGINE_VERSION = "0.1.0";

/** Fast training before scoring: the protocol and where training batches come from. */
export interface FastTrainRequest {
  readonly protocol: FastTrainProtocol;
  readonly nextBatch: () => LabelledBatch;
  /** Steps at which to score besides 0 and K (default K/4 and K/2). */
  readonly checkpoints?: readonly number[];
}

export interface TrajectoryRecord {
  readonly step: number;
  readonly trainLoss?: number;
  readonly activationUnits: number;
  readonly distinguishing: number;
  readonly wot: number;
  readonly das: number;
  readonly singular: boolean;
}

export interface ScoreRequest {
  readonly space: string;
  readonly spec: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly dataset: string;
  readonly dasRule?: DasRule;
  readonly tapStrategy?: TapStrategy;
  readonly overrides?: Readonly<Record<string, number>>;
  readonly fastTrain?: FastTrainRequest;
}

export interface DasValue {
  readonly value: number;
  readonly rule: DasRule["kind"];
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** One scored architecture: what the CLI prints and the store keeps. */
export interface ArchitectureScore {
  readonly space: string;
  readonly arch: string;
  readonly archId: string;
  readonly dataset: string;
  readonly batchSize: number;
  readonly seed: number;
  /** Network size overrides (e.g. a CPU-sized DARTS width), when not the space's defaults. */
  readonly overrides?: Readonly<Record<string, number>>;
  readonly activationUnits: number;
  readonly logActivationUnits: number;
  readonly distinguishing: number;
  readonly wot: number;
  readonly das: DasValue;
  readonly singular: boolean;
  readonly params: number;
  readonly flops: number;
  readonly reluCount: number;
  readonly durationMs: number;
  readonly provider: string;
  readonly runtime: string;
  readonly engineVersion: string;
  readonly tapStrategy: TapStrategy;
  readonly logDetMethod: NetworkScore["logDetMethod"];
  readonly timings: NetworkScore["timings"];
  /** Present when scored after fast training: the protocol and the metrics at 0, K/4, K/2, K steps. */
  readonly fastTrain?: { readonly protocol: FastTrainProtocol; readonly trajectory: readonly TrajectoryRecord[] };
}

export function dasValue(rule: DasRule, m: Pick<NetworkScore, "batchSize" | "distinguishing" | "logActivationUnits">): DasValue {
  const { kind, ...parameters } = rule;
  return { value: applyDasRule(rule, m), rule: kind, parameters };
}

/**
 * Parses, builds and scores one architecture on a prepared batch.
 * `images` must be the normalised scoring batch for (dataset, batchSize, seed).
 */
export async function scoreArchitecture(req: ScoreRequest, images: Float32Array, runtime: RuntimeConfig): Promise<ArchitectureScore> {
  const started = performance.now();
  const space = getSpace(req.space);
  const arch = space.canonical(space.parse(req.spec));
  const archId = await architectureId(space.name, arch);
  // Built from the canonical form, so equal ids always get equal networks and equal scores
  // (two labellings of one NB101 cell would otherwise draw their weights in different orders).
  const built = space.build(space.parse(arch), { batchSize: req.batchSize, seed: req.seed, overrides: req.overrides });
  const tapStrategy = req.tapStrategy ?? "gram-int8";
  const rule = req.dasRule ?? defaultDasRule(space.name, req.fastTrain ? "fast-trained" : "init");
  let s: NetworkScore;
  let fast: ArchitectureScore["fastTrain"];
  if (req.fastTrain) {
    const ref = { space: space.name, spec: arch, seed: req.seed, overrides: req.overrides };
    const trajectory = await fastTrain(runtime, ref, req.fastTrain.protocol, req.fastTrain.nextBatch, { images, batchSize: req.batchSize, strategy: tapStrategy }, req.fastTrain.checkpoints);
    s = trajectory[trajectory.length - 1].score;
    fast = {
      protocol: req.fastTrain.protocol,
      trajectory: trajectory.map((t) => ({
        step: t.step,
        trainLoss: t.trainLoss,
        activationUnits: t.score.activationUnits,
        distinguishing: t.score.distinguishing,
        wot: t.score.wot,
        das: applyDasRule(rule, t.score),
        singular: t.score.singular,
      })),
    };
  } else {
    s = await scoreNetwork(built, images, runtime, tapStrategy);
  }
  return {
    space: space.name,
    arch,
    archId,
    dataset: req.dataset,
    batchSize: req.batchSize,
    seed: req.seed,
    ...(req.overrides && Object.keys(req.overrides).length ? { overrides: req.overrides } : {}),
    activationUnits: s.activationUnits,
    logActivationUnits: s.logActivationUnits,
    distinguishing: s.distinguishing,
    wot: s.wot,
    das: dasValue(rule, s),
    singular: s.singular,
    params: built.builder.params,
    flops: built.builder.macs,
    reluCount: s.reluCount,
    durationMs: performance.now() - started,
    provider: runtime.provider,
    runtime: runtime.runtime,
    engineVersion: ENGINE_VERSION,
    tapStrategy,
    logDetMethod: s.logDetMethod,
    timings: s.timings,
    ...(fast ? { fastTrain: fast } : {}),
  };
}

/**
 * JSON has no -Infinity: JSON.stringify writes singular scores' wot, D and a
 * linear DAS as null. This restores them from a parsed score record.
 */
export function reviveScore(o: ArchitectureScore): ArchitectureScore {
  const inf = (v: number | null) => (v === null ? -Infinity : v);
  const fastTrain = o.fastTrain && {
    ...o.fastTrain,
    trajectory: o.fastTrain.trajectory.map((t) => ({ ...t, wot: inf(t.wot), distinguishing: inf(t.distinguishing), das: inf(t.das) })),
  };
  return { ...o, wot: inf(o.wot), distinguishing: inf(o.distinguishing), das: { ...o.das, value: inf(o.das.value) }, ...(fastTrain ? { fastTrain } : {}) };
}
