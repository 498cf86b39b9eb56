import { resolveOffsetConnection } from "@pothos/plugin-relay";
import { builder } from "../builder.js";
import type { BatchItem as BatchItemShape, BatchSummary } from "../context.js";
import { API_LIMITS } from "../locate.js";
import { scoreLoader } from "../score-loader.js";
import { BatchStatus, Dataset, datasetValue, ItemStatus, SearchSpace, spaceValue } from "./enums.js";
import { Score } from "./score.js";

/** A failed item's result: the engine's own code (e.g. INVALID_ARCH_SPEC, MODEL_CRASHED, TIMEOUT, GPU_UNAVAILABLE). */
export class ItemFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ItemFailure";
  }
}

builder.objectType(ItemFailure, {
  name: "ItemError",
  description: "Why an item has no score: the engine's error code and message.",
  fields: (t) => ({ code: t.exposeString("code"), message: t.exposeString("message") }),
});

const BatchItem = builder.objectRef<BatchItemShape>("BatchItem").implement({
  fields: (t) => ({
    index: t.exposeInt("index"),
    spec: t.exposeString("spec", { description: "The spec as submitted." }),
    archId: t.string({ resolve: (i) => i.location.archId }),
    cached: t.exposeBoolean("cached", { description: "Answered from the cache when the batch was created." }),
    status: t.field({ type: ItemStatus, resolve: (i) => i.state.status }),
    result: t.field({
      type: Score,
      nullable: true,
      description: "The score, or the item's error; null while pending.",
      errors: { types: [ItemFailure], union: { name: "BatchItemResult" }, result: { name: "ScoredItem" } },
      resolve: async (i, _args, ctx) => {
        if (i.state.status === "PENDING") return null;
        if (i.state.status === "FAILED") throw new ItemFailure(i.state.code, i.state.message);
        // The key the GPU function reports: under its own engine version, which during a rolling
        // deploy may differ from the one this Worker would compute.
        const s = await scoreLoader(ctx).load({ spec: i.spec, location: { ...i.location, key: i.state.key } });
        if (!s) throw new ItemFailure("INTERNAL", "the item's score object is missing from storage");
        return s;
      },
    }),
  }),
});

export const Batch = builder.objectRef<BatchSummary>("Batch").implement({
  fields: (t) => ({
    id: t.exposeID("batchId"),
    status: t.field({ type: BatchStatus, resolve: (b) => b.status }),
    space: t.field({ type: SearchSpace, resolve: (b) => spaceValue(b.space) }),
    dataset: t.field({ type: Dataset, resolve: (b) => datasetValue(b.dataset) }),
    total: t.exposeInt("total", { description: "Distinct architectures (duplicates in the request are scored once)." }),
    done: t.exposeInt("done", { description: "Items finished, scored or failed, cached ones included." }),
    failed: t.exposeInt("failed"),
    cached: t.exposeInt("cached", { description: "Items answered from the cache at creation." }),
    createdAt: t.exposeString("createdAt"),
    items: t.connection({
      type: BatchItem,
      description: `Items in request order, ${API_LIMITS.itemsPage} at most per page.`,
      // The edges list multiplies by 10 (the default list multiplier): together they count `first` items.
      complexity: (args) => ({ field: 1, multiplier: Math.ceil(Math.min(args.first ?? 20, API_LIMITS.itemsPage) / 10) }),
      resolve: (b, args, ctx) =>
        resolveOffsetConnection({ args, defaultSize: 20, maxSize: API_LIMITS.itemsPage, totalCount: b.total }, ({ offset, limit }) => ctx.batches.items(b.batchId, Math.max(0, offset), limit)),
    }),
  }),
});

builder.queryField("batch", (t) =>
  t.field({
    type: Batch,
    nullable: true,
    description: "A scoring batch by id, or null when there is none.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.batches.get(String(id)),
  }),
);
