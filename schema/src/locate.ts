import { isDasError, locateScore, type ScoreLocation } from "@das/core";
import type { ProtocolArgs } from "./context.js";
import { apiError, fromDasError } from "./errors.js";

export interface Lookup {
  readonly spec: string;
  readonly location: ScoreLocation;
}

/** Explicit bounds on one request. */
export const API_LIMITS = Object.freeze({
  /** Specs in one `scores` query. */
  lookupSpecs: 500,
  /** Distinct score objects one request may read (all fields and aliases together). */
  requestReads: 1000,
  /** Specs (or models) in one scoring mutation. */
  batchSpecs: 1000,
  /** Characters of one spec. */
  specChars: 10_000,
  /** Bytes of one uploaded model. */
  modelBytes: 64 * 1024 * 1024,
  /** Items per page of Batch.items. */
  itemsPage: 100,
  /** Records per page of dtbRecords. */
  dtbPage: 50,
  /** Points per page of benchmarkPoints. */
  benchmarkPage: 1000,
  /** Score records a percentile population reads at most (the first by architecture id: a sample when more are cached). */
  populationRecords: 5000,
  /** Distinct percentile populations (space, protocol, kind) one request may read: each can cost thousands of S3 reads. */
  populationsPerRequest: 2,
});

/**
 * Validates every spec with core and locates its score. The first invalid
 * one is BAD_USER_INPUT naming its index and spec; a protocol the space
 * refuses (e.g. fast training of uploaded models) is BAD_USER_INPUT naming the field.
 */
export async function locateAll(space: string, specs: readonly string[], dataset: string, p: ProtocolArgs): Promise<Lookup[]> {
  return Promise.all(
    specs.map(async (spec, index) => {
      if (spec.length > API_LIMITS.specChars) throw apiError("BAD_USER_INPUT", `specs[${index}] is longer than ${API_LIMITS.specChars} characters`, { index, field: "specs" });
      try {
        return { spec, location: await locateScore(space, spec, { dataset, ...p }) };
      } catch (e) {
        if (!isDasError(e)) throw e;
        const protocolField = e.details.field !== undefined && e.code !== "INVALID_ARCH_SPEC" && e.details.field !== "model";
        if (protocolField) throw fromDasError(e, { field: `protocol.${String(e.details.field)}` });
        throw fromDasError(e, { index, spec: spec.slice(0, 200), field: "specs" });
      }
    }),
  );
}

/** First occurrence of each architecture, in request order; and how many were dropped. */
export function dedupe(lookups: readonly Lookup[]): { unique: Lookup[]; duplicates: number } {
  const seen = new Set<string>();
  const unique = lookups.filter((l) => !seen.has(l.location.archId) && seen.add(l.location.archId));
  return { unique, duplicates: lookups.length - unique.length };
}
