import type { LabelledBatch } from "../data/batches.js";
import { DasError } from "../errors.js";
import { applyDasRule, type DasRule } from "../scoring/das-rules.js";
import type { DasPlusValue } from "../scoring/das-plus.js";
import { fastTrain, type FastTrainProtocol } from "../train/fast-train.js";
import { fastTrainProtocol, protocolHash, type ScoringProtocol } from "../protocol/scoring-protocol.js";
import { defaultDasRule } from "../scoring/das-defaults.js";
import { architectureId, getSpace } from "../spaces/registry.js";
import type { RuntimeConfig } from "./ort.js";
import { scoreNetwork, type NetworkScore } from "./score-network.js";
import type { TapStrategy } from "./tap-graph.js";

/** Version of the scoring engine; part of every cache key and provenance. */
export const ENGINE_VERSION = "0.1.0";

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
  /** Dataset, batch size, seed, size overrides and fast training (from `resolveProtocol`). */
  readonly protocol: ScoringProtocol;
  readonly dasRule?: DasRule;
  readonly tapStrategy?: TapStrategy;
  /**
   * Where fast-training batches come from, when the protocol trains: a fresh
   * call per architecture, so every one trains on the same seeded sequence.
   */
  readonly trainingBatches?: () => () => LabelledBatch;
  /** `protocolHash(protocol)`, when the caller has it already. */
  readonly protocolHash?: string;
}

/** Where and when a score was computed, and under which protocol: in every score record. */
export interface ScoreProvenance {
  readonly protocol: ScoringProtocol;
  /** `protocolHash(protocol)`: with the engine version and the architecture id, the score's key in the store. */
  readonly protocolHash: string;
  /** ISO 8601 time the score was finished. */
  readonly computedAt: string;
  /** The device that ran the networks, e.g. "cpu" or a CUDA device name. */
  readonly device: string;
  readonly durationMs: number;
  readonly provider: string;
  readonly runtime: string;
  readonly engineVersion: string;
}

export interface DasValue {
  readonly value: number;
  readonly rule: DasRule["kind"];
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** One scored architecture: what the CLI prints and the store keeps. */
export interface ArchitectureScore extends ScoreProvenance {
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
  readonly tapStrategy: TapStrategy;
  readonly logDetMethod: NetworkScore["logDetMethod"];
  readonly timings: NetworkScore["timings"];
  /** Gradient proxies asked for (`--proxies`), by snake_case name; an overflowed synflow is +Infinity. */
  readonly proxies?: Readonly<Record<string, number>>;
  /** DAS+ (`--proxies das_plus`): the space's combination of the atomic metrics with params and synflow. */
  readonly dasPlus?: DasPlusValue;
  /** Present when scored after fast training: the protocol and the metrics at 0, K/4, K/2, K steps. */
  readonly fastTrain?: { readonly protocol: FastTrainProtocol; readonly trajectory: readonly TrajectoryRecord[] };
}

export function dasValue(rule: DasRule, m: Pick<NetworkScore, "batchSize" | "distinguishing" | "logActivationUnits">): DasValue {
  const { kind, ...parameters } = rule;
  return { value: applyDasRule(rule, m), rule: kind, parameters };
}

/** The device a runtime reports, else its provider's name. */
export function runtimeDevice(runtime: RuntimeConfig): string {
  return runtime.device ?? runtime.provider;
}

/**
 * Parses, builds and scores one architecture on a prepared batch.
 * `images` must be the normalised scoring batch for the protocol's
 * (dataset, batchSize, seed).
 */
export async function scoreArchitecture(req: ScoreRequest, images: Float32Array, runtime: RuntimeConfig): Promise<ArchitectureScore> {
  const started = performance.now();
  const { protocol } = req;
  const space = getSpace(req.space);
  const arch = space.canonical(space.parse(req.spec));
  const archId = await architectureId(space.name, arch);
  const overrides = protocol.overrides;
  // Built from the canonical form, so equal ids always get equal networks and equal scores
  // (two labellings of one NB101 cell would otherwise draw their weights in different orders).
  const built = space.build(space.parse(arch), { batchSize: protocol.batchSize, seed: protocol.seed, overrides });
  const tapStrategy = req.tapStrategy ?? "gram-int8";
  const training = fastTrainProtocol(protocol);
  const rule = req.dasRule ?? defaultDasRule(space.name, training ? "fast-trained" : "init");
  let s: NetworkScore;
  let fast: ArchitectureScore["fastTrain"];
  if (training) {
    if (!req.trainingBatches) throw new DasError("INVALID_ARGUMENT", "the protocol fast-trains but the request has no training batches");
    const ref = { space: space.name, spec: arch, seed: protocol.seed, overrides };
    const scoring = { images, batchSize: protocol.batchSize, strategy: tapStrategy };
    const trajectory = await fastTrain(runtime, ref, training, req.trainingBatches(), scoring, protocol.fastTrain?.checkpoints);
    s = trajectory[trajectory.length - 1].score;
    fast = {
      protocol: training,
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
    dataset: protocol.dataset,
    batchSize: protocol.batchSize,
    seed: protocol.seed,
    ...(Object.keys(overrides).length ? { overrides } : {}),
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
    protocol,
    protocolHash: req.protocolHash ?? (await protocolHash(protocol)),
    device: runtimeDevice(runtime),
    computedAt: new Date().toISOString(),
  };
}

/**
 * JSON has no infinities: JSON.stringify writes singular scores' wot, D and a
 * linear DAS as null, and an overflowed synflow too. This restores them from a
 * parsed score record (-Infinity for the activation scores, +Infinity for proxies).
 */
export function reviveScore(o: ArchitectureScore): ArchitectureScore {
  const inf = (v: number | null) => (v === null ? -Infinity : v);
  const fastTrain = o.fastTrain && {
    ...o.fastTrain,
    trajectory: o.fastTrain.trajectory.map((t) => ({ ...t, wot: inf(t.wot), distinguishing: inf(t.distinguishing), das: inf(t.das) })),
  };
  const proxies = o.proxies && Object.fromEntries(Object.entries(o.proxies).map(([k, v]) => [k, v === null ? Infinity : v]));
  return {
    ...o,
    wot: inf(o.wot),
    distinguishing: inf(o.distinguishing),
    das: { ...o.das, value: inf(o.das.value) },
    ...(fastTrain ? { fastTrain } : {}),
    ...(proxies ? { proxies } : {}),
  };
}
