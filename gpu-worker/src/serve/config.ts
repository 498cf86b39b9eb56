import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Everything `das serve` reads from its flags and environment, checked once at start. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly s3: { readonly endpoint?: string; readonly bucket: string; readonly region: string };
  readonly secret: string;
  /** DAS_GPU_SECRET_ALT: accepted on incoming requests during a rotation, never used to sign. */
  readonly altSecret?: string;
  /** Items scored at once. */
  readonly concurrency: number;
  /** Batches queued or running at once; more get 429. */
  readonly queueLimit: number;
  /** "auto": CUDA when its provider library and a GPU are present, else CPU. */
  readonly provider: "cuda" | "cpu" | "auto";
  readonly itemTimeoutMs: number;
  /** A DTB item trains a network: minutes on a CPU for `mini`, hours on a GPU for `paper`. */
  readonly dtbItemTimeoutMs: number;
  readonly graceMs: number;
  /** JS heap cap of an uploaded model's child process. */
  readonly childHeapMb: number;
  /** Address-space cap (prlimit --as) of that child; 0 disables it. */
  readonly childAddressSpaceMb: number;
  readonly callbackAttempts: number;
  readonly callbackBaseDelayMs: number;
  /** Largest request body accepted. */
  readonly maxBodyBytes: number;
  readonly maxItems: number;
  /** Resume unfinished batches found in S3 at start (off in a fleet sharing a bucket, where the edge's alarm re-posts them to one instance). */
  readonly resumeOnStart: boolean;
}

export const DEFAULT_PORT = 8788;

/** A misconfiguration, reported with the variable to fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function int(env: Record<string, string | undefined>, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in ${min}..${max}, got '${raw}'`);
  return n;
}

export function parseServeConfig(flags: { host?: string; port?: string }, env: Record<string, string | undefined> = process.env): ServeConfig {
  const secret = env.DAS_GPU_SECRET ?? "";
  if (secret.length < 16) throw new ConfigError("DAS_GPU_SECRET must be set to the shared signing secret (at least 16 characters); das serve refuses to start without it");
  const altSecret = env.DAS_GPU_SECRET_ALT || undefined;
  if (altSecret !== undefined && altSecret.length < 16) throw new ConfigError("DAS_GPU_SECRET_ALT, when set, must have at least 16 characters");
  const port = flags.port === undefined ? DEFAULT_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be an integer in 0..65535, got '${flags.port}'`);
  const endpoint = env.DAS_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) throw new ConfigError(`DAS_S3_ENDPOINT must be an http(s) URL, got '${endpoint}'`);
  const provider = env.DAS_EXECUTION_PROVIDER || "auto";
  if (provider !== "cuda" && provider !== "cpu" && provider !== "auto") throw new ConfigError(`DAS_EXECUTION_PROVIDER must be cuda, cpu or unset (CUDA when present), got '${provider}'`);
  // prlimit --as caps the child's address space; CUDA reserves huge virtual ranges, so the cap is off there.
  const prlimit = process.platform === "linux" && existsSync("/usr/bin/prlimit") ? 16_384 : 0;
  return {
    host: flags.host ?? "127.0.0.1",
    port,
    s3: { endpoint, bucket: env.DAS_S3_BUCKET || "das", region: env.DAS_S3_REGION || "us-east-1" },
    secret,
    altSecret,
    concurrency: int(env, "DAS_GPU_CONCURRENCY", provider === "cpu" ? Math.max(1, availableParallelism()) : 1, 1, 64),
    queueLimit: int(env, "DAS_GPU_QUEUE_LIMIT", 16, 1, 100_000),
    provider,
    itemTimeoutMs: int(env, "DAS_GPU_ITEM_TIMEOUT_MS", 120_000, 100, 3_600_000),
    dtbItemTimeoutMs: int(env, "DAS_GPU_DTB_TIMEOUT_MS", 12 * 3_600_000, 1000, 7 * 24 * 3_600_000),
    graceMs: int(env, "DAS_GPU_GRACE_MS", 30_000, 0, 3_600_000),
    childHeapMb: int(env, "DAS_GPU_CHILD_HEAP_MB", 2048, 16, 1_000_000),
    childAddressSpaceMb: int(env, "DAS_GPU_CHILD_AS_MB", prlimit, 0, 100_000_000),
    callbackAttempts: int(env, "DAS_GPU_CALLBACK_ATTEMPTS", 6, 1, 100),
    callbackBaseDelayMs: int(env, "DAS_GPU_CALLBACK_DELAY_MS", 500, 1, 600_000),
    maxBodyBytes: int(env, "DAS_GPU_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30),
    maxItems: int(env, "DAS_GPU_MAX_ITEMS", 10_000, 1, 1_000_000),
    resumeOnStart: int(env, "DAS_GPU_RESUME", 1, 0, 1) === 1,
  };
}
