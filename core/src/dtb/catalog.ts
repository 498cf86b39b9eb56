/**
 * Where DTB lives in S3 and how it is indexed. Records are `dtb/{protocolHash}/{archId}.json`; a
 * protocol's index is 16 shards `dtb/{protocolHash}/index/{0-f}.json`, split by the first hex digit
 * of the architecture id, each holding a small summary of its records (enough to filter, order and
 * page without reading the records). A push merges its records into the shards; writing the same
 * record or shard again is harmless.
 */
import { z } from "zod";
import { DasError } from "../errors.js";
import { DARTS_OPS, parseDarts, type DartsOp } from "../spaces/darts.js";
import type { DtbRecord } from "./record.js";

export const DTB_INDEX_VERSION = 1;
export const DTB_INDEX_SHARDS = 16;

const HASH = /^[0-9a-f]{64}$/;

export const dtbRecordKey = (protocolHash: string, archId: string): string => `dtb/${protocolHash}/${archId}.json`;
export const dtbShardOf = (archId: string): number => parseInt(archId[0], 16);
export const dtbShardKey = (protocolHash: string, shard: number): string => `dtb/${protocolHash}/index/${shard.toString(16)}.json`;
export const dtbShardKeys = (protocolHash: string): string[] => Array.from({ length: DTB_INDEX_SHARDS }, (_, s) => dtbShardKey(protocolHash, s));

export const DtbIndexEntrySchema = z
  .object({
    archId: z.string().regex(HASH),
    genotype: z.string().min(1),
    /** Distinct ops of both cells, in DARTS_OPS order. */
    ops: z.array(z.enum(DARTS_OPS)),
    params: z.number().int().positive(),
    finalTestAccuracy: z.number().min(0).max(1),
    /** WOT and DAS at initialisation (null when the kernel is singular). */
    initWot: z.number().finite().nullable(),
    initDas: z.number().finite().nullable(),
    states: z.number().int().positive(),
    builtAt: z.string(),
  })
  .strict();
export type DtbIndexEntry = z.infer<typeof DtbIndexEntrySchema>;

export const DtbIndexShardSchema = z
  .object({
    version: z.literal(DTB_INDEX_VERSION),
    protocolHash: z.string().regex(HASH),
    shard: z.number().int().min(0).max(DTB_INDEX_SHARDS - 1),
    /** Sorted by archId, one per architecture. */
    entries: z.array(DtbIndexEntrySchema),
  })
  .strict();
export type DtbIndexShard = z.infer<typeof DtbIndexShardSchema>;

/** The ops a genotype uses, in DARTS_OPS order. */
export function genotypeOps(genotype: string): DartsOp[] {
  const g = parseDarts(genotype);
  const used = new Set([...g.normal, ...g.reduce].map(([op]) => op));
  return DARTS_OPS.filter((op) => used.has(op));
}

export function dtbIndexEntry(r: DtbRecord): DtbIndexEntry {
  const init = r.states[0];
  return {
    archId: r.architecture.archId,
    genotype: r.architecture.genotype,
    ops: genotypeOps(r.architecture.genotype),
    params: r.params,
    finalTestAccuracy: r.finalTestAccuracy,
    initWot: init.wot,
    initDas: init.das,
    states: r.states.length,
    builtAt: r.build.builtAt,
  };
}

/** A shard with these entries added (an entry for an architecture already there replaces it). */
export function mergeDtbShard(existing: DtbIndexShard | null, protocolHash: string, shard: number, added: readonly DtbIndexEntry[]): DtbIndexShard {
  const byId = new Map((existing?.entries ?? []).map((e) => [e.archId, e]));
  for (const e of added) {
    if (dtbShardOf(e.archId) !== shard) throw new DasError("INTERNAL", `entry ${e.archId} does not belong in shard ${shard}`);
    byId.set(e.archId, e);
  }
  const entries = [...byId.values()].sort((a, b) => (a.archId < b.archId ? -1 : a.archId > b.archId ? 1 : 0));
  return { version: DTB_INDEX_VERSION, protocolHash, shard, entries };
}

/** A shard read from storage, checked (a corrupt shard is an error, not an empty one). */
export function parseDtbShard(value: unknown, key: string): DtbIndexShard {
  const r = DtbIndexShardSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new DasError("INTERNAL", `DTB index shard ${key} is invalid: ${issue.path.join(".")}: ${issue.message}`);
}
