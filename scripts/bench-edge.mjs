// Cache-hit `scores` through the edge Worker under `wrangler dev` (the local stack of `npm start`,
// started here on free loopback ports with its data in a temp folder): latency p50/p99 and requests
// per second at 1, 10 and 50 concurrent connections, with autocannon, for one request of SPECS
// specs; side by side, the Worker's /healthz (no GraphQL, no S3) as the floor of the same path.
// Twice: with the isolate's memo of score records (the default), and with it off
// (DAS_SCORE_MEMO_ENTRIES=0: every lookup reads s3rver).
// Usage: npm run bench:edge [-- --specs 20 --seconds 10]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({ options: { specs: { type: "string", default: "20" }, seconds: { type: "string", default: "10" } } });
const nSpecs = Number(values.specs);
const seconds = Number(values.seconds);
const KEY = "bench-edge-key";
const PROTOCOL = { batchSize: 16 };

const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function specs() {
  const csv = ["../shared/data/nb201/accuracy-dev.csv"].find((f) => { try { readFileSync(f); return true; } catch { return false; } });
  const lines = csv ? readFileSync(csv, "utf8").split("\n") : readFileSync("gpu-worker/data/nb201-sample.txt", "utf8").split("\n");
  const out = [...new Set(lines.map((l) => l.split(",").find((c) => c.startsWith("|"))).filter(Boolean))].slice(0, nSpecs);
  if (out.length < nSpecs) throw new Error(`only ${out.length} NB201 specs available, asked for ${nSpecs}`);
  return out;
}

async function startStack(extraEnv) {
  const [s3, gpu, edge] = [await freePort(), await freePort(), await freePort()];
  const root = mkdtempSync(join(tmpdir(), "das-bench-edge-"));
  const env = { ...process.env, DAS_S3_PORT: String(s3), DAS_GPU_PORT: String(gpu), DAS_EDGE_PORT: String(edge), DAS_DATA_ROOT: root, DAS_API_KEY: KEY, ...extraEnv };
  const proc = spawn(process.execPath, ["scripts/start.mjs"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.once("exit", r));
  const url = `http://127.0.0.1:${edge}`;
  const end = Date.now() + 180_000;
  while (!out.includes("GraphQL:")) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`the stack did not start:\n${out}`);
    await sleep(200);
  }
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([exited, sleep(30_000)]);
    const pid = proc.pid;
    if (pid !== undefined) try { process.kill(-pid, "SIGKILL"); } catch { /* the group is gone */ }
    rmSync(root, { recursive: true, force: true });
  };
  return { url, stop, log: () => out };
}

async function gql(url, query, variables) {
  const r = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify({ query, variables }) });
  const j = await r.json();
  if (j.errors) throw new Error(JSON.stringify(j.errors));
  return j.data;
}

async function seed(url, list) {
  const m = await gql(url, "mutation($s: [String!]!, $p: ProtocolInput) { scoreArchitectures(input: { space: NB201, specs: $s, protocol: $p }) { batch { id } } }", { s: list, p: PROTOCOL });
  const id = m.scoreArchitectures.batch.id;
  const t0 = performance.now();
  for (;;) {
    const b = (await gql(url, "query($id: ID!) { batch(id: $id) { status done failed total } }", { id })).batch;
    process.stderr.write(`\r[bench:edge] scoring the cache: ${b.done}/${b.total} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    if (b.status === "FINISHED") {
      process.stderr.write("\n");
      if (b.failed) throw new Error(`${b.failed} items failed while seeding`);
      return;
    }
    await sleep(500);
  }
}

async function load(opts) {
  const r = await autocannon({ ...opts, duration: seconds, pipelining: 1 });
  if (!r.requests.total) throw new Error(`${opts.url}: nothing answered in ${seconds} s (${r.errors} errors, ${r.timeouts} timeouts)`);
  // Requests still queued in wrangler dev's proxy and workerd keep them busy after autocannon
  // stops: wait until /healthz answers quickly again before the next row.
  const base = new URL(opts.url).origin;
  const end = Date.now() + 120_000;
  for (;;) {
    const t0 = performance.now();
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) }).then((x) => x.ok, () => false);
    if (ok && performance.now() - t0 < 50) break;
    if (Date.now() > end) throw new Error("the Worker did not drain within 120 s");
    await sleep(500);
  }
  // Failures are counted, not hidden: a row with any is reported with them.
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, total: r.requests.total, failed: r.errors + r.timeouts + r.non2xx };
}

async function measure(list, memo) {
  const stack = await startStack(memo === undefined ? {} : { DAS_SCORE_MEMO_ENTRIES: memo });
  try {
    await seed(stack.url, list);
    const query = "query($s: [String!]!, $p: ProtocolInput) { scores(input: { space: NB201, specs: $s, protocol: $p }) { architecture { id } wot distinguishing logActivationUnits das { value } } }";
    const body = JSON.stringify({ query, variables: { s: list, p: PROTOCOL } });
    const check = await gql(stack.url, query, { s: list, p: PROTOCOL });
    if (check.scores.length !== list.length || check.scores.some((x) => x === null)) throw new Error("not every spec is cached: the benchmark would measure misses");
    // Warm the isolate, the S3 client and the connections.
    await autocannon({ url: `${stack.url}/graphql`, method: "POST", headers: { "content-type": "application/json" }, body, connections: 10, amount: 200 });
    const rows = [];
    for (const connections of [1, 10, 50]) {
      const scores = await load({ url: `${stack.url}/graphql`, method: "POST", headers: { "content-type": "application/json" }, body, connections });
      const health = await load({ url: `${stack.url}/healthz`, connections });
      rows.push({ memo: memo ?? "5000 (default)", connections, scores, health });
      console.error(`[bench:edge] memo ${memo ?? "default"}, c=${connections}: scores p50 ${scores.p50} ms p99 ${scores.p99} ms ${scores.rps.toFixed(0)} req/s; healthz p50 ${health.p50} ms p99 ${health.p99} ms ${health.rps.toFixed(0)} req/s`);
    }
    if (rows.some((r) => r.scores.failed || r.health.failed)) {
      console.error(`[bench:edge] some requests failed; the stack's last error lines:\n${stack.log().split("\n").filter((l) => /error|\b5\d\d\b/i.test(l)).slice(-15).join("\n")}`);
    }
    return rows;
  } finally {
    await stack.stop();
  }
}

const list = specs();
const rows = [...(await measure(list, undefined)), ...(await measure(list, "0"))];
console.log(`\nCache-hit scores (${list.length} specs per request) through wrangler dev on loopback; ${seconds} s per row; autocannon`);
console.log(`machine: ${cpus()[0]?.model.trim()} x ${cpus().length}, node ${process.version}`);
console.log("| score memo | connections | scores p50 ms | scores p99 ms | scores req/s | scores failed | healthz p50 ms | healthz p99 ms | healthz req/s |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const { memo, connections: c, scores: x, health: h } of rows) {
  console.log(`| ${memo} | ${c} | ${x.p50} | ${x.p99} | ${x.rps.toFixed(0)} | ${x.failed} | ${h.p50} | ${h.p99} | ${h.rps.toFixed(0)} |`);
}
