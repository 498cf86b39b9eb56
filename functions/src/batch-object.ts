/**
 * One Durable Object per batch: it holds the batch (items, the GPU job, the
 * counts the GPU function reports), posts the job, fans progress out to
 * subscribers, and re-posts the job when progress stalls (the GPU function
 * skips what S3 already holds, so a re-post only finishes what is missing).
 */
import { DurableObject } from "cloudflare:workers";
import type { BatchProgress, BatchSummary } from "@das/schema";
import { progressOf, summaryOf, type BatchState } from "./batch-state.js";
import type { Env } from "./env.js";
import { postJob } from "./gpu-client.js";

/** Failed re-posts (GPU function unreachable) before the batch's remaining items fail with GPU_UNAVAILABLE. */
export const MAX_UNREACHABLE_REPOSTS = 5;
/** Re-posts in a row without any progress before the batch gives up the same way (busy, or callbacks that never come). */
export const MAX_STALLED_REPOSTS = 10;

const encoder = new TextEncoder();

export class BatchObject extends DurableObject<Env> {
  private state: BatchState | null | undefined;
  private readonly subscribers = new Set<WritableStreamDefaultWriter<Uint8Array>>();

  private async load(): Promise<BatchState | null> {
    if (this.state === undefined) this.state = (await this.ctx.storage.get<BatchState>("batch")) ?? null;
    return this.state;
  }

  private async save(s: BatchState): Promise<void> {
    this.state = s;
    await this.ctx.storage.put("batch", s);
  }

  private stallMs(): number {
    const s = Number(this.env.DAS_BATCH_STALL_S);
    return (Number.isFinite(s) && s > 0 ? s : 180) * 1000;
  }

  /** Stores a new batch and posts its job; a batch that exists is returned as it is. */
  async start(initial: BatchState): Promise<BatchSummary> {
    const existing = await this.load();
    if (existing) return summaryOf(existing);
    await this.save(initial);
    if (initial.job) await this.dispatch(initial, true);
    return summaryOf(initial);
  }

  async summary(): Promise<BatchSummary | null> {
    const s = await this.load();
    return s && summaryOf(s);
  }

  async batch(): Promise<BatchState | null> {
    return this.load();
  }

  /** A progress callback from the GPU function (signature already verified by the Worker). */
  async progress(p: { done: number; failed: number; total: number }): Promise<BatchProgress | null> {
    const s = await this.load();
    if (!s?.job) return null;
    // A batch that already gave up stays as it was reported.
    if (s.gpuFailure) return progressOf(s);
    // Counts only grow; callbacks can arrive out of order.
    s.gpuDone = Math.min(s.job.items.length, Math.max(s.gpuDone, p.done));
    s.gpuFailed = Math.max(s.gpuFailed, p.failed);
    s.unreachable = 0;
    s.stalls = 0;
    await this.save(s);
    const progress = progressOf(s);
    if (progress.finished) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Date.now() + this.stallMs());
    this.broadcast(progress);
    return progress;
  }

  /** No progress for a while: post the job again (idempotent on the GPU side). */
  override async alarm(): Promise<void> {
    const s = await this.load();
    if (!s?.job || s.gpuFailure || progressOf(s).finished) return;
    s.stalls = (s.stalls ?? 0) + 1;
    if (s.stalls > MAX_STALLED_REPOSTS) return this.giveUp(s, `no progress after ${MAX_STALLED_REPOSTS} re-posts`);
    await this.save(s);
    await this.dispatch(s, false);
  }

  private async dispatch(s: BatchState, first: boolean): Promise<void> {
    // The next look comes first: whatever happens to this post, the batch is not forgotten.
    await this.ctx.storage.setAlarm(Date.now() + this.stallMs());
    const outcome = await postJob(this.env.DAS_GPU_URL, this.env.DAS_GPU_SECRET, s.job!);
    switch (outcome.kind) {
      case "accepted":
      case "busy":
        if (outcome.kind === "busy") console.warn(`[batch ${s.batchId}] GPU function busy: ${outcome.reason}`);
        if (s.unreachable > 0) {
          s.unreachable = 0;
          await this.save(s);
        }
        return;
      case "refused":
        // A 4xx is not going to change on a retry (a wrong secret, a job it will not take).
        return this.giveUp(s, outcome.reason);
      case "unreachable":
        s.unreachable++;
        await this.save(s);
        // A first post that cannot reach the GPU function fails the batch at once, so callers learn it now.
        if (first || s.unreachable >= MAX_UNREACHABLE_REPOSTS) return this.giveUp(s, `unreachable: ${outcome.reason}`);
    }
  }

  /** The GPU items not done yet fail with GPU_UNAVAILABLE; the batch finishes. */
  private async giveUp(s: BatchState, why: string): Promise<void> {
    console.error(`[batch ${s.batchId}] giving up on the GPU function: ${why}`);
    s.gpuFailure = { code: "GPU_UNAVAILABLE", message: "the GPU function is unavailable; request scoring again later" };
    await this.save(s);
    await this.ctx.storage.deleteAlarm();
    this.broadcast(progressOf(s));
  }

  /** `GET /events`: newline-delimited progress, the current state first, closed after the finished event. */
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/events") return new Response("not found", { status: 404 });
    const s = await this.load();
    if (!s) return new Response("no such batch", { status: 404 });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const now = progressOf(s);
    void writer.write(encoder.encode(JSON.stringify(now) + "\n"));
    if (now.finished) void writer.close();
    else this.subscribers.add(writer);
    return new Response(readable, { headers: { "content-type": "application/x-ndjson" } });
  }

  private broadcast(p: BatchProgress): void {
    const line = encoder.encode(JSON.stringify(p) + "\n");
    for (const w of this.subscribers) {
      // A subscriber that went away is dropped; others still get the event.
      w.write(line).catch(() => this.subscribers.delete(w));
      if (p.finished) void w.close().catch(() => undefined);
    }
    if (p.finished) this.subscribers.clear();
  }
}
