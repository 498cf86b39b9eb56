import { applyDasRule, defaultDasRule, type DasRule } from "@das/core";
import { z } from "zod";
import { builder } from "../builder.js";
import type { LocatedScore, StoredScore } from "../context.js";
import { DasPlusValue, dasPlusOf } from "./das-plus.js";
import { Dataset, datasetValue, SearchSpace, spaceValue } from "./enums.js";
import { Protocol, type ProtocolShape } from "./protocol.js";

const num = (r: StoredScore, k: string): number | null => {
  const v = r[k];
  return typeof v === "number" ? v : null;
};
/** A string field of a stored record (older records may lack it). */
const text = (v: unknown, fallback: string): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback);
/** JSON stores a singular kernel's -Infinity as null. */
const logDetOf = (v: unknown): number => (typeof v === "number" ? v : -Infinity);
const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

interface FastTrainRecord {
  readonly protocol?: { readonly steps?: number };
  readonly trajectory?: readonly Readonly<Record<string, unknown>>[];
}
const fastTrainOf = (r: StoredScore): FastTrainRecord | undefined => r.fastTrain as FastTrainRecord | undefined;

/** The rule in force for a record: its space's default, at initialisation or after fast training. */
export function ruleInForce(s: LocatedScore): DasRule {
  return defaultDasRule(s.location.space, fastTrainOf(s.record) ? "fast-trained" : "init");
}

interface DasValueShape {
  readonly value: number | null;
  readonly rule: string;
  readonly parameters: unknown;
}

const DasValue = builder.objectRef<DasValueShape>("DasValue").implement({
  description: "DAS under a rule, computed from the stored atomic metrics.",
  fields: (t) => ({
    value: t.exposeFloat("value", { nullable: true, description: "null when the kernel is singular (D = -infinity)." }),
    rule: t.exposeString("rule", { description: "linear: D + alpha * N * log N_A (alpha = 1 is WOT)." }),
    parameters: t.expose("parameters", { type: "JSON" }),
  }),
});

export const DasRuleInput = builder.inputType("DasRuleInput", {
  description: "A linear DAS rule: D + alpha * N * log N_A, with N the batch size. alpha = 1 gives WOT.",
  fields: (t) => ({ alpha: t.float({ required: true, validate: z.number().finite().min(0).max(1000) }) }),
});

export function dasOf(s: LocatedScore, rule: DasRule): DasValueShape {
  const r = s.record;
  const value = applyDasRule(rule, { batchSize: num(r, "batchSize") ?? 0, logActivationUnits: num(r, "logActivationUnits") ?? 0, distinguishing: logDetOf(r.distinguishing) });
  const { kind, ...parameters } = rule;
  return { value: finiteOrNull(value), rule: kind, parameters };
}

export const Architecture = builder.objectRef<LocatedScore>("Architecture").implement({
  fields: (t) => ({
    space: t.field({ type: SearchSpace, resolve: (s) => spaceValue(s.location.space) }),
    spec: t.string({ description: "The spec in normal form (for ONNX: the model's SHA-256).", resolve: (s) => s.location.canonicalSpec }),
    id: t.string({ description: "archId: SHA-256 of the space and the normal-form spec (for ONNX: the model's SHA-256).", resolve: (s) => s.location.archId }),
  }),
});

interface TrajectoryShape {
  readonly step: number;
  readonly trainLoss: number | null;
  readonly activationUnits: number;
  readonly distinguishing: number | null;
  readonly wot: number | null;
  readonly das: number | null;
}

const TrajectoryPoint = builder.objectRef<TrajectoryShape>("TrajectoryPoint").implement({
  description: "The metrics after `step` steps of fast training.",
  fields: (t) => ({
    step: t.exposeInt("step"),
    trainLoss: t.exposeFloat("trainLoss", { nullable: true }),
    activationUnits: t.exposeFloat("activationUnits"),
    distinguishing: t.exposeFloat("distinguishing", { nullable: true }),
    wot: t.exposeFloat("wot", { nullable: true }),
    das: t.exposeFloat("das", { nullable: true, description: "Under the rule the score was computed with." }),
  }),
});

