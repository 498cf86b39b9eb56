import type { ScoreLocation } from "@das/core";
import type { BatchProgress, BatchSummary, ProtocolArgs } from "@das/schema";
import type { GpuJob } from "./gpu-client.js";

/** One item of an edge batch; `gpuIndex` is its index in the GPU job when it was not cached. */
export interface StoredItem {
  readonly spec: string;
  readonly location: ScoreLocation;
  readonly cached: boolean;
  readonly gpuIndex: number | null;
}

/** Everything a batch's Durable Object keeps. */
export interface BatchState {
  readonly batchId: string;
  readonly space: string;
  readonly dataset: string;
  readonly protocol: ProtocolArgs;
  readonly createdAt: string;
  readonly items: readonly StoredItem[];
  /** The job posted to the GPU function (null when every item was cached). */
  readonly job: GpuJob | null;
  /** Counts the GPU function reported for its job. */
  gpuDone: number;
  gpuFailed: number;
  /** Set when the GPU function could not take the job: every GPU item failed with this. */
  gpuFailure: { readonly code: string; readonly message: string } | null;
  /** Posts in a row that could not reach the GPU function. */
  unreachable: number;
  /** Re-posts in a row with no progress in between (absent in batches stored before it existed). */
  stalls?: number;
}

const gpuTotal = (s: BatchState) => s.job?.items.length ?? 0;

export function progressOf(s: BatchState): BatchProgress {
  const total = s.items.length;
  const cached = total - gpuTotal(s);
  const gpuDone = s.gpuFailure ? gpuTotal(s) : s.gpuDone;
  const failed = s.gpuFailure ? gpuTotal(s) - s.gpuDone + s.gpuFailed : s.gpuFailed;
  const done = cached + gpuDone;
  return { batchId: s.batchId, done, failed, total, finished: done === total };
}

export function summaryOf(s: BatchState): BatchSummary {
  const p = progressOf(s);
  return { ...p, status: p.finished ? "FINISHED" : "RUNNING", cached: s.items.length - gpuTotal(s), space: s.space, dataset: s.dataset, createdAt: s.createdAt };
}
