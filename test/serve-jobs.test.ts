import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyRequest } from "../core/dist/index.js";
import { S3BlobStore } from "../gpu-worker/dist/serve/s3-store.js";
import { malformedModel, memoryBombModel, sha256 } from "./helpers/models.js";
import { CLI, freePort, serviceEnv, startS3rver, startService, waitFor, TEST_SECRET, type S3rver, type Service } from "./helpers/processes.js";
import { signedFetch } from "./helpers/signed-fetch.js";

const NB201 = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|"];
const NB101 = '{"adjacency": [[0,1,1],[0,0,1],[0,0,0]], "ops": ["input","conv3x3-bn-relu","output"]}';
const DARTS =
  "Genotype(normal=[('sep_conv_3x3', 0), ('none', 1), ('dil_conv_5x5', 0), ('skip_connect', 1), ('max_pool_3x3', 2), ('avg_pool_3x3', 3), ('skip_connect', 0), ('sep_conv_5x5', 4)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('none', 1), ('dil_conv_3x3', 2), ('max_pool_3x3', 1), ('none', 0), ('none', 1), ('sep_conv_3x3', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
const PROTOCOL = { batchSize: 16, seed: 1, fastTrainSteps: 0 };
const EXACT = ["wot", "distinguishing", "activationUnits", "params"] as const;

const tmp = mkdtempSync(join(tmpdir(), "das-serve-jobs-"));
const cacheDir = join(tmp, "cache");

