// `npm start`'s own script (scripts/start.mjs) for end-to-end tests: the whole local stack (s3rver,
// das serve, wrangler dev with the dashboard's static assets) on free loopback ports, its data in a
// fresh temp folder, stopped (every process group, then the folder) by stop().
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./cli.js";
import { freePort, Proc, waitFor } from "./processes.js";
import { processes, stopGroup } from "./stack.js";

export interface LocalStack {
  readonly proc: Proc;
  /** The edge Worker: the dashboard at `${edge}/`, the API at `${edge}/graphql`. */
  readonly edge: string;
  readonly s3: string;
  readonly apiKey: string;
  readonly dataRoot: string;
  stop(): Promise<void>;
}

/** Starts scripts/start.mjs and resolves once it prints that the stack is up (it has loaded its data by then). */
export async function startLocalStack(opts: { apiKey?: string; timeoutMs?: number } = {}): Promise<LocalStack> {
  const ports = { s3: await freePort(), gpu: await freePort(), edge: await freePort() };
  const dataRoot = mkdtempSync(join(tmpdir(), "das-local-stack-"));
  const apiKey = opts.apiKey ?? "local-stack-test-key";
  const env = { ...process.env, DAS_S3_PORT: String(ports.s3), DAS_GPU_PORT: String(ports.gpu), DAS_EDGE_PORT: String(ports.edge), DAS_DATA_ROOT: dataRoot, DAS_API_KEY: apiKey };
  const proc = new Proc(spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  const stop = async () => {
    // start.mjs stops its services (each its own process group) on SIGTERM; whatever is left goes with SIGKILL.
    const leftovers = () => processes().filter((p) => p.command.includes(dataRoot) || p.command.includes(`--port ${ports.gpu}`));
    if (proc.running) await proc.stop("SIGTERM", 90_000);
    await stopGroup(proc, 5_000);
    for (const p of leftovers()) {
      try {
        process.kill(-p.pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(dataRoot, { recursive: true, force: true });
  };
  try {
    await waitFor("npm start's 'stack is up'", async () => {
      if (!proc.running) throw new Error(`start.mjs exited: ${proc.out.join("\n")}`);
      return proc.out.some((l) => l.includes("DAS local stack is up"));
    }, opts.timeoutMs ?? 240_000, 250);
  } catch (e) {
    await stop();
    throw e;
  }
  return { proc, edge: `http://127.0.0.1:${ports.edge}`, s3: `http://127.0.0.1:${ports.s3}`, apiKey, dataRoot, stop };
}
