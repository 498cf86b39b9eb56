// `npm start`: the local stack on loopback, started in order and supervised.
//   [s3]   s3rver (the S3 emulator), objects under $DAS_DATA_ROOT/s3 (default .data/s3)
//   [gpu]  `das serve` (the GPU function) on the CPU provider
//   [edge] the edge Worker under `wrangler dev`, Durable Object state under $DAS_DATA_ROOT/wrangler
// Ports: DAS_S3_PORT (4568), DAS_GPU_PORT (8788), DAS_EDGE_PORT (8787); API key: DAS_API_KEY
// (default local-dev-key). A port in use is reported before anything starts. If a service exits
// on its own, the others are stopped and this exits non-zero with its last output. Ctrl-C or
// SIGTERM stops everything (each service's whole process group: wrangler's workerd too) and
// exits 0; a second Ctrl-C skips the GPU function's drain. A second start reuses the data.
// The first start loads the shipped DTB-mini (gpu-worker/data/dtb-mini) into s3 with `das dtb push`,
// and the benchmark truth of ../shared/data (when present) with `das truth push`.
// Plain Node, no dependencies. `das score` (npm run das -- score ...) stays the CLI.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const HOST = "127.0.0.1";
const GPU_SECRET = "local-dev-secret"; // das serve wants at least 16 characters
const TAIL_LINES = 40;

function portFrom(name, dflt) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} must be a port number in 1..65535, got '${raw}'`);
  return n;
}

function fail(message) {
  console.error(`[start] ${message}`);
  process.exit(1);
}

const ports = { s3: portFrom("DAS_S3_PORT", 4568), gpu: portFrom("DAS_GPU_PORT", 8788), edge: portFrom("DAS_EDGE_PORT", 8787) };
const dataRoot = resolve(ROOT, process.env.DAS_DATA_ROOT || ".data");
const apiKey = process.env.DAS_API_KEY || "local-dev-key";
const s3Url = `http://${HOST}:${ports.s3}`;
const gpuUrl = `http://${HOST}:${ports.gpu}`;
const edgeUrl = `http://${HOST}:${ports.edge}`;
const show = (p) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");

