import { PROTOCOL_LIMITS } from "@das/core";
import { z } from "zod";
import { builder } from "../builder.js";
import type { ProtocolArgs } from "../context.js";

const [minBatch, maxBatch] = PROTOCOL_LIMITS.batchSize;
const [minSeed, maxSeed] = PROTOCOL_LIMITS.seed;
const [, maxSteps] = PROTOCOL_LIMITS.fastTrainSteps;

export const DEFAULT_PROTOCOL_ARGS: ProtocolArgs = { batchSize: 128, seed: 1, fastTrainSteps: 0 };

export const ModelWeights = builder.enumType("ModelWeights", {
  description: "What an uploaded model is scored with.",
  values: {
    INIT: { description: "Weights re-drawn with PyTorch's default initialisation from the seed, BatchNorm on batch statistics: the architecture at initialisation, as the search spaces are scored (the default)." },
    KEEP: { description: "The file's own weights (e.g. to follow a model during training); constant-filled weights are refused (DEGENERATE_WEIGHTS)." },
  } as const,
});

export const ProtocolInput = builder.inputType("ProtocolInput", {
  description: "How scores are computed. A score is cached per protocol: the same architecture under another protocol is another score.",
  fields: (t) => ({
    batchSize: t.int({ defaultValue: 128, description: `Images in the scoring batch (${minBatch}..${maxBatch}).`, validate: z.number().int().min(minBatch).max(maxBatch) }),
    // Float: GraphQL's Int is 32-bit signed and seeds go to 2^32-1.
    seed: t.float({ defaultValue: 1, description: `Picks the images and the initial weights (0..${maxSeed}).`, validate: z.number().int().min(minSeed).max(maxSeed) }),
    fastTrainSteps: t.int({ defaultValue: 0, description: `Steps of fast training before scoring (0..${maxSteps}); 0 scores at initialisation.`, validate: z.number().int().min(0).max(maxSteps) }),
    weights: t.field({ type: ModelWeights, description: "Uploaded models only (ONNX): INIT when absent. Refused for the search spaces." }),
    adapt: t.boolean({ description: "Uploaded models only (ONNX): resize images and map channels to the model's input; true when absent, false refuses a mismatch (INPUT_SHAPE_MISMATCH)." }),
  }),
});

/** The protocol argument with defaults filled (absent input object: all defaults). */
export function protocolArgs(
  p: { batchSize?: number | null; seed?: number | null; fastTrainSteps?: number | null; weights?: "INIT" | "KEEP" | null; adapt?: boolean | null } | null | undefined,
): ProtocolArgs {
  return {
    batchSize: p?.batchSize ?? DEFAULT_PROTOCOL_ARGS.batchSize,
    seed: p?.seed ?? DEFAULT_PROTOCOL_ARGS.seed,
    fastTrainSteps: p?.fastTrainSteps ?? DEFAULT_PROTOCOL_ARGS.fastTrainSteps,
    ...(p?.weights ? { weights: p.weights === "KEEP" ? ("keep" as const) : ("init" as const) } : {}),
    ...(typeof p?.adapt === "boolean" ? { adapt: p.adapt } : {}),
  };
}

export interface ProtocolShape {
  readonly dataset: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly fastTrainSteps: number;
  readonly hash: string;
  readonly details: unknown;
}

export const Protocol = builder.objectRef<ProtocolShape>("Protocol").implement({
  fields: (t) => ({
    batchSize: t.exposeInt("batchSize"),
    seed: t.exposeFloat("seed"),
    fastTrainSteps: t.exposeInt("fastTrainSteps"),
    hash: t.exposeString("hash", { description: "protocolHash: SHA-256 of the canonical protocol, part of the score's storage key." }),
    details: t.expose("details", { type: "JSON", description: "The full protocol as stored (size overrides, fast-training settings)." }),
  }),
});
