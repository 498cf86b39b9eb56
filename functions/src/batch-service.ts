/** The schema's BatchService over batch Durable Objects (state, events) and S3 (the GPU function's item outcomes). */
import { mapBounded } from "@das/core";
import type { BatchItem, BatchProgress, BatchService, BatchSummary, ItemState, NewBatch } from "@das/schema";
import { apiError } from "@das/schema";
import type { BatchState, StoredItem } from "./batch-state.js";
import type { Env } from "./env.js";
import { MAX_JOB_BYTES, type GpuJob } from "./gpu-client.js";
import { S3_READ_CONCURRENCY, type Storage } from "./s3.js";

/** Batch ids: UUIDs made here, or any id the GPU function accepts. */
const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

type GpuOutcome = { readonly key: string } | { readonly error: { readonly code: string; readonly message: string } };

export const callbackPath = (batchId: string) => `/internal/batches/${batchId}/progress`;

export class EdgeBatches implements BatchService {
  constructor(
    private readonly env: Env,
    private readonly storage: Storage,
    /** Origin the GPU function calls back. */
    private readonly callbackBase: string,
  ) {}

  private stub(batchId: string) {
    return this.env.BATCHES.get(this.env.BATCHES.idFromName(batchId));
  }

  async create(b: NewBatch): Promise<BatchSummary> {
    const batchId = crypto.randomUUID();
    const cached = await mapBounded(b.items, S3_READ_CONCURRENCY, (i) => this.storage.exists(i.location.key));
    let next = 0;
    const items: StoredItem[] = b.items.map((i, k) => ({ spec: i.spec, location: i.location, cached: cached[k], gpuIndex: cached[k] ? null : next++ }));
    const misses = items.filter((i) => !i.cached);
    const job: GpuJob | null = misses.length
      ? {
          batchId,
          items: misses.map((i) =>
            b.space === "onnx"
              ? { space: "onnx" as const, model: i.location.canonicalSpec, weights: i.location.protocol.weights ?? "init", adapt: i.location.protocol.adapt ?? true }
              : { space: b.space, spec: i.spec },
          ),
          dataset: b.dataset,
          // Uploaded models' weights and adapt travel with each item (das serve's job protocol is numeric).
          protocol: { batchSize: b.protocol.batchSize, seed: b.protocol.seed, fastTrainSteps: b.protocol.fastTrainSteps },
          callbackUrl: new URL(callbackPath(batchId), this.callbackBase).toString(),
        }
      : null;
    if (job && new TextEncoder().encode(JSON.stringify(job)).length > MAX_JOB_BYTES) {
      throw apiError("BAD_USER_INPUT", `the GPU job for these ${misses.length} specs exceeds ${MAX_JOB_BYTES} bytes: split the request into smaller batches`, { field: "specs" });
    }
    const state: BatchState = { batchId, space: b.space, dataset: b.dataset, protocol: b.protocol, createdAt: new Date().toISOString(), items, job, gpuDone: 0, gpuFailed: 0, gpuFailure: null, unreachable: 0 };
    return this.stub(batchId).start(state);
  }

  async get(id: string): Promise<BatchSummary | null> {
    return BATCH_ID.test(id) ? this.stub(id).summary() : null;
  }

  async items(id: string, offset: number, limit: number): Promise<BatchItem[]> {
    const s = BATCH_ID.test(id) ? await this.stub(id).batch() : null;
    if (!s) return [];
    const page = s.items.slice(offset, offset + limit);
    const states = await mapBounded(page, S3_READ_CONCURRENCY, (i) => this.itemState(s, i));
    return page.map((i, k) => ({ index: offset + k, spec: i.spec, location: i.location, cached: i.cached, state: states[k] }));
  }

  private async itemState(s: BatchState, i: StoredItem): Promise<ItemState> {
    if (i.cached || i.gpuIndex === null) return { status: "SCORED", key: i.location.key };
    const outcome = await this.storage.getJson<GpuOutcome>(`batches/${s.batchId}/items/${i.gpuIndex}.json`);
    if (outcome && "key" in outcome) return { status: "SCORED", key: outcome.key };
    if (outcome) return { status: "FAILED", code: outcome.error.code, message: outcome.error.message };
    if (s.gpuFailure) return { status: "FAILED", ...s.gpuFailure };
    return { status: "PENDING" };
  }

  async progress(id: string): Promise<AsyncIterable<BatchProgress>> {
    const r = BATCH_ID.test(id) ? await this.stub(id).fetch("https://batch/events") : undefined;
    if (!r?.ok || !r.body) throw apiError("NOT_FOUND", `no batch '${id}'`, { batchId: id });
    return ndjson<BatchProgress>(r.body);
  }
}

/** The JSON values of a newline-delimited stream, as they arrive. */
async function* ndjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  // (The cast: Node's stream types, pulled in by the AWS SDK's, clash with the Workers' ones.)
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as T;
      }
    }
  } finally {
    // Also when the subscriber leaves early: lets the Durable Object drop the stream.
    await reader.cancel().catch(() => undefined);
  }
}