const Provenance = builder.objectRef<StoredScore>("Provenance").implement({
  fields: (t) => {
    const prov = (r: StoredScore) => (r.provenance ?? {}) as Record<string, unknown>;
    const str = (k: string, fallback: string) => (r: StoredScore) => text(prov(r)[k] ?? r[k], fallback);
    return {
      engineVersion: t.string({ resolve: str("engineVersion", "") }),
      runtime: t.string({ resolve: str("runtime", "") }),
      provider: t.string({ description: "Execution provider: cuda or cpu.", resolve: (r) => text(prov(r).executionProvider ?? r.provider, "") }),
      device: t.string({ resolve: str("device", "") }),
      tapStrategy: t.string({ nullable: true, resolve: (r) => (typeof r.tapStrategy === "string" ? r.tapStrategy : null) }),
      durationMs: t.float({ description: "Wall time of the item on the GPU function.", resolve: (r) => Number(prov(r).durationMs ?? r.durationMs ?? 0) }),
      computedAt: t.string({ resolve: str("computedAt", "") }),
    };
  },
});

export const Score = builder.objectRef<LocatedScore>("Score").implement({
  description: "A cached score: the atomic metrics (N_A, D), WOT, and DAS under any rule.",
  fields: (t) => ({
    architecture: t.field({ type: Architecture, resolve: (s) => s }),
    dataset: t.field({ type: Dataset, resolve: (s) => datasetValue(text(s.record.dataset, s.location.protocol.dataset)) }),
    protocol: t.field({
      type: Protocol,
      resolve: (s): ProtocolShape => ({
        dataset: s.location.protocol.dataset,
        batchSize: s.location.protocol.batchSize,
        seed: s.location.protocol.seed,
        fastTrainSteps: s.location.protocol.fastTrain?.steps ?? 0,
        hash: s.location.protocolHash,
        details: s.record.protocol ?? null,
      }),
    }),
    activationUnits: t.float({ description: "N_A: ReLU units that fire on at least one image.", resolve: (s) => num(s.record, "activationUnits") ?? 0 }),
    logActivationUnits: t.float({ resolve: (s) => num(s.record, "logActivationUnits") ?? 0 }),
    distinguishing: t.float({ nullable: true, description: "D: distinguishing ability (log-determinant part); null when singular.", resolve: (s) => num(s.record, "distinguishing") }),
    wot: t.float({ nullable: true, description: "The NASWOT score (= D + N log N_A); null when singular.", resolve: (s) => num(s.record, "wot") }),
    das: t.field({
      type: DasValue,
      args: { rule: t.arg({ type: DasRuleInput, required: false, description: "Default: the rule in force for the space and protocol (Query.engine.rules)." }) },
      resolve: (s, args) => dasOf(s, args.rule ? { kind: "linear", alpha: args.rule.alpha } : ruleInForce(s)),
    }),
    dasPlus: t.field({
      type: DasPlusValue,
      nullable: true,
      description:
        "DAS+ under the space's rule in force (Query.engine.dasPlusRules), computed from the stored features. null where no rule applies (DAS+ is calibrated at batch 128 on CIFAR-10, at initialisation, without size overrides; ONNX models have none) or the record lacks synflow, which NB201's rule weighs (NB201 records cached before das serve computed DAS+).",
      resolve: (s) => dasPlusOf(s),
    }),
    singular: t.boolean({ resolve: (s) => s.record.singular === true }),
    params: t.float({ resolve: (s) => num(s.record, "params") ?? 0 }),
    flops: t.float({ resolve: (s) => num(s.record, "flops") ?? 0 }),
    trajectory: t.field({
      type: [TrajectoryPoint],
      nullable: true,
      description: "With fast training: the metrics at 0, K/4, K/2 and K steps.",
      resolve: (s) =>
        fastTrainOf(s.record)?.trajectory?.map((p) => ({
          step: Number(p.step),
          trainLoss: typeof p.trainLoss === "number" ? p.trainLoss : null,
          activationUnits: Number(p.activationUnits),
          distinguishing: typeof p.distinguishing === "number" ? p.distinguishing : null,
          wot: typeof p.wot === "number" ? p.wot : null,
          das: typeof p.das === "number" ? p.das : null,
        })) ?? null,
    }),
    provenance: t.field({ type: Provenance, resolve: (s) => s.record }),
  }),
});
