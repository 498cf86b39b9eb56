import type { BatchObject } from "./batch-object.js";

/** The Worker's bindings: vars from wrangler.toml, secrets, the batch Durable Object namespace. */
export interface Env {
  /** S3 API endpoint (s3rver locally, R2's S3 endpoint); empty or unset: AWS. */
  readonly DAS_S3_ENDPOINT?: string;
  readonly DAS_S3_BUCKET: string;
  readonly DAS_S3_REGION: string;
  /** Base URL of the GPU function (`das serve`). */
  readonly DAS_GPU_URL: string;
  /** Seconds without progress before a batch re-posts its unfinished items. */
  readonly DAS_BATCH_STALL_S: string;
  /** Score records an isolate keeps in memory (immutable objects; 0: always read S3); unset: 5000. */
  readonly DAS_SCORE_MEMO_ENTRIES?: string;
  /** Base URL the GPU function calls back; unset: the origin of the request that created the batch. */
  readonly DAS_CALLBACK_BASE?: string;
  // Secrets.
  readonly DAS_GPU_SECRET: string;
  /** Also accepted on callbacks while DAS_GPU_SECRET rotates; never used to sign (docs/deploy.md). */
  readonly DAS_GPU_SECRET_ALT?: string;
  /** Comma-separated API keys accepted for mutations. */
  readonly DAS_API_KEYS: string;
  readonly AWS_ACCESS_KEY_ID: string;
  readonly AWS_SECRET_ACCESS_KEY: string;
  readonly BATCHES: DurableObjectNamespace<BatchObject>;
}
