// The local stack of `npm start` (scripts/start.mjs) for end-to-end tests: s3rver, `das serve` and
// the edge Worker under `wrangler dev`, on free loopback ports, data in a fresh temp folder.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, Proc, ROOT, serviceEnv, startS3rver, startService, waitFor, TEST_SECRET, type S3rver, type Service } from "./processes.js";

const WRANGLER_BIN = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

export interface Edge {
  /** `wrangler dev`; it leads its own process group (its node child, esbuild, workerd). */
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
}

export interface Stack {
  /** The data folder: s3/ (s3rver's objects) and wrangler/ (--persist-to: Durable Object state). */
  readonly root: string;
  readonly s3: S3rver;
  /** The running `das serve`; a new one after startGpu(). */
  readonly gpu: Service;
  readonly edge: Edge;
  /** Accepted by the Worker (DAS_API_KEYS): send as `Authorization: Bearer KEY`. */
  readonly apiKey: string;
  /** Shared by the Worker and `das serve` (DAS_GPU_SECRET). */
  readonly gpuSecret: string;
  /** Signals `das serve` by its pid (SIGKILL for a crash) and waits for the exit. */
  stopGpu(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts `das serve` again on the same port, against the same s3rver, with `env` added; resolves once /healthz answers. */
  startGpu(env?: Record<string, string>): Promise<Service>;
  /** Stops the Worker (its whole process group), `das serve`, then s3rver; removes the data folder unless `root` was given. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Data folder (made if missing, kept on stop); default a fresh temp folder, removed on stop. */
  root?: string;
  /** Default "test-api-key". */
  apiKey?: string;
  /** The Worker's DAS_BATCH_STALL_S; default wrangler.toml's. */
  stallSeconds?: number;
}

/** Starts s3rver, then `das serve`, then `wrangler dev`, each once its predecessor answers. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const root = opts.root ?? mkdtempSync(join(tmpdir(), "das-stack-"));
  const ownRoot = opts.root === undefined;
  const apiKey = opts.apiKey ?? "test-api-key";
  mkdirSync(join(root, "s3"), { recursive: true });
  mkdirSync(join(root, "wrangler"), { recursive: true });

  let s3: S3rver | undefined;
  let gpu: Service | undefined;
  let edge: Edge | undefined;
  const stop = async () => {
    if (edge) await stopGroup(edge.proc);
    if (gpu?.proc.running) await gpu.proc.stop();
    if (s3) await s3.proc.stop();
    if (ownRoot) rmSync(root, { recursive: true, force: true });
  };
  try {
    s3 = await startS3rver(join(root, "s3"));
    const s3Ref = s3;
    const gpuPort = await freePort();
    const startGpu = async (env: Record<string, string> = {}) => (gpu = await startService(serviceEnv(s3Ref, env), gpuPort));
    await startGpu();
    edge = await startEdge(join(root, "wrangler"), {
      DAS_S3_ENDPOINT: s3.endpoint,
      DAS_GPU_URL: `http://127.0.0.1:${gpuPort}`,
      DAS_GPU_SECRET: TEST_SECRET,
      DAS_API_KEYS: apiKey,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      ...(opts.stallSeconds === undefined ? {} : { DAS_BATCH_STALL_S: String(opts.stallSeconds) }),
    });
    const edgeRef = edge;
    return {
      root,
      s3: s3Ref,
      get gpu() {
        return gpu!;
      },
      edge: edgeRef,
      apiKey,
      gpuSecret: TEST_SECRET,
      stopGpu: (signal: NodeJS.Signals = "SIGTERM") => gpu!.proc.stop(signal),
      startGpu,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `wrangler dev` on a free loopback port with `vars` as --var NAME:VALUE; resolves once /healthz answers. */
async function startEdge(persistTo: string, vars: Record<string, string>): Promise<Edge> {
  const port = await freePort();
  const inspector = await freePort();
  const args = [WRANGLER_BIN, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", persistTo, "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const proc = new Proc(spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  groups.add(proc.pid);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("wrangler dev /healthz", async () => {
      if (!proc.running) throw new Error(`wrangler dev exited: ${proc.out.join("\n")}`);
      return (await fetch(`${url}/healthz`)).ok;
    }, 90_000, 200);
  } catch (e) {
    await stopGroup(proc);
    throw e;
  }
  return { proc, url, port };
}

/** Process groups started here: killed when the test process exits, whatever happened. */
const groups = new Set<number>();
process.once("exit", () => groups.forEach((g) => killGroup(g, "SIGKILL")));

function killGroup(pgid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is empty.
  }
}

/** SIGTERM to the group led by `proc`, SIGKILL after `timeoutMs`, then SIGKILL to whatever the group still holds. */
export async function stopGroup(proc: Proc, timeoutMs = 15_000): Promise<void> {
  if (proc.running) killGroup(proc.pid, "SIGTERM");
  const t = setTimeout(() => killGroup(proc.pid, "SIGKILL"), timeoutMs);
  try {
    await proc.exited;
  } finally {
    clearTimeout(t);
  }
  killGroup(proc.pid, "SIGKILL");
  groups.delete(proc.pid);
}

export interface PsEntry {
  readonly pid: number;
  readonly pgid: number;
  readonly command: string;
}

/** Live (not zombie) processes from `ps`, optionally only those in process group `pgid`. */
export function processes(pgid?: number): PsEntry[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  const all: PsEntry[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[3].startsWith("Z")) continue;
    all.push({ pid: Number(m[1]), pgid: Number(m[2]), command: m[4] });
  }
  return pgid === undefined ? all : all.filter((p) => p.pgid === pgid);
}
