import DataLoader from "dataloader";
import type { LocatedScore, SchemaContext } from "./context.js";
import { apiError } from "./errors.js";
import { API_LIMITS, type Lookup } from "./locate.js";

/** Reads the scores of lookups through the context's store (one `getMany` per batch of lookups). */
export async function loadScores(ctx: SchemaContext, lookups: readonly Lookup[]): Promise<(LocatedScore | null)[]> {
  const records = await ctx.scores.getMany(lookups.map((l) => l.location.key));
  return lookups.map((l, i) => {
    const record = records[i];
    return record ? { location: l.location, spec: l.spec, record } : null;
  });
}

const loaders = new WeakMap<SchemaContext, DataLoader<Lookup, LocatedScore | null, string>>();

/**
 * One loader per request, shared by every field that reads scores: each key is read once, a tick's
 * keys in one batch (the store bounds reads in flight), and at most API_LIMITS.requestReads
 * distinct keys per request, whatever the aliases.
 */
export function scoreLoader(ctx: SchemaContext): DataLoader<Lookup, LocatedScore | null, string> {
  let l = loaders.get(ctx);
  if (!l) {
    let reads = 0;
    l = new DataLoader(
      (lookups: readonly Lookup[]) => {
        reads += lookups.length;
        if (reads > API_LIMITS.requestReads) {
          return Promise.reject(apiError("BAD_USER_INPUT", `this request looks up more than ${API_LIMITS.requestReads} scores; split it`, { limit: API_LIMITS.requestReads }));
        }
        return loadScores(ctx, lookups);
      },
      { cacheKeyFn: (k) => k.location.key },
    );
    loaders.set(ctx, l);
  }
  return l;
}
