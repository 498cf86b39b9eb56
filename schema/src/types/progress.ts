import { builder } from "../builder.js";
import type { BatchProgress as BatchProgressShape } from "../context.js";

const BatchProgress = builder.objectRef<BatchProgressShape>("BatchProgress").implement({
  fields: (t) => ({
    batchId: t.exposeID("batchId"),
    done: t.exposeInt("done"),
    failed: t.exposeInt("failed"),
    total: t.exposeInt("total"),
    finished: t.exposeBoolean("finished"),
  }),
});

builder.subscriptionField("batchProgress", (t) =>
  t.field({
    type: BatchProgress,
    description: "The batch's current state at once, then each change; the stream ends after the event with finished: true.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => ctx.batches.progress(String(id)),
    resolve: (event) => event,
  }),
);