const services = [
  {
    name: "s3",
    what: "S3 emulator (s3rver)",
    portVar: "DAS_S3_PORT",
    port: ports.s3,
    args: [join(ROOT, "node_modules/s3rver/bin/s3rver.js"), "-d", join(dataRoot, "s3"), "-a", HOST, "-p", String(ports.s3), "--configure-bucket", "das", join(dataRoot, "s3rver-cors.xml"), "--silent"],
    env: process.env,
    ready: async () => (await get(`${s3Url}/das?list-type=2`)) === 200,
    afterReady: async (svc) => {
      await loadDtbMini(svc);
      await loadTruth(svc);
    },
    timeoutMs: 60_000,
  },
  {
    name: "gpu",
    what: "GPU function (das serve)",
    portVar: "DAS_GPU_PORT",
    port: ports.gpu,
    args: [join(ROOT, "gpu-worker/dist/cli/main.js"), "serve", "--host", HOST, "--port", String(ports.gpu)],
    env: {
      ...process.env,
      DAS_GPU_SECRET: GPU_SECRET,
      DAS_S3_ENDPOINT: s3Url,
      DAS_S3_BUCKET: "das",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      DAS_EXECUTION_PROVIDER: "cpu",
      // The AWS SDK's "releases after January 2027 need Node 22" notice, on every start.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? "true",
    },
    ready: async () => (await get(`${gpuUrl}/healthz`)) === 200,
    timeoutMs: 120_000,
  },
  {
    name: "edge",
    what: "edge Worker (wrangler dev)",
    portVar: "DAS_EDGE_PORT",
    port: ports.edge,
    // The Worker's vars and secrets as --var NAME:VALUE (wrangler splits at the first colon); they
    // override wrangler.toml's [vars] and any .dev.vars / .env.
    args: [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev",
      "--ip", HOST, "--port", String(ports.edge),
      "--persist-to", join(dataRoot, "wrangler"),
      "--show-interactive-dev-session=false",
      ...Object.entries({
        DAS_S3_ENDPOINT: s3Url,
        DAS_GPU_URL: gpuUrl,
        DAS_GPU_SECRET: GPU_SECRET,
        DAS_API_KEYS: apiKey,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        // Passed through when set (the edge benchmark measures the S3 path with 0).
        ...(process.env.DAS_SCORE_MEMO_ENTRIES ? { DAS_SCORE_MEMO_ENTRIES: process.env.DAS_SCORE_MEMO_ENTRIES } : {}),
      }).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    ready: async () => (await get(`${edgeUrl}/healthz`)) === 200,
    timeoutMs: 180_000,
  },
];

/** `das dtb push` of the shipped DTB-mini, unless s3 already holds its index (a later start). */
async function loadDtbMini(svc) {
  const { DTB_PROTOCOLS, dtbProtocolHash } = await import(join(ROOT, "core/dist/index.js"));
  const prefix = `dtb/${await dtbProtocolHash(DTB_PROTOCOLS.mini)}/index/`;
  // ListObjects v1: s3rver 3.7's v2 listing fails on Node 20 when truncated (its continuation token cipher).
  // Every shard the shipped records need (a start killed mid-push may have written only some).
  const dir = join(ROOT, "gpu-worker/data/dtb-mini");
  const needed = new Set(readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).map((f) => f[0]));
  const listing = await (await fetch(`${s3Url}/das?max-keys=1000&prefix=${encodeURIComponent(prefix)}`)).text();
  const present = new Set([...listing.matchAll(/<Key>[^<]*\/index\/([0-9a-f])\.json<\/Key>/g)].map((m) => m[1]));
  if ([...needed].every((s) => present.has(s))) return;
  const out = await dasToS3(svc, ["dtb", "push", "--dir", dir], "das dtb push of DTB-mini");
  print(svc, `DTB-mini loaded: ${out.trim()}`);
}

/** Benchmark ground truth `npm start` loads from ../shared/data: a space, its CSV and the columns. */
const SHARED_DATA = resolve(ROOT, "../shared/data");
const TRUTH = [
  { space: "nb201", file: "nb201/accuracy-dev.csv", targets: ["cifar10_test_acc", "cifar100_test_acc", "imagenet16_120_test_acc"] },
  { space: "nb101", file: "nb101/accuracy-dev.csv", targets: ["cifar10_val_acc"] },
  { space: "darts", file: "nb301/accuracy-dev.csv", targets: ["cifar10_val_acc"] },
];

/** `das truth push` of each benchmark column not yet in s3 (truth/{space}/{target}.json), when ../shared/data holds its CSV. */
async function loadTruth(svc) {
  const present = await (await fetch(`${s3Url}/das?max-keys=1000&prefix=truth/`)).text();
  const todo = TRUTH.flatMap(({ space, file, targets }) => targets.map((target) => ({ space, csv: join(SHARED_DATA, file), target })))
    .filter((t) => !present.includes(`<Key>truth/${t.space}/${t.target}.json</Key>`));
  if (todo.length === 0) return;
  const absent = todo.filter((t) => !existsSync(t.csv));
  if (absent.length) print(svc, `benchmark truth not loaded from ${show(SHARED_DATA)} (absent: ${[...new Set(absent.map((t) => show(t.csv)))].join(", ")}); load it with das truth push`);
  // The pushes are independent; each is one small object.
  await Promise.all(
    todo.filter((t) => existsSync(t.csv)).map(async (t) => {
      const out = JSON.parse(await dasToS3(svc, ["truth", "push", "--space", t.space, "--csv", t.csv, "--target", t.target], `das truth push of ${t.space} ${t.target}`));
      print(svc, `truth loaded: ${t.space} ${t.target} (${out.count} architectures)`);
    }),
  );
}

