import { BatchCallbacks, type CallbackOptions, type ProgressBody } from "./callbacks.js";
import type { BlobStore } from "./blob-store.js";
import { putJson } from "./blob-store.js";
import { type BatchStore, type BatchCounts, type ItemOutcome, type Manifest } from "./batch-store.js";
import { isDasError } from "@das/core";
import { DtbPublisher } from "../dtb/publish.js";
import { isDtbItem, toErrorBody, type ItemScorer } from "./engine-adapter.js";
import type { JobQueue } from "./job-queue.js";

export type BatchStatus = "running" | "finished" | "incomplete";

export interface JobRunnerOptions {
  readonly batches: BatchStore;
  readonly blobs: BlobStore;
  readonly scorer: ItemScorer;
  readonly queue: JobQueue;
  readonly itemTimeoutMs: number;
  /** Wall-clock limit of a DTB item (training a network, not scoring one). */
  readonly dtbItemTimeoutMs: number;
  readonly callbacks: Omit<CallbackOptions, "log">;
  readonly log: (line: string) => void;
}

interface ActiveBatch {
  readonly manifest: Manifest;
  done: number;
  failed: number;
  readonly callbacks?: BatchCallbacks;
  readonly finished: Promise<void>;
}

/**
 * Runs batches: for each item without an outcome, score it unless its score
 * object exists, write the score object, then the item's outcome. A crash
 * between the two leaves a score object and no outcome; the next run (resume
 * or re-post) then writes only the outcome. A failing item never stops its batch.
 */
export class JobRunner {
  private readonly active = new Map<string, ActiveBatch>();
  /** Score keys being computed now: an architecture twice in flight is scored once. */
  private readonly computing = new Map<string, Promise<void>>();
  /** Items scored by this process (score objects written), for logs and /healthz. */
  computed = 0;

  private readonly dtbIndex: DtbPublisher;

  constructor(private readonly o: JobRunnerOptions) {
    this.dtbIndex = new DtbPublisher(o.blobs);
  }

  get activeBatches(): number {
    return this.active.size;
  }

  isActive(batchId: string): boolean {
    return this.active.has(batchId);
  }

  /** Starts (or joins) a batch whose manifest is in S3. */
  start(manifest: Manifest): Promise<void> {
    const existing = this.active.get(manifest.batchId);
    if (existing) return existing.finished;
    let resolve!: () => void;
    const batch: ActiveBatch = {
      manifest,
      done: 0,
      failed: 0,
      callbacks: manifest.callbackUrl ? new BatchCallbacks(manifest.callbackUrl, { ...this.o.callbacks, log: this.o.log }) : undefined,
      finished: new Promise<void>((r) => (resolve = r)),
    };
    this.active.set(manifest.batchId, batch);
    this.run(batch)
      .catch((e) => this.o.log(`batch ${manifest.batchId} stopped: ${(e as Error).stack ?? e}`))
      .finally(() => {
        this.active.delete(manifest.batchId);
        resolve();
      });
    return batch.finished;
  }

  /** Live counts of a running batch, else undefined. */
  counts(batchId: string): (BatchCounts & { status: BatchStatus }) | undefined {
    const b = this.active.get(batchId);
    return b && { total: b.manifest.items.length, done: b.done, failed: b.failed, status: "running" };
  }

  private progress(b: ActiveBatch): ProgressBody {
    const total = b.manifest.items.length;
    return { batchId: b.manifest.batchId, done: b.done, failed: b.failed, total, finished: b.done === total };
  }

  private async run(b: ActiveBatch): Promise<void> {
    const { manifest } = b;
    const finished = await this.o.batches.finishedIndexes(manifest.batchId);
    if (finished.size) {
      const counts = await this.o.batches.counts(manifest);
      b.done = counts.done;
      b.failed = counts.failed;
    }
    const running: Promise<void>[] = [];
    for (let index = 0; index < manifest.items.length; index++) {
      if (finished.has(index)) continue;
      if (!(await this.o.queue.acquire())) break; // draining: the rest waits for the next start
      running.push(
        this.item(manifest, index)
          .then((outcome) => {
            b.done++;
            if ("error" in outcome) b.failed++;
            if (b.done < manifest.items.length) void b.callbacks?.update(this.progress(b));
          })
          .catch((e) => this.o.log(`batch ${manifest.batchId} item ${index}: outcome not stored (${(e as Error).message}); it runs again on resume or re-post`))
          .finally(() => this.o.queue.release()),
      );
    }
    await Promise.all(running);
    if (b.done === manifest.items.length) {
      this.o.log(`batch ${manifest.batchId} finished: ${b.done - b.failed} scored, ${b.failed} failed`);
      await b.callbacks?.update(this.progress(b));
    }
  }

  /** One item: its outcome, stored. Throws only when the store fails. */
  private async item(m: Manifest, index: number): Promise<ItemOutcome> {
    const item = m.items[index];
    let outcome: ItemOutcome;
    try {
      const { key } = await this.o.scorer.keyFor(item, m.protocol);
      const timeoutMs = isDtbItem(item) ? this.o.dtbItemTimeoutMs : this.o.itemTimeoutMs;
      await this.ensureScore(key, () => this.o.scorer.score(item, m.protocol, { timeoutMs }));
      // Indexed whether built now or found stored: a crash between the record and its index entry heals here.
      // A stored record that is not a valid one (DasError) fails the item; S3's own failures stop it for a re-run.
      if (isDtbItem(item)) {
        try {
          await this.dtbIndex.indexStored(key);
        } catch (e) {
          if (isDasError(e)) throw e;
          throw new StoreError(`storage failed: ${(e as Error).message}`, { cause: e });
        }
      }
      outcome = { key };
    } catch (e) {
      if (isStoreError(e)) throw e;
      outcome = { error: toErrorBody(e) };
      if (outcome.error.code === "INTERNAL") this.o.log(`batch ${m.batchId} item ${index}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    await this.o.batches.putOutcome(m.batchId, index, outcome);
    return outcome;
  }

  private ensureScore(key: string, score: () => Promise<Record<string, unknown>>): Promise<void> {
    let p = this.computing.get(key);
    if (!p) {
      p = (async () => {
        if (await storeCall(() => this.o.blobs.head(key))) return;
        const started = performance.now();
        const record = await score();
        await storeCall(() => putJson(this.o.blobs, key, record));
        this.computed++;
        this.o.log(`computed ${key} in ${(performance.now() - started).toFixed(0)} ms`);
      })().finally(() => this.computing.delete(key));
      this.computing.set(key, p);
    }
    return p;
  }
}

/** A failure of S3 itself, kept apart from an item's own failure (which becomes its outcome). */
class StoreError extends Error {}
const isStoreError = (e: unknown) => e instanceof StoreError;
async function storeCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new StoreError(`storage failed: ${(e as Error).message}`, { cause: e });
  }
}
