/**
 * End to end through the local stack of `npm start` (test/helpers/stack.ts): GraphQL over HTTP to
 * the Worker under `wrangler dev`, which reads s3rver and sends misses to a real `das serve` on
 * CPU. Mutations, an SSE subscription, cached repeats that never reach the GPU function (its
 * /healthz counts job requests), DAS under another rule from the same record, auth and input
 * errors, the query limits, a GPU function that is down, and one killed mid-batch whose batch the
 * Durable Object's alarm finishes once it is back.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { das, ROOT, tempDir } from "./helpers/cli.js";
import { sleep, waitFor } from "./helpers/processes.js";
import { startStack, type Stack } from "./helpers/stack.js";

const SAMPLE = readFileSync(join(ROOT, "gpu-worker/data/nb201-sample.txt"), "utf8")
  .split("\n")
  .filter((l) => l.startsWith("|"));
const FIRST = SAMPLE.slice(0, 3);
const STALL_S = 3;

let stack: Stack;
/** `das score --json` of FIRST at batch size 16: the CLI's values to compare the service's with. */
let local: any[];

beforeAll(async () => {
  // The CLI first, while no HTTP connection is open: spawnSync blocks the event loop, and a
  // keep-alive socket the server closes meanwhile would fail the next request.
  const dir = tempDir("e2e");
  writeFileSync(join(dir, "archs.txt"), FIRST.join("\n"));
  const r = das(["score", "--space", "nb201", "--archs", join(dir, "archs.txt"), "--batch-size", "16", "--json", "--quiet"]);
  expect(r.status, r.stderr).toBe(0);
  local = r.json();
  stack = await startStack({ apiKey: "e2e-key", stallSeconds: STALL_S });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

interface GqlResult {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function gql(query: string, variables: Record<string, unknown> = {}, key: string | null = stack.apiKey): Promise<GqlResult> {
  const res = await fetch(`${stack.edge.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...(await res.json()) };
}

/** A subscription over SSE (graphql-yoga's single-connection mode): every `next` payload, and whether `complete` came. */
async function subscribe(query: string, variables: Record<string, unknown>, timeoutMs = 120_000) {
  const res = await fetch(`${stack.edge.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events: any[] = [];
  let complete = false;
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      if (event === "next") events.push(JSON.parse(data));
      if (event === "complete") complete = true;
    }
  }
  return { events, complete };
}

const gpuHealth = async () => (await (await fetch(`${stack.gpu.url}/healthz`)).json()) as { jobsReceived: number; computed: number };

const MUTATE = `mutation($specs: [String!]!, $p: ProtocolInput) {
  scoreArchitectures(input: { space: NB201, specs: $specs, protocol: $p }) { duplicates batch { id status total done failed cached } } }`;
const PROGRESS = `subscription($id: ID!) { batchProgress(id: $id) { batchId done failed total finished } }`;
const ITEMS = `query($id: ID!) { batch(id: $id) { status total done failed cached items(first: 50) { edges { node {
  index spec status cached result { __typename ... on ItemError { code message } ... on ScoredItem { data { wot } } } } } } } }`;
const SCORES = `query($specs: [String!]!, $p: ProtocolInput) { scores(input: { space: NB201, specs: $specs, protocol: $p }) {
  architecture { spec id } wot distinguishing activationUnits logActivationUnits
  das { value rule parameters } half: das(rule: { alpha: 0.5 }) { value rule parameters } provenance { engineVersion provider } } }`;

describe("the local stack end to end", () => {
  it("serves GraphiQL to a browser and the engine to a query", async () => {
    const page = await fetch(`${stack.edge.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const r = await gql("{ engine { version spaces } }", {}, null);
    expect(r.errors).toBeUndefined();
    expect(r.data.engine.spaces).toEqual(["NB201", "NB101", "DARTS", "ONNX"]);
  });

  it("refuses a mutation without a key (UNAUTHENTICATED) and names an invalid spec (BAD_USER_INPUT)", async () => {
    const anon = await gql(MUTATE, { specs: FIRST }, null);
    expect(anon.errors?.[0].extensions).toMatchObject({ code: "UNAUTHENTICATED" });
    const wrong = await gql(MUTATE, { specs: FIRST }, "not-the-key");
    expect(wrong.errors?.[0].extensions).toMatchObject({ code: "UNAUTHENTICATED" });
    const bad = await gql(MUTATE, { specs: [FIRST[0], "|nor_conv_3x3~0|+|bogus~0|"] });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", index: 1, dasCode: "INVALID_ARCH_SPEC" });
    expect(bad.data).toBeNull();
  });

  it("scores a batch, streams its progress over SSE, and caches values equal to `das score`", async () => {
    const jobsBefore = (await gpuHealth()).jobsReceived;
    const m = await gql(MUTATE, { specs: [...FIRST, FIRST[0]], p: { batchSize: 16 } });
    expect(m.errors).toBeUndefined();
    const batch = m.data.scoreArchitectures.batch;
    expect(m.data.scoreArchitectures.duplicates).toBe(1);
    expect(batch).toMatchObject({ total: 3, cached: 0, failed: 0 });

    const { events, complete } = await subscribe(PROGRESS, { id: batch.id });
    expect(complete).toBe(true);
    const progress = events.map((e) => e.data.batchProgress);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThanOrEqual(progress[i - 1].done);
    expect(progress.at(-1)).toEqual({ batchId: batch.id, done: 3, failed: 0, total: 3, finished: true });
    expect(progress.slice(0, -1).every((p) => !p.finished)).toBe(true);
    expect((await gpuHealth()).jobsReceived).toBe(jobsBefore + 1);

    const items = await gql(ITEMS, { id: batch.id });
    expect(items.data.batch).toMatchObject({ status: "FINISHED", total: 3, done: 3, failed: 0 });
    expect(items.data.batch.items.edges.map((e: any) => [e.node.spec, e.node.status])).toEqual(FIRST.map((s) => [s, "SCORED"]));

    // The same architectures through the CLI, same protocol (beforeAll).
    const s = await gql(SCORES, { specs: FIRST, p: { batchSize: 16 } }, null);
    expect(s.errors).toBeUndefined();
    s.data.scores.forEach((score: any, i: number) => {
      expect(score.architecture).toEqual({ spec: FIRST[i], id: local[i].archId });
      for (const f of ["wot", "distinguishing", "activationUnits", "logActivationUnits"]) {
        expect(Math.abs(score[f] - local[i][f]), `${f} of ${FIRST[i]}`).toBeLessThanOrEqual(1e-9 * Math.abs(local[i][f]));
      }
      // NB201's rule in force is alpha = 1 (WOT); alpha = 0.5 comes from the same stored metrics.
      expect(score.das).toEqual({ value: score.wot, rule: "linear", parameters: { alpha: 1 } });
      expect(score.half.parameters).toEqual({ alpha: 0.5 });
      expect(score.half.value).toBeCloseTo(local[i].distinguishing + 0.5 * 16 * local[i].logActivationUnits, 9);
      expect(score.provenance.provider).toBe("cpu");
    });

    // A subscriber to the finished batch gets its final state, then the end.
    const late = await subscribe(PROGRESS, { id: batch.id }, 30_000);
    expect(late).toEqual({ events: [{ data: { batchProgress: { batchId: batch.id, done: 3, failed: 0, total: 3, finished: true } } }], complete: true });
  });

  it("answers a repeated mutation from the cache without calling the GPU function", async () => {
    const before = await gpuHealth();
    const m = await gql(MUTATE, { specs: [...FIRST].reverse(), p: { batchSize: 16 } });
    expect(m.errors).toBeUndefined();
    expect(m.data.scoreArchitectures.batch).toMatchObject({ status: "FINISHED", total: 3, done: 3, failed: 0, cached: 3 });
    const items = await gql(ITEMS, { id: m.data.scoreArchitectures.batch.id });
    expect(items.data.batch.items.edges.every((e: any) => e.node.cached && e.node.status === "SCORED")).toBe(true);
    await sleep(500);
    const after = await gpuHealth();
    expect(after.jobsReceived).toBe(before.jobsReceived);
    expect(after.computed).toBe(before.computed);
  });

  it("refuses an over-complex query with QUERY_TOO_COMPLEX", async () => {
    const specs = Array.from({ length: 500 }, () => FIRST[0]);
    const r = await gql(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s }) { wot distinguishing activationUnits das { value } a: das(rule: { alpha: 2 }) { value } trajectory { step wot das } } }`, { s: specs }, null);
    expect(r.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX" });
    expect(r.data ?? null).toBeNull();
  });

  it("finishes a batch after `das serve` is killed mid-batch and started again (the alarm re-posts)", async () => {
    const protocol = { batchSize: 64 };
    const m = await gql(MUTATE, { specs: SAMPLE, p: protocol });
    expect(m.errors).toBeUndefined();
    const id = m.data.scoreArchitectures.batch.id;
    expect(m.data.scoreArchitectures.batch.total).toBe(SAMPLE.length);
    await waitFor("the first scored item", async () => (await gql(ITEMS, { id })).data.batch.done >= 1, 120_000, 100);
    const killed = await stack.stopGpu("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    const atKill = (await gql(ITEMS, { id })).data.batch;
    expect(atKill.done, "the batch finished before the kill: nothing left to resume").toBeLessThan(SAMPLE.length);
    expect(atKill.status).toBe("RUNNING");

    // Down for longer than the stall interval: the alarm's re-posts find nothing and keep trying.
    await sleep((STALL_S + 1) * 1000);
    // Its own resume at start is off, as in a fleet: only the edge's re-post can finish the batch.
    await stack.startGpu({ DAS_GPU_RESUME: "0" });
    await waitFor("the batch to finish", async () => (await gql(ITEMS, { id })).data.batch.status === "FINISHED", 180_000, 250);
    const end = (await gql(ITEMS, { id })).data.batch;
    expect(end).toMatchObject({ total: SAMPLE.length, done: SAMPLE.length, failed: 0 });
    expect(end.items.edges.every((e: any) => e.node.status === "SCORED")).toBe(true);
    // The restarted process got the re-post and scored only what the killed one had not stored.
    const h = await gpuHealth();
    expect(h.jobsReceived, "no re-post reached the restarted das serve").toBeGreaterThanOrEqual(1);
    expect(h.computed).toBeLessThanOrEqual(SAMPLE.length - atKill.done + 1);
    const s = await gql(SCORES, { specs: SAMPLE, p: protocol }, null);
    expect(s.data.scores.every((x: any) => x !== null && typeof x.wot === "number")).toBe(true);
  });

  it("fails the items with GPU_UNAVAILABLE when the GPU function is down, and keeps answering queries", async () => {
    await stack.stopGpu("SIGTERM");
    const m = await gql(MUTATE, { specs: [FIRST[0], SAMPLE[5]], p: { batchSize: 16 } });
    expect(m.errors).toBeUndefined();
    const id = m.data.scoreArchitectures.batch.id;
    await waitFor("the batch to finish", async () => (await gql(ITEMS, { id })).data.batch.status === "FINISHED", 60_000, 200);
    const b = (await gql(ITEMS, { id })).data.batch;
    expect(b).toMatchObject({ total: 2, done: 2, failed: 1, cached: 1 });
    const [cached, missed] = b.items.edges.map((e: any) => e.node);
    expect(cached).toMatchObject({ spec: FIRST[0], status: "SCORED", cached: true });
    expect(missed).toMatchObject({ spec: SAMPLE[5], status: "FAILED", result: { __typename: "ItemError", code: "GPU_UNAVAILABLE" } });
    const s = await gql(SCORES, { specs: FIRST, p: { batchSize: 16 } }, null);
    expect(s.errors).toBeUndefined();
    expect(s.data.scores.every((x: any) => typeof x.wot === "number")).toBe(true);
  });
});
