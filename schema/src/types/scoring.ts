import { z } from "zod";
import { builder } from "../builder.js";
import { apiError } from "../errors.js";
import type { BatchSummary, PresignedUpload, SchemaContext } from "../context.js";
import { API_LIMITS, dedupe, locateAll, type Lookup } from "../locate.js";
import { Batch } from "./batch.js";
import { Dataset, DATASET_NAMES, SearchSpace, SPACE_NAMES } from "./enums.js";
import { protocolArgs, ProtocolInput } from "./protocol.js";

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256");

const ScoreArchitecturesInput = builder.inputType("ScoreArchitecturesInput", {
  fields: (t) => ({
    space: t.field({ type: SearchSpace, required: true }),
    specs: t.stringList({ required: true, validate: z.array(z.string()).min(1).max(API_LIMITS.batchSpecs) }),
    dataset: t.field({ type: Dataset, defaultValue: "CIFAR10" }),
    protocol: t.field({ type: ProtocolInput }),
  }),
});

const ScoreModelsInput = builder.inputType("ScoreModelsInput", {
  fields: (t) => ({
    sha256s: t.stringList({ required: true, description: "Models uploaded with requestModelUpload.", validate: z.array(SHA256).min(1).max(API_LIMITS.batchSpecs) }),
    dataset: t.field({ type: Dataset, defaultValue: "CIFAR10" }),
    protocol: t.field({ type: ProtocolInput }),
  }),
});

const ModelUploadInput = builder.inputType("ModelUploadInput", {
  fields: (t) => ({
    sha256: t.string({ required: true, validate: SHA256 }),
    bytes: t.int({ required: true, validate: z.number().int().min(1).max(API_LIMITS.modelBytes) }),
  }),
});

interface ScoreBatchShape {
  readonly batch: BatchSummary;
  readonly duplicates: number;
}

const ScoreBatchPayload = builder.objectRef<ScoreBatchShape>("ScoreBatchPayload").implement({
  fields: (t) => ({
    batch: t.field({ type: Batch, resolve: (p) => p.batch }),
    duplicates: t.exposeInt("duplicates", { description: "Specs dropped because they name an architecture already in the request." }),
  }),
});

const ModelUpload = builder.objectRef<PresignedUpload & { alreadyUploaded: boolean }>("ModelUpload").implement({
  description: "A presigned S3 PUT: send the model's bytes to `url` with `headers`, before `expiresAt`.",
  fields: (t) => ({
    url: t.exposeString("url"),
    method: t.exposeString("method"),
    headers: t.expose("headers", { type: "JSON" }),
    key: t.exposeString("key"),
    expiresAt: t.exposeString("expiresAt"),
    alreadyUploaded: t.exposeBoolean("alreadyUploaded", { description: "A model is stored under this hash already; uploading again is harmless." }),
  }),
});

/** A model that was never uploaded is the caller's mistake: say so now, not as a failed item later. */
async function requireUploaded(ctx: SchemaContext, lookups: readonly Lookup[], given: readonly string[], field: string): Promise<void> {
  for (let i = 0; i < lookups.length; i += 16) {
    const chunk = lookups.slice(i, i + 16);
    const present = await Promise.all(chunk.map((u) => ctx.uploads.hasModel(u.location.canonicalSpec)));
    const k = present.indexOf(false);
    if (k >= 0) {
      const sha256 = chunk[k].location.canonicalSpec;
      throw apiError("NOT_FOUND", `no uploaded model ${sha256}: upload it first (requestModelUpload)`, { field, index: given.indexOf(chunk[k].spec), sha256 });
    }
  }
}

builder.mutationFields((t) => ({
  scoreArchitectures: t.field({
    type: ScoreBatchPayload,
    authScopes: { apiKey: true },
    description: "Validates every spec, answers cached ones at once and sends the rest to the GPU function as one batch. Follow it with Subscription.batchProgress or Query.batch.",
    args: { input: t.arg({ type: ScoreArchitecturesInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const space = SPACE_NAMES[input.space];
      const dataset = DATASET_NAMES[input.dataset ?? "CIFAR10"];
      const protocol = protocolArgs(input.protocol);
      const { unique, duplicates } = dedupe(await locateAll(space, input.specs, dataset, protocol));
      if (space === "onnx") await requireUploaded(ctx, unique, input.specs, "specs");
      return { batch: await ctx.batches.create({ space, dataset, protocol, items: unique }), duplicates };
    },
  }),
  scoreModels: t.field({
    type: ScoreBatchPayload,
    authScopes: { apiKey: true },
    description: "Scores uploaded ONNX models (see requestModelUpload) as one batch.",
    args: { input: t.arg({ type: ScoreModelsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const dataset = DATASET_NAMES[input.dataset ?? "CIFAR10"];
      const protocol = protocolArgs(input.protocol);
      const { unique, duplicates } = dedupe(await locateAll("onnx", input.sha256s, dataset, protocol));
      await requireUploaded(ctx, unique, input.sha256s, "sha256s");
      return { batch: await ctx.batches.create({ space: "onnx", dataset, protocol, items: unique }), duplicates };
    },
  }),
  requestModelUpload: t.field({
    type: ModelUpload,
    authScopes: { apiKey: true },
    description: `A presigned PUT for models/{sha256}.onnx (${API_LIMITS.modelBytes} bytes at most). The GPU function checks the hash before scoring.`,
    args: { input: t.arg({ type: ModelUploadInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const [upload, alreadyUploaded] = await Promise.all([ctx.uploads.presignModelPut(input.sha256, input.bytes), ctx.uploads.hasModel(input.sha256)]);
      return { ...upload, alreadyUploaded };
    },
  }),
}));