function das(args: string[]): any[] {
  const r = spawnSync(process.execPath, [CLI, ...args, "--batch-size", "16", "--seed", "1", "--json", "--quiet"], { encoding: "utf8", env: { ...process.env, DAS_CACHE_DIR: cacheDir }, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`das ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

let s3: S3rver;
let svc: Service;
let store: S3BlobStore;
let hook: Server;
let hookUrl: string;
const callbacks: { body: any; verified: boolean }[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  svc = await startService(serviceEnv(s3, { DAS_CACHE_DIR: cacheDir, DAS_GPU_CONCURRENCY: "2", DAS_GPU_CALLBACK_DELAY_MS: "50", DAS_GPU_MAX_BODY_BYTES: "65536" }));
  store = new S3BlobStore({ endpoint: s3.endpoint, bucket: "das", region: "us-east-1" });
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
  const port = await freePort();
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      void verifyRequest({ method: req.method!, pathWithQuery: req.url!, body, secret: TEST_SECRET, headers: req.headers as Record<string, string> }).then((v) => {
        callbacks.push({ body: JSON.parse(Buffer.from(body).toString()), verified: v.ok });
        res.writeHead(v.ok ? 204 : 401).end();
      });
    });
  });
  await new Promise<void>((r) => hook.listen(port, "127.0.0.1", () => r()));
  hookUrl = `http://127.0.0.1:${port}/hooks/das?x=1`;
});

afterAll(async () => {
  await svc?.proc.stop("SIGTERM");
  await s3?.proc.stop("SIGTERM");
  store?.destroy();
  await new Promise((r) => hook?.close(r));
});

const getJson = async (key: string) => {
  const b = await store.get(key);
  return b && JSON.parse(Buffer.from(b).toString());
};

describe("das serve jobs", () => {
  it("scores NB201, NB101, DARTS and ONNX items exactly as das score --json does; bad items fail alone with their codes", async () => {
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    const exported = join(tmp, "nb201.onnx");
    const ex = spawnSync(process.execPath, [CLI, "export", "--space", "nb201", "--arch", NB201[0], "--out", exported], { encoding: "utf8" });
    expect(ex.status, ex.stderr).toBe(0);
    const good = new Uint8Array(readFileSync(exported));
    const junk = malformedModel();
    const bomb = memoryBombModel();
    for (const m of [good, junk, bomb]) await store.put(`models/${sha256(m)}.onnx`, m);
    const wrongHash = "0".repeat(64);
    await store.put(`models/${wrongHash}.onnx`, good);

    const items = [
      { space: "nb201", spec: NB201[0] },
      { space: "nb101", spec: NB101 },
      { space: "darts", spec: DARTS },
      { space: "onnx", model: sha256(good) },
      { space: "nb201", spec: NB201[1] },
      { space: "nb201", spec: "|nor_conv_3x3~0|+|bogus~0|" },
      { space: "onnx", model: sha256(junk) },
      { space: "onnx", model: sha256(bomb) },
      { space: "onnx", model: wrongHash },
      { space: "onnx", model: "f".repeat(64) },
    ];
    const posted = await signedFetch(svc.url, "POST", "/v1/jobs", { batchId: "mixed-1", items, dataset: "cifar10", protocol: PROTOCOL, callbackUrl: hookUrl });
    expect(posted.status).toBe(202);
    expect(posted.json).toEqual({ batchId: "mixed-1", total: items.length });
    expect(await store.head("batches/mixed-1/manifest.json")).toBe(true);

    // Health answers while the batch runs.
    let healthyWhileRunning = false;
    await waitFor("the batch to finish", async () => {
      const h = await fetch(`${svc.url}/healthz`);
      const hj = (await h.json());
      if (h.status === 200 && hj.activeBatches > 0) healthyWhileRunning = true;
      const s = await signedFetch(svc.url, "GET", "/v1/jobs/mixed-1");
      return s.json.status === "finished";
    }, 240_000, 250);
    expect(healthyWhileRunning).toBe(true);
    const status = await signedFetch(svc.url, "GET", "/v1/jobs/mixed-1");
    expect(status.json).toEqual({ batchId: "mixed-1", status: "finished", total: 10, done: 10, failed: 5 });

    const outcomes = await Promise.all(items.map((_, i) => getJson(`batches/mixed-1/items/${i}.json`)));
    expect(outcomes[5].error.code).toBe("INVALID_ARCH_SPEC");
    expect(outcomes[6].error.code).toBe("MODEL_PARSE_ERROR");
    expect(outcomes[7].error.code).toBe("MODEL_CRASHED");
    expect(outcomes[8].error.code).toBe("INVALID_ARGUMENT");
    expect(outcomes[8].error.message).toMatch(/hashes to/);
    expect(outcomes[9].error.code).toBe("MODEL_NOT_FOUND");

    const cli = [
      ...das(["score", "--space", "nb201", "--arch", NB201[0], "--arch", NB201[1]]),
      ...das(["score", "--space", "nb101", "--arch", NB101]),
      ...das(["score", "--space", "darts", "--arch", DARTS]),
      ...das(["score", "--space", "onnx", "--model", exported, "--dataset", "cifar10"]),
    ];
    const served = await Promise.all([0, 4, 1, 2, 3].map(async (i) => getJson(outcomes[i].key)));
    for (const [k, rec] of served.entries()) {
      for (const f of EXACT) expect(rec[f], `${rec.space} ${f}`).toBe(cli[k][f]);
      expect(rec.archId).toBe(cli[k].archId);
      expect(rec.provenance).toMatchObject({ engineVersion: "0.1.0", executionProvider: "cpu", runtime: expect.stringMatching(/onnxruntime-node/), device: expect.any(String), durationMs: expect.any(Number), computedAt: expect.any(String) });
      expect(rec.provenance.tapStrategy).toBe(rec.tapStrategy);
      expect(rec.protocolHash).toMatch(/^[0-9a-f]{64}$/);
      expect(outcomes[[0, 4, 1, 2, 3][k]].key).toBe(`scores/0.1.0/cifar10/${rec.protocolHash}/${rec.archId}.json`);
    }

    await waitFor("the final callback", async () => callbacks.some((c) => c.body.finished));
    expect(callbacks.every((c) => c.verified)).toBe(true);
    const last = callbacks[callbacks.length - 1].body;
    expect(last).toEqual({ batchId: "mixed-1", done: 10, failed: 5, total: 10, finished: true });
    expect(callbacks.filter((c) => c.body.finished)).toHaveLength(1);
  });

  it("takes an uploaded model's weights and adapt per item, each its own score, as das score computes it", async () => {
    const exported = join(tmp, "nb201.onnx");
    const sha = sha256(new Uint8Array(readFileSync(exported)));
    const items = [{ space: "onnx", model: sha, weights: "keep" }, { space: "onnx", model: sha, weights: "init", adapt: false }];
    expect((await signedFetch(svc.url, "POST", "/v1/jobs", { batchId: "weights-1", items, dataset: "cifar10", protocol: PROTOCOL })).status).toBe(202);
    await waitFor("weights-1", async () => (await signedFetch(svc.url, "GET", "/v1/jobs/weights-1")).json.status === "finished", 120_000, 250);
    const [keep, init] = await Promise.all(items.map(async (_, i) => getJson((await getJson(`batches/weights-1/items/${i}.json`)).key)));
    expect(keep.weights).toEqual({ mode: "keep" });
    expect(init.weights).toMatchObject({ mode: "init" });
    expect(init.protocol).toMatchObject({ weights: "init", adapt: false });
    expect(keep.protocolHash).not.toBe(init.protocolHash);
    const [cliKeep] = das(["score", "--space", "onnx", "--model", exported, "--dataset", "cifar10", "--weights", "keep"]);
    for (const f of EXACT) expect(keep[f], f).toBe(cliKeep[f]);
    const bad = await signedFetch(svc.url, "POST", "/v1/jobs", { items: [{ space: "onnx", model: sha, adapt: "yes" }], dataset: "cifar10" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toMatchObject({ index: 0, field: "items.adapt" });
  });

  it("adds DAS+ where its rule applies (batch 128), as das score --proxies das_plus computes it, and not elsewhere", async () => {
    const items = [{ space: "nb201", spec: NB201[0] }, { space: "darts", spec: DARTS }];
    const posted = await signedFetch(svc.url, "POST", "/v1/jobs", { batchId: "das-plus-1", items, dataset: "cifar10", protocol: { batchSize: 128, seed: 1, fastTrainSteps: 0 } });
    expect(posted.status).toBe(202);
    await waitFor("das-plus-1", async () => (await signedFetch(svc.url, "GET", "/v1/jobs/das-plus-1")).json.status === "finished", 240_000, 250);
    const served = await Promise.all(items.map(async (_, i) => getJson((await getJson(`batches/das-plus-1/items/${i}.json`)).key)));
    const cli = (space: string, spec: string) => {
      const r = spawnSync(process.execPath, [CLI, "score", "--space", space, "--arch", spec, "--proxies", "das_plus", "--json", "--quiet"], { encoding: "utf8", env: { ...process.env, DAS_CACHE_DIR: cacheDir }, timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [nb201, darts] = [cli("nb201", NB201[0]), cli("darts", DARTS)];
    // NB201's rule weighs synflow, DARTS's only the activation metrics.
    // (Within float32 rounding: the service runs one intra-op thread per item, the CLI two.)
    expect(Object.keys(served[0].proxies)).toEqual(["synflow"]);
    expect(served[0].proxies.synflow / nb201.proxies.synflow).toBeCloseTo(1, 5);
    expect(served[1].proxies).toBeUndefined();
    for (const [k, want] of [nb201, darts].entries()) {
      for (const f of EXACT) expect(served[k][f], f).toBe(want[f]);
      const { value, ...rule } = served[k].dasPlus;
      expect(rule).toEqual({ rule: want.dasPlus.rule, parameters: want.dasPlus.parameters });
      expect(value).toBeCloseTo(want.dasPlus.value, 6);
    }
    // The first test's batch-16 records are outside DAS+'s calibration: none.
    expect((await getJson((await getJson("batches/mixed-1/items/0.json")).key)).dasPlus).toBeUndefined();
  });

  it("treats a re-posted batch as the same job and recomputes nothing; a different job under that id conflicts", async () => {
    const before = ((await (await fetch(`${svc.url}/healthz`)).json())).computed;
    const body = { batchId: "again-1", items: [{ space: "nb201", spec: NB201[0] }], dataset: "cifar10", protocol: PROTOCOL };
    expect((await signedFetch(svc.url, "POST", "/v1/jobs", body)).status).toBe(202);
    await waitFor("again-1", async () => (await signedFetch(svc.url, "GET", "/v1/jobs/again-1")).json.status === "finished");
    expect((await signedFetch(svc.url, "POST", "/v1/jobs", body)).status).toBe(202);
    await waitFor("again-1 re-posted", async () => (await signedFetch(svc.url, "GET", "/v1/jobs/again-1")).json.status === "finished");
    // The architecture was scored by the first test: the score object is reused, not recomputed.
    expect(((await (await fetch(`${svc.url}/healthz`)).json())).computed).toBe(before);
    const other = await signedFetch(svc.url, "POST", "/v1/jobs", { ...body, items: [{ space: "nb201", spec: NB201[1] }] });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe("CONFLICT");
    const generated = await signedFetch(svc.url, "POST", "/v1/jobs", { ...body, batchId: undefined });
    expect(generated.status).toBe(202);
    expect(generated.json.batchId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses wrong, stale and missing signatures with 401 UNAUTHENTICATED", async () => {
    const body = { items: [{ space: "nb201", spec: NB201[0] }], dataset: "cifar10" };
    const wrong = await signedFetch(svc.url, "POST", "/v1/jobs", body, { secret: "not-the-secret-at-all" });
    const stale = await signedFetch(svc.url, "POST", "/v1/jobs", body, { now: Math.floor(Date.now() / 1000) - 301 });
    const future = await signedFetch(svc.url, "GET", "/v1/jobs/mixed-1", undefined, { now: Math.floor(Date.now() / 1000) + 301 });
    const missing = await fetch(`${svc.url}/v1/jobs`, { method: "POST", body: JSON.stringify(body) });
    for (const r of [wrong, stale, future, { status: missing.status, json: await missing.json() }]) {
      expect(r.status).toBe(401);
      expect((r.json).error.code).toBe("UNAUTHENTICATED");
      expect((r.json).error.message).toEqual(expect.any(String));
    }
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });

  it("validates the body strictly, naming the field and item index", async () => {
    const post = (b: unknown) => signedFetch(svc.url, "POST", "/v1/jobs", b);
    const item = { space: "nb201", spec: NB201[0] };
    const cases: [unknown, Record<string, unknown>][] = [
      [{ items: [item], dataset: "imagenet" }, { field: "dataset" }],
      [{ items: [], dataset: "cifar10" }, { field: "items" }],
      [{ items: [item, { space: "nb201" }], dataset: "cifar10" }, { field: "items.spec", index: 1 }],
      [{ items: [item, item, { space: "resnet", spec: "x" }], dataset: "cifar10" }, { field: "items.space", index: 2 }],
      [{ items: [item], dataset: "cifar10", protocol: { batchSize: 1 } }, { field: "protocol.batchSize" }],
      [{ items: [item], dataset: "cifar10", extra: 1 }, { field: "extra" }],
      [{ items: [item], dataset: "cifar10", batchId: "../etc" }, { field: "batchId" }],
      [{ items: [item], dataset: "cifar10", callbackUrl: "ftp://x" }, { field: "callbackUrl" }],
    ];
    for (const [body, details] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe("INVALID_ARGUMENT");
      expect(r.json.error.details).toMatchObject(details);
    }
    const big = await post({ items: Array.from({ length: 700 }, () => item), dataset: "cifar10" });
    expect(big.status).toBe(413);
    const unknown = await signedFetch(svc.url, "GET", "/v1/jobs/no-such-batch");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
  });
});
