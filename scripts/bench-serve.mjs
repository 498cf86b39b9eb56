// NB201 architectures per second through `das serve` (s3rver + the service, both started here)
// at DAS_GPU_CONCURRENCY 1 and 2, against `das score --archs` on the same list, and the share of
// wall time spent outside onnxruntime (session creation + runs). Usage:
//   npm run bench:serve [-- --count 20 --batch-size 128]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dasPlusUnavailable, resolveProtocol, signRequest } from "../core/dist/index.js";

const { values } = parseArgs({ options: { count: { type: "string", default: "20" }, "batch-size": { type: "string", default: "128" }, archs: { type: "string" } } });
const count = Number(values.count);
const batchSize = Number(values["batch-size"]);
const CLI = "gpu-worker/dist/cli/main.js";
// das serve adds DAS+ (and the synflow it weighs on NB201) wherever its rule applies: the CLI is asked for the same.
const dasPlusFlags = dasPlusUnavailable("nb201", resolveProtocol("nb201", { dataset: "cifar10", batchSize, seed: 1, fastTrainSteps: 0 })) ? [] : ["--proxies", "das_plus"];
const SECRET = "bench-secret-0123456789";

function specs() {
  const csv = values.archs ?? ["../shared/data/nb201/accuracy-dev.csv", "/work/shared/data/nb201/accuracy-dev.csv"].find((f) => existsSync(f));
  const lines = csv ? readFileSync(csv, "utf8").split("\n") : readFileSync("gpu-worker/data/nb201-sample.txt", "utf8").split("\n");
  const out = [...new Set(lines.map((l) => l.split(",").find((c) => c.startsWith("|"))).filter(Boolean))];
  return out.slice(0, count);
}

const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(f, ms = 120_000) { const end = Date.now() + ms; while (Date.now() < end) { try { if (await f()) return; } catch { /* not up yet: poll again */ } await sleep(50); } throw new Error("timed out"); }

async function signed(base, method, path, body) {
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = await signRequest({ method, pathWithQuery: path, body: text, secret: SECRET });
  const r = await fetch(base + path, { method, body: method === "GET" ? undefined : text, headers });
  return { status: r.status, json: await r.json() };
}

const runtimeMs = (s) => s.timings.sessionMs + s.timings.runMs;

async function throughService(list, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), "das-bench-s3-"));
  const s3port = await freePort();
  const s3 = spawn(process.execPath, ["node_modules/s3rver/bin/s3rver.js", "-d", dir, "-a", "127.0.0.1", "-p", String(s3port), "--configure-bucket", "das", "--silent"], { stdio: "ignore" });
  const port = await freePort();
  const env = { ...process.env, DAS_S3_ENDPOINT: `http://127.0.0.1:${s3port}`, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", DAS_GPU_SECRET: SECRET, DAS_EXECUTION_PROVIDER: "cpu", DAS_GPU_CONCURRENCY: String(concurrency) };
  const svc = spawn(process.execPath, [CLI, "serve", "--port", String(port)], { env, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(async () => (await fetch(`${base}/healthz`)).ok);
    // Warm-up item (tap choice, data load), on another seed so the timed batch finds nothing cached.
    await signed(base, "POST", "/v1/jobs", { batchId: "warm", items: [{ space: "nb201", spec: list[0] }], dataset: "cifar10", protocol: { batchSize, seed: 99 } });
    await until(async () => (await signed(base, "GET", "/v1/jobs/warm")).json.status === "finished");
    const t0 = performance.now();
    await signed(base, "POST", "/v1/jobs", { batchId: "bench", items: list.map((spec) => ({ space: "nb201", spec })), dataset: "cifar10", protocol: { batchSize, seed: 1 } });
    await until(async () => (await signed(base, "GET", "/v1/jobs/bench")).json.status === "finished");
    const wall = performance.now() - t0;
    let inRuntime = 0;
    for (let i = 0; i < list.length; i++) {
      const { key } = JSON.parse(readFileSync(join(dir, "das", `batches/bench/items/${i}.json._S3rver_object`), "utf8"));
      inRuntime += runtimeMs(JSON.parse(readFileSync(join(dir, "das", `${key}._S3rver_object`), "utf8")));
    }
    return { wall, inRuntime };
  } finally {
    svc.kill("SIGKILL");
    s3.kill("SIGTERM");
  }
}

function throughCli(list, workers) {
  const file = join(mkdtempSync(join(tmpdir(), "das-bench-")), "archs.txt");
  writeFileSync(file, list.join("\n"));
  spawnSync(process.execPath, [CLI, "score", "--space", "nb201", "--arch", list[0], "--batch-size", String(batchSize), "--quiet"]); // tap choice cached
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, "score", "--space", "nb201", "--archs", file, "--batch-size", String(batchSize), "--json", "--quiet", "--workers", String(workers), ...dasPlusFlags], { encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(r.stderr);
  const inRuntime = r.stdout.trim().split("\n").map((l) => runtimeMs(JSON.parse(l))).reduce((a, b) => a + b, 0);
  return { wall, inRuntime };
}

const list = specs();
console.log(`NB201, ${list.length} architectures, batch ${batchSize}, CPU provider${dasPlusFlags.length ? ", with DAS+ (synflow) on both paths" : ""}`);
const row = (name, { wall, inRuntime }, parallel) =>
  console.log(`${name.padEnd(34)} ${(list.length / (wall / 1000)).toFixed(2).padStart(6)} archs/s  wall ${(wall / 1000).toFixed(1)} s  outside the runtime ${(100 * (1 - inRuntime / (wall * parallel))).toFixed(0)}%`);
row("das serve, concurrency 1", await throughService(list, 1), 1);
row("das serve, concurrency 2", await throughService(list, 2), 2);
row("das score --archs, --workers 1", throughCli(list, 1), 1);
row("das score --archs, --workers 2", throughCli(list, 2), 2);
console.log(`outside the runtime: 1 - (onnxruntime session creation + run time of the activation score, summed over items) / (wall x parallel items); it includes graph building, the kernel, S3 and HTTP${dasPlusFlags.length ? ", and synflow's whole pass (graph, session, run) on both paths" : ""}.`);
