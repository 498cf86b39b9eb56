// The Worker's GraphQL API inside workerd (@cloudflare/vitest-pool-workers), against the real s3rver
// of test/helpers/workers-setup.ts, with a recorder (test/helpers/gpu-recorder.ts) on DAS_GPU_URL
// that checks each job's signature and keeps it. The real `das serve` is in test/edge-e2e.test.ts.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { locateScore, signRequest } from "@das/core";
import { runDurableObjectAlarm, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { testS3 } from "./s3-client.js";

const A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const B = "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|";
const C = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
const PROTOCOL = { dataset: "cifar10", batchSize: 16, seed: 1, fastTrainSteps: 0 };
const D = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|";
const E = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|";
const KEY = "test-key-2";

const s3 = testS3();
const put = (key: string, value: unknown) => s3.send(new PutObjectCommand({ Bucket: "das", Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));

/** A score record as the GPU function stores it (values made up, fields as `das score --json`; WOT = D + N log N_A). */
function record(archId: string, protocolHash: string, d: number, logNa: number) {
  const wot = d + 16 * logNa;
  return {
    space: "nb201", archId, dataset: "cifar10", protocolHash, protocol: { dataset: "cifar10", batchSize: 16, seed: 1, fastTrainSteps: 0 },
    batchSize: 16, activationUnits: Math.exp(logNa), logActivationUnits: logNa, distinguishing: d, wot, singular: false, params: 1234, flops: 5678,
    provenance: { engineVersion: "0.1.0", runtime: "onnxruntime-node 1.30.0", executionProvider: "cpu", device: "test", durationMs: 3, computedAt: "2026-12-02T00:00:00.000Z" },
  };
}

async function gql(query: string, variables: Record<string, unknown> = {}, key: string | null = KEY) {
  const res = await SELF.fetch("http://edge/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...(await res.json<{ data?: any; errors?: { message: string; extensions: Record<string, any> }[] }>()) };
}

const recorder = async () => (await fetch(`${inject("dasGpuUrl")}/__recorder`)).json<{ jobs: any[]; rejected: number }>();
const recorderStatus = (status: number) => fetch(`${inject("dasGpuUrl")}/__recorder/status`, { method: "POST", body: JSON.stringify({ status }) });

const MUTATE = `mutation($specs: [String!]!) { scoreArchitectures(input: { space: NB201, specs: $specs, protocol: { batchSize: 16 } }) {
  duplicates batch { id status total done failed cached } } }`;
const BATCH = `query($id: ID!) { batch(id: $id) { status total done failed cached items(first: 10) { edges { node {
  spec status cached result { __typename ... on ItemError { code } ... on ScoredItem { data { wot } } } } } } } }`;

let locA: Awaited<ReturnType<typeof locateScore>>;
let locB: Awaited<ReturnType<typeof locateScore>>;

beforeAll(async () => {
  locA = await locateScore("nb201", A, PROTOCOL);
  locB = await locateScore("nb201", B, PROTOCOL);
  await put(locA.key, record(locA.archId, locA.protocolHash, 180.25, 2.5));
});

beforeEach(async () => {
  await fetch(`${inject("dasGpuUrl")}/__recorder/reset`, { method: "POST" });
});

describe("the edge API in workerd", () => {
  it("reads cached scores from S3: one, many in order with null for misses, DAS under another rule", async () => {
    const r = await gql(
      `query($a: String!, $s: [String!]!) {
        one: score(input: { space: NB201, spec: $a, protocol: { batchSize: 16 } }) { architecture { id spec } wot distinguishing das { value } half: das(rule: { alpha: 0.5 }) { value } provenance { provider } }
        many: scores(input: { space: NB201, specs: $s, protocol: { batchSize: 16 } }) { wot } }`,
      { a: A, s: [B, A, C] },
      null,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.one).toEqual({ architecture: { id: locA.archId, spec: A }, wot: 220.25, distinguishing: 180.25, das: { value: 220.25 }, half: { value: 180.25 + 0.5 * 16 * 2.5 }, provenance: { provider: "cpu" } });
    expect(r.data.many).toEqual([null, { wot: 220.25 }, null]);
  });

  it("needs an API key for mutations, compared against every configured key", async () => {
    expect((await gql(MUTATE, { specs: [A] }, null)).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    expect((await gql(MUTATE, { specs: [A] }, "test-key-")).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    const ok = await gql(MUTATE, { specs: [A] }, "test-key-1");
    expect(ok.errors).toBeUndefined();
  });

  it("answers a fully cached batch at once, without calling the GPU function", async () => {
    const r = await gql(MUTATE, { specs: [A, A] });
    expect(r.errors).toBeUndefined();
    expect(r.data.scoreArchitectures).toMatchObject({ duplicates: 1, batch: { status: "FINISHED", total: 1, done: 1, failed: 0, cached: 1 } });
    const b = await gql(BATCH, { id: r.data.scoreArchitectures.batch.id }, null);
    expect(b.data.batch.items.edges[0].node).toEqual({ spec: A, status: "SCORED", cached: true, result: { __typename: "ScoredItem", data: { wot: 220.25 } } });
    expect((await recorder()).jobs).toEqual([]);
  });

  it("sends the misses as one signed job and follows the GPU function's signed callbacks", async () => {
    const r = await gql(MUTATE, { specs: [B, A, C] });
    expect(r.errors).toBeUndefined();
    const batch = r.data.scoreArchitectures.batch;
    expect(batch).toMatchObject({ status: "RUNNING", total: 3, done: 1, failed: 0, cached: 1 });
    const { jobs, rejected } = await recorder();
    expect(rejected).toBe(0);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toEqual({
      batchId: batch.id,
      items: [{ space: "nb201", spec: B }, { space: "nb201", spec: C }],
      dataset: "cifar10",
      protocol: { batchSize: 16, seed: 1, fastTrainSteps: 0 },
      callbackUrl: `http://edge/internal/batches/${batch.id}/progress`,
    });

    // The GPU function stores B's score and outcome, fails C, and reports; unsigned reports are refused.
    await put(locB.key, record(locB.archId, locB.protocolHash, 83.5, 1));
    await put(`batches/${batch.id}/items/0.json`, { key: locB.key });
    await put(`batches/${batch.id}/items/1.json`, { error: { code: "TIMEOUT", message: "the item ran past 120000 ms" } });
    const path = `/internal/batches/${batch.id}/progress`;
    const body = JSON.stringify({ batchId: batch.id, done: 2, failed: 1, total: 2, finished: true });
    expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body })).status).toBe(401);
    const forged = await signRequest({ method: "POST", pathWithQuery: path, body, secret: "not-the-secret-at-all" });
    expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body, headers: forged })).status).toBe(401);
    // During a rotation the other secret (DAS_GPU_SECRET_ALT) is accepted too.
    const early = JSON.stringify({ batchId: batch.id, done: 1, failed: 0, total: 2, finished: false });
    const rotating = await signRequest({ method: "POST", pathWithQuery: path, body: early, secret: env.DAS_GPU_SECRET_ALT! });
    expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body: early, headers: rotating })).status).toBe(204);
    const signed = await signRequest({ method: "POST", pathWithQuery: path, body, secret: env.DAS_GPU_SECRET });
    expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body, headers: signed })).status).toBe(204);

    const b = await gql(BATCH, { id: batch.id }, null);
    expect(b.data.batch).toMatchObject({ status: "FINISHED", total: 3, done: 3, failed: 1, cached: 1 });
    expect(b.data.batch.items.edges.map((e: any) => e.node)).toEqual([
      { spec: B, status: "SCORED", cached: false, result: { __typename: "ScoredItem", data: { wot: 99.5 } } },
      { spec: A, status: "SCORED", cached: true, result: { __typename: "ScoredItem", data: { wot: 220.25 } } },
      { spec: C, status: "FAILED", cached: false, result: { __typename: "ItemError", code: "TIMEOUT" } },
    ]);
  });

  it("re-posts a stalled batch from the alarm, and fails it with GPU_UNAVAILABLE after 5 unreachable posts", async () => {
    const r = await gql(MUTATE, { specs: [C] });
    const id = r.data.scoreArchitectures.batch.id;
    expect(r.data.scoreArchitectures.batch.status).toBe("RUNNING");
    const stub = env.BATCHES.get(env.BATCHES.idFromName(id));
    // Stalled with the GPU function up: the alarm posts the same job again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    let seen = await recorder();
    expect(seen.jobs).toHaveLength(2);
    expect(seen.jobs[1]).toEqual(seen.jobs[0]);
    // Now every connection drops: four alarms leave it running, the fifth gives up.
    await recorderStatus(0);
    for (let i = 0; i < 4; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await gql(BATCH, { id }, null)).data.batch.status).toBe("RUNNING");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    seen = await recorder();
    expect(seen.jobs).toHaveLength(7);
    const b = await gql(BATCH, { id }, null);
    expect(b.data.batch).toMatchObject({ status: "FINISHED", done: 1, failed: 1 });
    expect(b.data.batch.items.edges[0].node.result).toEqual({ __typename: "ItemError", code: "GPU_UNAVAILABLE" });
    // Nothing is left scheduled, and a late callback does not reopen it.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("keeps re-posting a busy GPU function (429, 5xx) up to MAX_STALLED_REPOSTS without progress, and not past progress", async () => {
    await recorderStatus(503);
    const r = await gql(MUTATE, { specs: [E, D] });
    const id = r.data.scoreArchitectures.batch.id;
    expect(r.data.scoreArchitectures.batch).toMatchObject({ status: "RUNNING", cached: 0 });
    const stub = env.BATCHES.get(env.BATCHES.idFromName(id));
    for (let i = 0; i < 9; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    // Progress resets the count of stalled re-posts.
    const path = `/internal/batches/${id}/progress`;
    const body = JSON.stringify({ batchId: id, done: 1, failed: 0, total: 2, finished: false });
    const headers = await signRequest({ method: "POST", pathWithQuery: path, body, secret: env.DAS_GPU_SECRET });
    expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body, headers })).status).toBe(204);
    for (let i = 0; i < 10; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await gql(BATCH, { id }, null)).data.batch.status).toBe("RUNNING");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const b = await gql(BATCH, { id }, null);
    expect(b.data.batch).toMatchObject({ status: "FINISHED", done: 2, failed: 1 });
    expect((await recorder()).jobs).toHaveLength(1 + 9 + 10);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("fails a batch at once when the first post cannot reach the GPU function or is refused, and keeps answering queries", async () => {
    for (const status of [0, 401]) {
      await recorderStatus(status);
      const r = await gql(MUTATE, { specs: [A, C] });
      expect(r.errors).toBeUndefined();
      expect(r.data.scoreArchitectures.batch).toMatchObject({ status: "FINISHED", total: 2, done: 2, failed: 1, cached: 1 });
    }
    const q = await gql(`query($a: String!) { score(input: { space: NB201, spec: $a, protocol: { batchSize: 16 } }) { wot } }`, { a: A }, null);
    expect(q.data.score).toEqual({ wot: 220.25 });
  });

  it("refuses a batch whose GPU job would exceed the GPU function's body limit, before creating it", async () => {
    // 1000 distinct NB101 cells (a 7-vertex chain, three ops each on five vertices, and up to three
    // extra edges from the input), each written as indented JSON of about 1.2 KB: over 1 MiB as one job.
    const ops = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"];
    const extras = [[], [2], [3], [4], [5], [2, 3], [2, 4], [2, 5], [3, 4], [3, 5], [4, 5], [2, 3, 4], [2, 3, 5], [2, 4, 5], [3, 4, 5]];
    const specs = Array.from({ length: 1000 }, (_, k) => {
      const adjacency = Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => (j === i + 1 || (i === 0 && extras[k % 15].includes(j)) ? 1 : 0)));
      const mid = Array.from({ length: 5 }, (_, v) => ops[Math.floor(k / 15 / 3 ** v) % 3]);
      return JSON.stringify({ adjacency, ops: ["input", ...mid, "output"] }, null, 10);
    });
    expect(new Set(specs).size).toBe(1000);
    expect(specs[0].length).toBeGreaterThan(1100);
    const m = `mutation($s: [String!]!) { scoreArchitectures(input: { space: NB101, specs: $s, protocol: { batchSize: 16 } }) { batch { id } } }`;
    const r = await gql(m, { s: specs });
    expect(r.errors?.[0]).toMatchObject({ message: expect.stringMatching(/GPU job for these 1000 specs exceeds 1048576 bytes/), extensions: { code: "BAD_USER_INPUT", field: "specs" } });
    expect((await recorder()).jobs).toEqual([]);
  });

  it("streams batch progress over SSE: the current state, each callback, then the end", async () => {
    const r = await gql(MUTATE, { specs: [D, E] });
    const id = r.data.scoreArchitectures.batch.id;
    expect(r.data.scoreArchitectures.batch).toMatchObject({ total: 2, cached: 0 });
    const res = await SELF.fetch("http://edge/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription($id: ID!) { batchProgress(id: $id) { done failed total finished } }", variables: { id } }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    /** Reads until `n` next-events have come (or the stream ends); returns them parsed. */
    const eventsUntil = async (n: number) => {
      const parse = () => text.split("\n\n").slice(0, -1).filter((b) => b.startsWith("event: next")).map((b) => JSON.parse(b.split("\n").find((l) => l.startsWith("data:"))!.slice(5)).data.batchProgress);
      while (parse().length < n) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      return parse();
    };
    const path = `/internal/batches/${id}/progress`;
    const report = async (done: number) => {
      const body = JSON.stringify({ batchId: id, done, failed: 0, total: 2, finished: done === 2 });
      const headers = await signRequest({ method: "POST", pathWithQuery: path, body, secret: env.DAS_GPU_SECRET });
      expect((await SELF.fetch(`http://edge${path}`, { method: "POST", body, headers })).status).toBe(204);
    };
    expect(await eventsUntil(1)).toEqual([{ done: 0, failed: 0, total: 2, finished: false }]);
    await report(1);
    expect((await eventsUntil(2))[1]).toEqual({ done: 1, failed: 0, total: 2, finished: false });
    await report(2);
    expect((await eventsUntil(3))[2]).toEqual({ done: 2, failed: 0, total: 2, finished: true });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toMatch(/event: complete/);
  });

  it("presigns model uploads to S3 and reports models already there", async () => {
    const bytes = new TextEncoder().encode("not really onnx, but bytes");
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const q = `mutation($h: String!, $n: Int!) { requestModelUpload(input: { sha256: $h, bytes: $n }) { url method headers key alreadyUploaded } }`;
    const first = await gql(q, { h: digest, n: bytes.length });
    expect(first.errors).toBeUndefined();
    const u = first.data.requestModelUpload;
    expect(u).toMatchObject({ method: "PUT", key: `models/${digest}.onnx`, alreadyUploaded: false });
    const putRes = await fetch(u.url, { method: "PUT", headers: u.headers, body: bytes });
    expect(putRes.status).toBe(200);
    expect((await gql(q, { h: digest, n: bytes.length })).data.requestModelUpload.alreadyUploaded).toBe(true);
    const tooBig = await gql(q, { h: digest, n: 64 * 1024 * 1024 + 1 });
    expect(tooBig.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect((await gql(q, { h: digest, n: 10 }, null)).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");

    // Scoring: a model never uploaded is NOT_FOUND naming it; an uploaded one goes to the GPU function.
    const score = `mutation($h: [String!]!) { scoreModels(input: { sha256s: $h, protocol: { batchSize: 16 } }) { batch { id total cached } } }`;
    const absent = "0".repeat(64);
    const missing = await gql(score, { h: [digest, absent] });
    expect(missing.errors?.[0].extensions).toMatchObject({ code: "NOT_FOUND", index: 1, sha256: absent });
    expect((await recorder()).jobs).toEqual([]);
    const ok = await gql(score, { h: [digest] });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.scoreModels.batch).toMatchObject({ total: 1, cached: 0 });
    expect((await recorder()).jobs.map((j) => j.items)).toEqual([[{ space: "onnx", model: digest, weights: "init", adapt: true }]]);
    expect((await recorder()).jobs[0].protocol).toEqual({ batchSize: 16, seed: 1, fastTrainSteps: 0 });

    // The file's own weights, adaptation off: another protocol, so another score and another job item.
    const keep = `mutation($h: [String!]!) { scoreModels(input: { sha256s: $h, protocol: { batchSize: 16, weights: KEEP, adapt: false } }) { batch { id total cached } } }`;
    expect((await gql(keep, { h: [digest] })).errors).toBeUndefined();
    expect((await recorder()).jobs.at(-1).items).toEqual([{ space: "onnx", model: digest, weights: "keep", adapt: false }]);
    const [init, kept] = await Promise.all([locateScore("onnx", digest, { batchSize: 16 }), locateScore("onnx", digest, { batchSize: 16, weights: "keep", adapt: false })]);
    expect(init.key).not.toBe(kept.key);
    // The search spaces have no such options.
    const nb201 = await gql(`mutation { scoreArchitectures(input: { space: NB201, specs: ["${A}"], protocol: { weights: KEEP } }) { duplicates } }`);
    expect(nb201.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "protocol.weights" });
  });

  it("blocks simple cross-site requests (CSRF) and answers unknown routes with a coded 404", async () => {
    const url = `http://edge/graphql?query=${encodeURIComponent("{ engine { version } }")}`;
    expect((await SELF.fetch(url)).status).toBe(403);
    const withHeader = await SELF.fetch(url, { headers: { "x-graphql-yoga-csrf": "1", accept: "application/json" } });
    expect(withHeader.status).toBe(200);
    expect(((await withHeader.json()) as any).data.engine.version).toBe("0.1.0");
    const form = await SELF.fetch("http://edge/graphql", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "query={engine{version}}" });
    expect(form.status).toBeGreaterThanOrEqual(400);
    // A request that does not validate keeps its message, with yoga's stable code.
    const invalid = await gql("{ engine { nope } }", {}, null);
    expect(invalid.errors?.[0]).toMatchObject({ message: expect.stringMatching(/nope/), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    // Callbacks are read only up to 16 KiB, before their signature is checked.
    const big = "x".repeat(20 * 1024);
    const huge = await SELF.fetch("http://edge/internal/batches/b1/progress", { method: "POST", body: big, headers: { "x-das-signature": "00", "x-das-timestamp": "1" } });
    expect(huge.status).toBe(413);
    const streamed = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
    const chunked = await SELF.fetch("http://edge/internal/batches/b1/progress", { method: "POST", body: streamed, headers: { "x-das-signature": "00", "x-das-timestamp": "1" } });
    expect(chunked.status).toBe(413);
    const nowhere = await SELF.fetch("http://edge/nowhere");
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as any).error.code).toBe("NOT_FOUND");
  });
});
