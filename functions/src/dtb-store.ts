/**
 * DTB reads for the schema: a protocol's index from its 16 shards, records by key. Records are
 * kept in the isolate like score records (rebuilding one is rare and changes only its timings);
 * shards are read on every request, since a push changes them.
 */
import { dtbShardKeys, mapBounded, parseDtbRecord, parseDtbShard, type DtbIndexEntry, type DtbRecord } from "@das/core";
import type { DtbStore } from "@das/schema";
import { S3_READ_CONCURRENCY, type Storage } from "./s3.js";
import { ScoreMemo } from "./score-memo.js";

/** DTB records an isolate keeps (a few KB each). */
const RECORD_MEMO_ENTRIES = 2000;

export class S3DtbStore implements DtbStore {
  private readonly memo = new ScoreMemo<DtbRecord>(RECORD_MEMO_ENTRIES);

  constructor(private readonly storage: Storage) {}

  async index(protocolHash: string): Promise<DtbIndexEntry[]> {
    const keys = dtbShardKeys(protocolHash);
    const shards = await mapBounded(keys, S3_READ_CONCURRENCY, (k) => this.storage.getJson<unknown>(k));
    return shards.flatMap((s, i) => (s === null ? [] : parseDtbShard(s, keys[i]).entries));
  }

  records(keys: readonly string[]): Promise<(DtbRecord | null)[]> {
    return mapBounded(keys, S3_READ_CONCURRENCY, async (k) => {
      const kept = this.memo.get(k);
      if (kept) return kept;
      const raw = await this.storage.getJson<unknown>(k);
      if (raw === null) return null;
      const record = parseDtbRecord(raw);
      this.memo.set(k, record);
      return record;
    });
  }
}
