/**
 * Writes DTB records to storage and merges them into their protocol's index shards
 * (core/src/dtb/catalog.ts). Used by `das dtb push` and by `das serve`'s DTB items.
 *
 * A shard update is read-merge-write. In one process, updates of one shard are serialised; two
 * processes writing the same shard at once can lose an entry (S3 has no compare-and-swap that the
 * local emulator honours), and `reindex` rebuilds a protocol's shards from the records themselves.
 */
import { dtbIndexEntry, dtbRecordKey, dtbShardKey, dtbShardKeys, dtbShardOf, mapBounded, mergeDtbShard, parseDtbRecord, parseDtbShard, type DtbIndexEntry, type DtbIndexShard, type DtbRecord } from "@das/core";
import { getJson, putJson, type BlobStore } from "../serve/blob-store.js";

/** Record writes in flight at once. */
const WRITE_CONCURRENCY = 8;

export interface PublishResult {
  readonly records: number;
  /** Shards written (one per protocol and shard touched). */
  readonly shards: number;
  readonly protocols: readonly string[];
}

export class DtbPublisher {
  private readonly shardLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly store: BlobStore) {}

  /** Writes the records, then merges their entries into the index (a record is listed only once stored). */
  async publish(records: readonly DtbRecord[]): Promise<PublishResult> {
    await mapBounded(records, WRITE_CONCURRENCY, (r) => putJson(this.store, dtbRecordKey(r.protocol.hash, r.architecture.archId), r));
    const groups = new Map<string, { hash: string; shard: number; entries: DtbIndexEntry[] }>();
    for (const r of records) {
      const shard = dtbShardOf(r.architecture.archId);
      const key = dtbShardKey(r.protocol.hash, shard);
      const g = groups.get(key) ?? { hash: r.protocol.hash, shard, entries: [] };
      g.entries.push(dtbIndexEntry(r));
      groups.set(key, g);
    }
    await Promise.all([...groups.values()].map((g) => this.mergeShard(g.hash, g.shard, g.entries)));
    return { records: records.length, shards: groups.size, protocols: [...new Set(records.map((r) => r.protocol.hash))] };
  }

  /** Merges the record stored at `key` into its protocol's index. */
  async indexStored(key: string): Promise<void> {
    const raw = await getJson<unknown>(this.store, key);
    if (raw === undefined) throw new Error(`no DTB record at ${key}`);
    const r = parseDtbRecord(raw);
    await this.mergeShard(r.protocol.hash, dtbShardOf(r.architecture.archId), [dtbIndexEntry(r)]);
  }

  /** Rebuilds every shard of a protocol from the records stored under it. */
  async reindex(protocolHash: string): Promise<PublishResult> {
    const keys = (await this.store.list(`dtb/${protocolHash}/`)).filter((k) => /\/[0-9a-f]{64}\.json$/.test(k));
    const byShard: DtbIndexEntry[][] = dtbShardKeys(protocolHash).map(() => []);
    await mapBounded(keys, WRITE_CONCURRENCY, async (k) => {
      const r = parseDtbRecord(await getJson(this.store, k));
      byShard[dtbShardOf(r.architecture.archId)].push(dtbIndexEntry(r));
    });
    await Promise.all(byShard.map((entries, shard) => this.withShardLock(dtbShardKey(protocolHash, shard), () => putJson(this.store, dtbShardKey(protocolHash, shard), mergeDtbShard(null, protocolHash, shard, entries)))));
    return { records: keys.length, shards: byShard.length, protocols: [protocolHash] };
  }

  private mergeShard(hash: string, shard: number, entries: readonly DtbIndexEntry[]): Promise<void> {
    const key = dtbShardKey(hash, shard);
    return this.withShardLock(key, async () => {
      const raw = await getJson<unknown>(this.store, key);
      const existing: DtbIndexShard | null = raw === undefined ? null : parseDtbShard(raw, key);
      await putJson(this.store, key, mergeDtbShard(existing, hash, shard, entries));
    });
  }

  private withShardLock<T>(key: string, f: () => Promise<T>): Promise<T> {
    const run = (this.shardLocks.get(key) ?? Promise.resolve()).then(f, f);
    const settled = run.catch(() => undefined);
    this.shardLocks.set(key, settled);
    void settled.then(() => this.shardLocks.get(key) === settled && this.shardLocks.delete(key));
    return run;
  }
}
