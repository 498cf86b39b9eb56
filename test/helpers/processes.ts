import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "gpu-worker/dist/cli/main.js");
const S3RVER_BIN = join(ROOT, "node_modules/s3rver/bin/s3rver.js");

/** A port the OS says is free now (it may be taken again before use; fine for loopback tests). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ok` resolves true or the deadline passes. */
export async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A spawned process with its output kept, stopped by its own pid. */
export class Proc {
  readonly out: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    let buf = "";
    const take = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      this.out.push(...lines);
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    this.exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal to this pid only, and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 20_000) {
    if (this.running) process.kill(this.pid, signal);
    const t = setTimeout(() => this.running && process.kill(this.pid, "SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}

export interface S3rver {
  readonly proc: Proc;
  readonly endpoint: string;
  /** Where s3rver keeps objects: DIR/{bucket}/{key}._S3rver_object. */
  readonly dir: string;
  objectFile(key: string): string;
}

/** s3rver 3.7.1 from its bin, on a free loopback port, data in `dir` (default a fresh temp folder), bucket `das`. */
export async function startS3rver(dir = mkdtempSync(join(tmpdir(), "das-s3rver-"))): Promise<S3rver> {
  const port = await freePort();
  const proc = new Proc(spawn(process.execPath, [S3RVER_BIN, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "--configure-bucket", "das", "--silent"], { stdio: ["ignore", "pipe", "pipe"] }));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor("s3rver", async () => (await fetch(`${endpoint}/das?list-type=2`)).status === 200, 30_000);
  return { proc, endpoint, dir, objectFile: (key) => join(dir, "das", `${key}._S3rver_object`) };
}

export interface Service {
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
}

export const TEST_SECRET = "test-secret-0123456789abcdef";

/** The service's environment for an s3rver: credentials, endpoint, secret, plus `extra`. */
export function serviceEnv(s3: S3rver, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    DAS_S3_ENDPOINT: s3.endpoint,
    DAS_S3_BUCKET: "das",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    DAS_GPU_SECRET: TEST_SECRET,
    DAS_EXECUTION_PROVIDER: "cpu",
    ...extra,
  };
}

/** `das serve` from the built CLI on a free port; resolves once /healthz answers. */
export async function startService(env: Record<string, string>, port?: number): Promise<Service> {
  port ??= await freePort();
  const proc = new Proc(spawn(process.execPath, [CLI, "serve", "--host", "127.0.0.1", "--port", String(port)], { env, stdio: ["ignore", "pipe", "pipe"] }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor("das serve /healthz", async () => {
    if (!proc.running) throw new Error(`das serve exited: ${proc.out.join("\n")}`);
    return (await fetch(`${url}/healthz`)).ok;
  }, 60_000);
  return { proc, url, port };
}
