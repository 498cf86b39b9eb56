import { getJson, putJson, type BlobStore } from "./blob-store.js";
import type { ErrorBody, JobItem, JobProtocol } from "./engine-adapter.js";

/** A batch as accepted: written before the 202, never changed. */
export interface Manifest {
  readonly batchId: string;
  readonly dataset: string;
  readonly protocol: JobProtocol;
  readonly engineVersion: string;
  readonly items: readonly JobItem[];
  readonly callbackUrl?: string;
  readonly createdAt: string;
}

/** One item's end: the key of its score object, or why it has none. */
export type ItemOutcome = { readonly key: string } | { readonly error: ErrorBody };

export interface BatchCounts {
  readonly total: number;
  /** Items finished, scored or failed. */
  readonly done: number;
  /** Of those, items that failed. */
  readonly failed: number;
}

const ITEM_FILE = /\/items\/(\d+)\.json$/;

/** The batch layout over a BlobStore: `batches/{id}/manifest.json` and `batches/{id}/items/{index}.json`. */
export class BatchStore {
  constructor(readonly blobs: BlobStore) {}

  static manifestKey = (batchId: string) => `batches/${batchId}/manifest.json`;
  static itemKey = (batchId: string, index: number) => `batches/${batchId}/items/${index}.json`;

  getManifest(batchId: string): Promise<Manifest | undefined> {
    return getJson<Manifest>(this.blobs, BatchStore.manifestKey(batchId));
  }

  putManifest(m: Manifest): Promise<void> {
    return putJson(this.blobs, BatchStore.manifestKey(m.batchId), m);
  }

  putOutcome(batchId: string, index: number, outcome: ItemOutcome): Promise<void> {
    return putJson(this.blobs, BatchStore.itemKey(batchId, index), outcome);
  }

  /** Indexes of the items that have an outcome. */
  async finishedIndexes(batchId: string): Promise<Set<number>> {
    const keys = await this.blobs.list(`batches/${batchId}/items/`);
    return new Set(keys.map((k) => ITEM_FILE.exec(k)).filter((m) => m !== null).map((m) => Number(m[1])));
  }

  /** Every batch id with a manifest. */
  async batchIds(): Promise<string[]> {
    const keys = await this.blobs.list("batches/");
    return keys.filter((k) => k.endsWith("/manifest.json")).map((k) => k.slice("batches/".length, -"/manifest.json".length));
  }

  /** Counts derived from S3 alone (for batches this process is not running), reading every outcome. */
  async counts(m: Manifest): Promise<BatchCounts> {
    const indexes = [...(await this.finishedIndexes(m.batchId))];
    let failed = 0;
    for (let i = 0; i < indexes.length; i += 16) {
      const outcomes = await Promise.all(indexes.slice(i, i + 16).map((k) => getJson<ItemOutcome>(this.blobs, BatchStore.itemKey(m.batchId, k))));
      failed += outcomes.filter((o) => o && "error" in o).length;
    }
    return { total: m.items.length, done: indexes.length, failed };
  }
}