/** Runs `das ARGS --endpoint <s3> --bucket das` with the emulator's credentials; its stdout, its stderr printed as the service's. */
async function dasToS3(svc, args, what) {
  const child = spawn(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), ...args, "--endpoint", s3Url, "--bucket", "das"], {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => String(d).split("\n").filter(Boolean).forEach((l) => print(svc, l)));
  // "close", not "exit": stdout may still be delivering when the process has exited.
  const code = await new Promise((r) => child.once("close", r));
  if (code !== 0) throw new Error(`${what} exited ${code}`);
  return out;
}

/**
 * CORS of the S3 emulator: the dashboard's "Score on the server" PUTs a model to a presigned URL
 * from the Worker's origin (another port). Only that origin, only PUT: s3rver takes unsigned
 * requests, so a wider rule would let any page the developer opens read or write .data.
 */
function s3Cors(origin) {
  const origins = [origin, origin.replace(HOST, "localhost")].map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join("");
  return `<CORSConfiguration><CORSRule>${origins}<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>\n`;
}

async function get(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  await r.arrayBuffer();
  return r.status;
}

/** Resolves null when HOST:port can be bound now, else the error code (EADDRINUSE, EACCES...). */
function portProblem(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", (e) => res(e.code ?? String(e)));
    s.listen(port, HOST, () => s.close(() => res(null)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
let forced = false;

function launch(svc) {
  // detached: each service leads its own process group, so stopping it can signal the whole group
  // (wrangler's node child and its workerd processes), and a terminal Ctrl-C reaches only us.
  const child = spawn(process.execPath, svc.args, { cwd: ROOT, env: svc.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  svc.child = child;
  svc.tail = [];
  svc.exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.on("data", (d) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const line of lines) print(svc, line);
    });
    stream.on("end", () => buf && print(svc, buf));
  }
  child.once("error", (e) => print(svc, `failed to start: ${e.message}`));
  void svc.exited.then((how) => !stopping && died(svc, how));
}

function print(svc, line) {
  line = line.replace(/\r$/, "");
  svc.tail.push(line);
  if (svc.tail.length > TAIL_LINES) svc.tail.shift();
  process.stdout.write(line ? `[${svc.name}] ${line}\n` : `[${svc.name}]\n`);
}

const alive = (svc) => svc.child !== undefined && svc.child.exitCode === null && svc.child.signalCode === null;

function signalGroup(svc, signal) {
  if (!svc.child?.pid) return;
  try {
    process.kill(-svc.child.pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

async function died(svc, { code, signal }) {
  const how = signal ? `signal ${signal}` : `code ${code}`;
  console.error(`\n[start] ${svc.name} (${svc.what}) exited unexpectedly (${how}); its last output:`);
  for (const line of svc.tail) console.error(`  ${line}`);
  await shutdown(1);
}

/** Stops the services in reverse order (the GPU function drains into s3 before s3 goes). */
async function shutdown(exitCode) {
  if (stopping) return;
  stopping = true;
  for (const svc of [...services].reverse()) {
    if (svc.child === undefined) continue;
    if (alive(svc)) {
      // das serve drains running items for up to DAS_GPU_GRACE_MS (30 s by default).
      signalGroup(svc, forced ? "SIGKILL" : "SIGTERM");
      const deadline = Date.now() + (svc.name === "gpu" ? 45_000 : 15_000);
      while (alive(svc) && Date.now() < deadline) await sleep(100);
      if (alive(svc)) {
        console.error(`[start] ${svc.name} still running: SIGKILL`);
        signalGroup(svc, "SIGKILL");
        await Promise.race([svc.exited, sleep(5000)]);
      }
    }
    // Whatever the leader left behind in its group (workerd, esbuild) goes too.
    signalGroup(svc, "SIGKILL");
  }
  process.exit(exitCode);
}

function onSignal(signal) {
  if (stopping) {
    if (!forced) console.error(`[start] ${signal} again: killing everything now`);
    forced = true;
    for (const svc of services) signalGroup(svc, "SIGKILL");
    return;
  }
  console.error(`\n[start] ${signal}: stopping edge, gpu, s3 (Ctrl-C again to kill at once)`);
  void shutdown(0);
}

async function main() {
  const missing = services.map((svc) => svc.args[0]).filter((f) => !existsSync(f));
  if (missing.length) fail(`missing ${missing.map(show).join(", ")}: run \`npm run build\` (npm start does) or \`npm ci\``);
  const taken = [];
  for (const svc of services) {
    const problem = await portProblem(svc.port);
    if (problem) taken.push(`port ${svc.port} for ${svc.name} (${svc.what}) ${problem === "EADDRINUSE" ? "is already in use" : `cannot be bound (${problem})`}: stop what holds it or set ${svc.portVar}`);
  }
  if (new Set(Object.values(ports)).size < 3) taken.push(`the three ports must differ, got s3 ${ports.s3}, gpu ${ports.gpu}, edge ${ports.edge}`);
  if (taken.length) fail(taken.join("\n[start] "));

  // A closed terminal or pipe must not crash us before the services are stopped.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  mkdirSync(join(dataRoot, "s3"), { recursive: true });
  writeFileSync(join(dataRoot, "s3rver-cors.xml"), s3Cors(edgeUrl));
  mkdirSync(join(dataRoot, "wrangler"), { recursive: true });
  // Last resort (a crash here): no service outlives this process.
  process.on("exit", () => services.forEach((svc) => signalGroup(svc, "SIGKILL")));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  // If whatever started us goes away (say `sh -c` killed under npm), do not linger with the services.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && !stopping && onSignal("parent process gone"), 1000).unref();

  for (const svc of services) {
    const t0 = performance.now();
    console.log(`[start] starting ${svc.name}: ${svc.what} on ${HOST}:${svc.port}`);
    launch(svc);
    const deadline = Date.now() + svc.timeoutMs;
    for (;;) {
      if (stopping) return;
      if (await svc.ready().catch(() => false)) break;
      if (Date.now() > deadline) {
        console.error(`[start] ${svc.name} did not answer within ${svc.timeoutMs / 1000} s; its last output:`);
        for (const line of svc.tail) console.error(`  ${line}`);
        await shutdown(1);
        return;
      }
      await sleep(200);
    }
    console.log(`[start] ${svc.name} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (svc.afterReady) {
      try {
        await svc.afterReady(svc);
      } catch (e) {
        console.error(`[start] ${svc.name}: ${e instanceof Error ? e.message : String(e)}`);
        await shutdown(1);
        return;
      }
    }
  }

  console.log(`
  DAS local stack is up (all on loopback)
    GraphQL:       ${edgeUrl}/graphql
    API key:       ${apiKey}   send it as the header  Authorization: Bearer ${apiKey}  (mutations need it; DAS_API_KEY sets another)
                   curl -H 'Authorization: Bearer ${apiKey}' -H 'content-type: application/json' \\
                        -d '{"query":"{ __typename }"}' ${edgeUrl}/graphql
    Edge Worker:   ${edgeUrl}   (wrangler dev; 'ENOTFOUND workers.cloudflare.com' lines are harmless offline)
    GPU function:  ${gpuUrl}   (das serve, CPU provider, secret ${GPU_SECRET})
    S3 emulator:   ${s3Url}   (s3rver, bucket das, credentials S3RVER / S3RVER)
    Data:          ${show(dataRoot)}/s3 (objects as files: das/<key>._S3rver_object), ${show(dataRoot)}/wrangler (Durable Objects); kept across starts, delete the folder to reset
  Ctrl-C stops everything.
`);
}

await main();
