import DataLoader from "dataloader";
import type { LocatedScore, SchemaContext } from "./context.js";
import type { Lookup } from "./locate.js";

/** Reads the scores of lookups through the context's store (one `getMany` per batch of lookups). */
export async function loadScores(ctx: SchemaContext, lookups: readonly Lookup[]): Promise<(LocatedScore | null)[]> {
  const records = await ctx.scores.getMany(lookups.map((l) => l.location.key));
  return lookups.map((l, i) => {
    const record = records[i];
    return record ? { location: l.location, spec: l.spec, record } : null;
  });
}

const loaders = new WeakMap<SchemaContext, DataLoader<Lookup, LocatedScore | null, string>>();

/** One loader per request, for fields outside the dataloader plugin's `t.loadable` (batch items). */
export function scoreLoader(ctx: SchemaContext): DataLoader<Lookup, LocatedScore | null, string> {
  let l = loaders.get(ctx);
  if (!l) {
    l = new DataLoader((lookups: readonly Lookup[]) => loadScores(ctx, lookups), { cacheKeyFn: (k) => k.location.key, maxBatchSize: 100 });
    loaders.set(ctx, l);
  }
  return l;
}
