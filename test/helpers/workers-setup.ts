// Global setup of the "workers" vitest project (functions/test/**, run inside workerd by
// @cloudflare/vitest-pool-workers). It runs in Node, before the pool starts workerd: it builds the
// packages the Worker imports from their dist/, starts a real s3rver on a free loopback port and
// hands its endpoint to the pool (vitest.config.ts reads it with `inject`) and to the tests, and
// listens on the Worker's DAS_GPU_URL with a recorder (gpu-recorder.ts) in place of the GPU function:
// the Worker's own tests check what it sends; test/edge-e2e.test.ts runs the real `das serve`.
// The shipped DTB-mini is pushed into that s3rver with the real `das dtb push`, and a summary of
// its records (read here from the files) is provided for the tests to check the API against; so is
// the truth fixture test/fixtures/truth/nb201-mini.csv, pushed with `das truth push`, with its rows.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildDashboardIfStale } from "../global-setup.js";
import { startGpuRecorder } from "./gpu-recorder.js";
import type { TestProject } from "vitest/node";
import { freePort, ROOT, startS3rver, TEST_SECRET } from "./processes.js";
import { TRUTH_MINI_TARGETS, WORKER_TEST_SECRETS, type DtbSummary, type TruthMiniRow } from "./workers-context.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The Worker imports @das/core and @das/schema from their dist/: build first (incremental, about
  // a second when nothing changed) so the tests never run yesterday's code.
  const tsc = resolve(ROOT, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-b", "core", "schema", "gpu-worker"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`the build failed (tsc -b core schema gpu-worker exited ${r.status}): the Worker would run stale code`);
  buildDashboardIfStale(ROOT);

  if (WORKER_TEST_SECRETS.DAS_GPU_SECRET !== TEST_SECRET) throw new Error("workers-context.ts's DAS_GPU_SECRET differs from processes.ts's TEST_SECRET");
  const s3 = await startS3rver();
  const gpuPort = await freePort();
  project.provide("dasS3Endpoint", s3.endpoint);
  project.provide("dasS3Dir", s3.dir);
  project.provide("dtbMini", pushDtbMini(s3.endpoint));
  project.provide("truthMini", pushTruthMini(s3.endpoint));
  project.provide("dasGpuUrl", `http://127.0.0.1:${gpuPort}`);
  project.provide("dasGpuPort", gpuPort);
  const recorder = await startGpuRecorder(gpuPort, TEST_SECRET);
  return async () => {
    await recorder.close();
    await s3.proc.stop();
    rmSync(s3.dir, { recursive: true, force: true });
  };
}

/** `das truth push` of the NB201 truth fixture, one object per target; its rows as the CSV holds them (split here, not parsed by core). */
function pushTruthMini(endpoint: string): TruthMiniRow[] {
  const csv = join(ROOT, "test/fixtures/truth/nb201-mini.csv");
  for (const target of TRUTH_MINI_TARGETS) {
    const push = spawnSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), "truth", "push", "--space", "nb201", "--csv", csv, "--target", target, "--endpoint", endpoint, "--bucket", "das"], {
      encoding: "utf8",
      env: { ...process.env, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    if (push.status !== 0) throw new Error(`das truth push exited ${push.status}: ${push.stderr}`);
  }
  const [header, ...lines] = readFileSync(csv, "utf8").trim().split("\n");
  const columns = header.split(",");
  return lines.map((line) => {
    const cells = Object.fromEntries(line.split(",").map((v, i) => [columns[i], v]));
    return { spec: cells.arch, values: Object.fromEntries(TRUTH_MINI_TARGETS.map((t) => [t, Number(cells[t])])) };
  });
}

/** `das dtb push` of gpu-worker/data/dtb-mini into the test s3rver; the records' summaries, from the files. */
function pushDtbMini(endpoint: string): DtbSummary[] {
  const dir = join(ROOT, "gpu-worker/data/dtb-mini");
  const push = spawnSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), "dtb", "push", "--dir", dir, "--endpoint", endpoint, "--bucket", "das"], {
    encoding: "utf8",
    env: { ...process.env, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  if (push.status !== 0) throw new Error(`das dtb push exited ${push.status}: ${push.stderr}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const r = JSON.parse(readFileSync(join(dir, f), "utf8"));
      return { archId: r.architecture.archId, genotype: r.architecture.genotype, protocolHash: r.protocol.hash, finalTestAccuracy: r.finalTestAccuracy, params: r.params, initWot: r.states[0].wot, states: r.states.length };
    });
}
