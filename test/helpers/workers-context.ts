// Shared by the "workers" vitest project's Node side (vitest.config.ts, workers-setup.ts) and its
// tests inside workerd (functions/test/**): keep it free of Node imports.

/** Secrets the Worker gets in the workers project (wrangler.toml holds none); DAS_GPU_SECRET is processes.ts's TEST_SECRET. */
export const WORKER_TEST_SECRETS = {
  DAS_GPU_SECRET: "test-secret-0123456789abcdef",
  DAS_GPU_SECRET_ALT: "test-rotating-secret-0123456789",
  DAS_API_KEYS: "test-key-1,test-key-2",
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
} as const;

/** A shipped DTB-mini record as workers-setup.ts reads it from its file. */
export interface DtbSummary {
  readonly archId: string;
  readonly genotype: string;
  readonly protocolHash: string;
  readonly finalTestAccuracy: number;
  readonly params: number;
  readonly initWot: number | null;
  readonly states: number;
}

/** The targets of test/fixtures/truth/nb201-mini.csv that workers-setup.ts pushes with `das truth push`. */
export const TRUTH_MINI_TARGETS = ["cifar10_test_acc", "cifar100_test_acc"] as const;

/** A row of that fixture: the arch column as written, and each pushed target's value. */
export interface TruthMiniRow {
  readonly spec: string;
  readonly values: Readonly<Record<string, number>>;
}

/** What workers-setup.ts provides: read with `inject("dasS3Endpoint")` from "vitest" (in tests or the pool options). */
declare module "vitest" {
  export interface ProvidedContext {
    /** s3rver's endpoint, http://127.0.0.1:PORT (bucket `das`, credentials S3RVER/S3RVER); also the Worker's DAS_S3_ENDPOINT. */
    dasS3Endpoint: string;
    /** s3rver's data folder on the Node side: objects are DIR/{bucket}/{key}._S3rver_object. */
    dasS3Dir: string;
    /** The Worker's DAS_GPU_URL, http://127.0.0.1:PORT: a port free at setup; nothing listens there unless something on the Node side starts a server on dasGpuPort. */
    dasGpuUrl: string;
    dasGpuPort: number;
    /** The shipped DTB-mini records, pushed into that s3rver by `das dtb push` before the tests. */
    dtbMini: DtbSummary[];
    /** The rows of test/fixtures/truth/nb201-mini.csv, pushed as truth/nb201/{target}.json for TRUTH_MINI_TARGETS. */
    truthMini: TruthMiniRow[];
  }
}
