/**
 * Benchmark truth and score listings for the schema. Each request lists truth/ (a push may have
 * changed it) but reads a truth object again only when its ETag changed: the tables, a few hundred
 * KB each, are kept in the isolate.
 */
import { mapBounded, parseTruthKey, parseTruthTable, TRUTH_PREFIX, type TruthTable } from "@das/core";
import type { BenchmarkStore } from "@das/schema";
import { S3_READ_CONCURRENCY, type Storage } from "./s3.js";

export class S3BenchmarkStore implements BenchmarkStore {
  private readonly tables = new Map<string, { etag: string; table: TruthTable }>();

  constructor(private readonly storage: Storage) {}

  async truthTables(): Promise<TruthTable[]> {
    const listed = (await this.storage.list(TRUTH_PREFIX)).filter((o) => parseTruthKey(o.key) !== null);
    for (const key of this.tables.keys()) if (!listed.some((o) => o.key === key)) this.tables.delete(key);
    const tables = await mapBounded(listed, S3_READ_CONCURRENCY, async ({ key, etag }) => {
      const kept = this.tables.get(key);
      if (kept && kept.etag === etag && etag !== "") return kept.table;
      const raw = await this.storage.getJson<unknown>(key);
      if (raw === null) return null; // deleted since the listing
      const table = parseTruthTable(raw, key);
      const named = parseTruthKey(key)!;
      if (table.space !== named.space || table.target !== named.target) throw new Error(`truth object ${key} holds ${table.space}/${table.target}`);
      this.tables.set(key, { etag, table });
      return table;
    });
    return tables.filter((t): t is TruthTable => t !== null);
  }

  async listKeys(prefix: string): Promise<string[]> {
    return (await this.storage.list(prefix)).map((o) => o.key);
  }
}
