/**
 * What the schema needs from its host, as ports: the Worker implements them
 * over S3, the GPU function and the batch Durable Object; tests can implement
 * them over anything. The schema itself never touches storage or the network.
 */
import type { DtbIndexEntry, DtbRecord, ScoreLocation, TruthTable } from "@das/core";

/** A score record as stored: `das score --json`'s object plus the GPU function's `provenance`. */
export type StoredScore = Readonly<Record<string, unknown>>;

/** A score with the location it was read from (the lookup's space and spec). */
export interface LocatedScore {
  readonly location: ScoreLocation;
  readonly spec: string;
  readonly record: StoredScore;
}

export type BatchStatus = "RUNNING" | "FINISHED";

export interface BatchProgress {
  readonly batchId: string;
  /** Items finished, scored or failed (cached items count as done from the start). */
  readonly done: number;
  readonly failed: number;
  readonly total: number;
  readonly finished: boolean;
}

export interface BatchSummary extends BatchProgress {
  readonly status: BatchStatus;
  /** Items answered from the cache when the batch was created. */
  readonly cached: number;
  readonly space: string;
  readonly dataset: string;
  readonly createdAt: string;
}

export type ItemState =
  | { readonly status: "PENDING" }
  | { readonly status: "SCORED"; readonly key: string }
  | { readonly status: "FAILED"; readonly code: string; readonly message: string };

export interface BatchItem {
  readonly index: number;
  readonly spec: string;
  readonly location: ScoreLocation;
  readonly cached: boolean;
  readonly state: ItemState;
}

/** A new batch: items already validated and located, deduplicated by architecture id. */
export interface NewBatch {
  readonly space: string;
  readonly dataset: string;
  readonly protocol: ProtocolArgs;
  readonly items: readonly { readonly spec: string; readonly location: ScoreLocation }[];
}

export interface ProtocolArgs {
  readonly batchSize: number;
  readonly seed: number;
  readonly fastTrainSteps: number;
  /** Uploaded models only (core refuses them for the search spaces): "init" (default) or "keep". */
  readonly weights?: "init" | "keep";
  /** Uploaded models only: adapt images to the model's input (default true). */
  readonly adapt?: boolean;
}

export interface ScoreStore {
  /** The stored records at these keys, null where none is stored; same order. */
  getMany(keys: readonly string[]): Promise<readonly (StoredScore | null)[]>;
}

export interface BatchService {
  create(batch: NewBatch): Promise<BatchSummary>;
  get(id: string): Promise<BatchSummary | null>;
  /** Items [offset, offset + limit) with their current state. */
  items(id: string, offset: number, limit: number): Promise<readonly BatchItem[]>;
  /** The current state first, then every change, ending after the finished one. */
  progress(id: string): Promise<AsyncIterable<BatchProgress>>;
}

export interface PresignedUpload {
  readonly url: string;
  readonly method: "PUT";
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string;
  readonly expiresAt: string;
}

export interface UploadService {
  presignModelPut(sha256: string, bytes: number): Promise<PresignedUpload>;
  /** True when a model is stored under this hash. */
  hasModel(sha256: string): Promise<boolean>;
}

/** DTB records and their index (core/src/dtb/catalog.ts), read-only. */
export interface DtbStore {
  /** Every index entry of a protocol, from all its shards; empty when nothing was pushed. */
  index(protocolHash: string): Promise<readonly DtbIndexEntry[]>;
  /** Records at these keys, null where none is stored; same order. */
  records(keys: readonly string[]): Promise<readonly (DtbRecord | null)[]>;
}

/** Benchmark ground truth (core/src/truth/catalog.ts) and listings of stored scores, read-only. */
export interface BenchmarkStore {
  /** Every truth table stored under truth/, validated; empty when none was pushed. */
  truthTables(): Promise<readonly TruthTable[]>;
  /** Every key under a prefix, in lexical order. */
  listKeys(prefix: string): Promise<readonly string[]>;
}

export interface SchemaContext {
  /** True when the request carried a valid API key. */
  readonly authenticated: boolean;
  readonly scores: ScoreStore;
  readonly batches: BatchService;
  readonly uploads: UploadService;
  readonly dtb: DtbStore;
  readonly benchmarks: BenchmarkStore;
}
