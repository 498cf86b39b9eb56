/**
 * The GraphQL schema executed in Node over in-memory ports: the contract
 * (printed SDL), spec validation with core, DAS rules from stored metrics,
 * batching, auth, limits and error masking. The Worker's own ports (S3, the
 * batch Durable Object, the GPU function) are tested in functions/test and
 * end to end in test/edge-e2e.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execute, parse, subscribe, type ExecutionResult } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { DAS_PLUS_RULES, dasPlusValue, defaultDasPlusRule, defaultDasRule, locateScore } from "../core/dist/index.js";
import { maskError, printedSchema, QUERY_LIMITS, schema, type BatchService, type NewBatch, type SchemaContext, type StoredScore } from "../schema/dist/index.js";
import { das, ROOT } from "./helpers/cli.js";


const A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const B = "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|";
const MISS = "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|";
const NB101_CELL = '{"adjacency": [[0,1,1],[0,0,1],[0,0,0]], "ops": ["input","conv3x3-bn-relu","output"]}';

class MemoryScores {
  readonly objects = new Map<string, StoredScore>();
  readonly calls: string[][] = [];
  async getMany(keys: readonly string[]) {
    this.calls.push([...keys]);
    return keys.map((k) => this.objects.get(k) ?? null);
  }
}

function context(o: { authenticated?: boolean; scores: MemoryScores; created?: NewBatch[]; batches?: Partial<BatchService> }): SchemaContext {
  return {
    authenticated: o.authenticated ?? false,
    scores: o.scores,
    uploads: { presignModelPut: () => Promise.reject(new Error("not here")), hasModel: async () => false },
    dtb: { index: async () => [], records: async (keys) => keys.map(() => null) },
    benchmarks: { truthTables: async () => [], listKeys: async () => [] },
    batches: {
      create: async (b) => {
        o.created?.push(b);
        return { batchId: "b1", status: "RUNNING", done: 0, failed: 0, total: b.items.length, finished: false, cached: 0, space: b.space, dataset: b.dataset, createdAt: "now" };
      },
      get: async () => null,
      items: async () => [],
      progress: () => Promise.reject(new Error("not here")),
      ...o.batches,
    },
  };
}

/** Executes like graphql-yoga does: errors pass through the same maskError. */
async function run(query: string, ctx: SchemaContext, variableValues?: Record<string, unknown>) {
  const r = (await execute({ schema, document: parse(query), contextValue: ctx, variableValues })) as ExecutionResult<any>;
  return { data: r.data, errors: r.errors?.map((e) => maskError(e)) };
}

const scores = new MemoryScores();
let recordA: any;

beforeAll(async () => {
  // A real record: `das score --json` plus the provenance the GPU function adds.
  const run = das(["score", "--space", "nb201", "--arch", A, "--batch-size", "16", "--json", "--quiet"]);
  expect(run.status, run.stderr).toBe(0);
  recordA = { ...run.json()[0], provenance: { engineVersion: "0.1.0", runtime: "onnxruntime-node 1.30.0", executionProvider: "cpu", device: "test", durationMs: 12.5, computedAt: "2026-12-01T00:00:00.000Z" } };
  const loc = await locateScore("nb201", A, { dataset: "cifar10", batchSize: 16, seed: 1, fastTrainSteps: 0 });
  expect(loc.key).toBe(`scores/0.1.0/cifar10/${recordA.protocolHash}/${recordA.archId}.json`);
  scores.objects.set(loc.key, recordA);
});

describe("the GraphQL schema", () => {
  it("is the checked-in schema/schema.graphql (npm run schema:print updates it)", () => {
    expect(printedSchema()).toBe(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));
  });

  it("reports the engine: version, spaces and the DAS rule in force per space and setting", async () => {
    const r = await run("{ engine { version spaces rules { space setting rule parameters } dasPlusRules { space rule weights calibration } limits { batchSpecs modelBytes } } }", context({ scores }));
    expect(r.errors).toBeUndefined();
    expect(r.data.engine.version).toBe("0.1.0");
    expect(r.data.engine.spaces).toEqual(["NB201", "NB101", "DARTS", "ONNX"]);
    const darts = r.data.engine.rules.find((x: any) => x.space === "DARTS" && x.setting === "INIT");
    expect(darts).toEqual({ space: "DARTS", setting: "INIT", rule: "linear", parameters: { alpha: (defaultDasRule("darts") as { alpha: number }).alpha } });
    expect(r.data.engine.limits).toEqual({ batchSpecs: 1000, modelBytes: 64 * 1024 * 1024 });
    // DAS+: one rule per calibrated space (none for ONNX models), with where it was fitted.
    expect(r.data.engine.dasPlusRules.map((x: any) => x.space)).toEqual(["NB201", "NB101", "DARTS"]);
    expect(r.data.engine.dasPlusRules[0]).toEqual({ space: "NB201", rule: "rank-sum", weights: DAS_PLUS_RULES.nb201.weights, calibration: DAS_PLUS_RULES.nb201.calibration });
    expect(r.data.engine.dasPlusRules[0].calibration).toMatchObject({ dataset: "cifar10", batchSize: 128 });
  });

  it("answers a cached score with the stored metrics, and DAS under any rule from the atomic metrics", async () => {
    const q = `query($spec: String!) { score(input: { space: NB201, spec: $spec, protocol: { batchSize: 16 } }) {
      architecture { space spec id } dataset protocol { batchSize seed fastTrainSteps hash } activationUnits logActivationUnits distinguishing wot singular params flops trajectory
      das { value rule parameters } half: das(rule: { alpha: 0.5 }) { value rule parameters } wotRule: das(rule: { alpha: 1 }) { value }
      provenance { engineVersion runtime provider device durationMs computedAt } } }`;
    const r = await run(q, context({ scores }), { spec: A });
    expect(r.errors).toBeUndefined();
    const s = r.data.score;
    expect(s.architecture).toEqual({ space: "NB201", spec: A, id: recordA.archId });
    expect(s.protocol).toEqual({ batchSize: 16, seed: 1, fastTrainSteps: 0, hash: recordA.protocolHash });
    for (const f of ["activationUnits", "logActivationUnits", "distinguishing", "wot", "params", "flops"]) expect(s[f], f).toBe(recordA[f]);
    expect(s.singular).toBe(false);
    expect(s.trajectory).toBeNull();
    // NB201's rule in force is alpha = 1, which is WOT.
    expect(s.das).toEqual({ value: recordA.wot, rule: "linear", parameters: { alpha: 1 } });
    expect(s.wotRule.value).toBeCloseTo(recordA.wot, 9);
    // D + alpha * N * log N_A by hand, N = 16.
    expect(s.half.value).toBeCloseTo(recordA.distinguishing + 0.5 * 16 * recordA.logActivationUnits, 9);
    expect(s.half.parameters).toEqual({ alpha: 0.5 });
    expect(s.provenance).toEqual({ engineVersion: "0.1.0", runtime: "onnxruntime-node 1.30.0", provider: "cpu", device: "test", durationMs: 12.5, computedAt: "2026-12-01T00:00:00.000Z" });
  });

  it("computes DAS+ from the stored features by the rule in force (singular and overflowed values included), null outside its protocol", async () => {
    // `das score --proxies das_plus` at the rule's protocol (batch 128): dasPlus and the synflow NB201's rule weighs.
    const cli = das(["score", "--space", "nb201", "--arch", A, "--proxies", "das_plus", "--json", "--quiet"]);
    expect(cli.status, cli.stderr).toBe(0);
    const rec = cli.json()[0];
    expect(rec.dasPlus.rule).toBe("rank-sum");
    expect(typeof rec.proxies.synflow).toBe("number");
    const at = (space: string, spec: string, protocol: Record<string, number>) => locateScore(space, spec, { dataset: "cifar10", seed: 1, fastTrainSteps: 0, ...protocol });
    const loc = await at("nb201", A, { batchSize: 128 });
    const rule = defaultDasPlusRule("nb201", loc.protocol);
    const own = new MemoryScores();
    const ask = async (record: StoredScore, key = loc.key, input = `space: NB201, spec: "${A}"`) => {
      own.objects.set(key, record);
      const r = await run(`{ score(input: { ${input} }) { dasPlus { value rule parameters } } }`, context({ scores: own }));
      expect(r.errors).toBeUndefined();
      return r.data.score.dasPlus;
    };
    expect(await ask(rec)).toEqual(rec.dasPlus);
    // The stored value is not read: a record carrying another (an older rule's) gets today's.
    expect((await ask({ ...rec, dasPlus: { ...rec.dasPlus, value: 0.123 } })).value).toBeCloseTo(rec.dasPlus.value, 12);
    // JSON's nulls: a singular kernel's wot and D (-Infinity) and an overflowed synflow (+Infinity).
    const singular = await ask({ ...rec, wot: null, distinguishing: null, singular: true, proxies: { synflow: null } });
    const byHand = dasPlusValue(rule, { wot: -Infinity, logActivationUnits: rec.logActivationUnits, distinguishing: -Infinity, params: rec.params, synflow: Infinity });
    expect(singular).toEqual(byHand);
    expect(singular.value).not.toBeCloseTo(rec.dasPlus.value, 3);
    // NB201's rule weighs synflow: a record without it has none.
    const { proxies: _p, dasPlus: _d, ...noSynflow } = rec;
    expect(await ask(noSynflow)).toBeNull();
    // The same features at batch 16 or after fast training: not the rule's protocol.
    const b16 = await at("nb201", A, { batchSize: 16 });
    expect(await ask(rec, b16.key, `space: NB201, spec: "${A}", protocol: { batchSize: 16 }`)).toBeNull();
    const trained = await at("nb201", A, { batchSize: 128, fastTrainSteps: 10 });
    expect(await ask(rec, trained.key, `space: NB201, spec: "${A}", protocol: { fastTrainSteps: 10 }`)).toBeNull();
    // NB101's rule is params alone: any record at its protocol has DAS+, the params CDF by hand.
    const nb101 = await at("nb101", NB101_CELL, { batchSize: 128 });
    const ref = DAS_PLUS_RULES.nb101.reference.params!;
    const params = ref[50];
    const cdf = ref.filter((q) => q < params).length, ties = ref.filter((q) => q === params).length;
    const v = (await ask({ params, wot: 1, logActivationUnits: 1, distinguishing: 1 }, nb101.key, `space: NB101, spec: ${JSON.stringify(NB101_CELL)}`)).value;
    // A value equal to a run of quantiles sits at the run's midpoint: (below + (ties - 1) / 2) / 100.
    expect(v).toBeCloseTo((cdf + (ties - 1) / 2) / (ref.length - 1), 12);
  });

  it("looks many specs up in one batched read, same order, null for misses, and never computes", async () => {
    const before = scores.calls.length;
    const r = await run(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s, protocol: { batchSize: 16 } }) { wot } other: score(input: { space: NB201, spec: "${B}", protocol: { batchSize: 16 } }) { wot } }`, context({ scores }), { s: [MISS, A, MISS] });
    expect(r.errors).toBeUndefined();
    expect(r.data.scores).toEqual([null, { wot: recordA.wot }, null]);
    expect(r.data.other).toBeNull();
    // `scores` is one batched read; `score` shares the request's loader; no key is read twice.
    const keys = scores.calls.slice(before).flat();
    expect(scores.calls.length - before).toBeLessThanOrEqual(2);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    const again = await run(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s, protocol: { batchSize: 16 } }) { wot } }`, context({ scores }), { s: [A, B, MISS, A] });
    expect(again.data.scores).toEqual([{ wot: recordA.wot }, null, null, { wot: recordA.wot }]);
    expect(scores.calls.at(-1)).toHaveLength(3);
  });

  it("refuses mutations without an API key (UNAUTHENTICATED) and names the invalid spec's index (BAD_USER_INPUT)", async () => {
    const m = `mutation($s: [String!]!) { scoreArchitectures(input: { space: NB201, specs: $s }) { duplicates batch { id total } } }`;
    const anon = await run(m, context({ scores }), { s: [A] });
    expect(anon.errors?.[0].extensions).toMatchObject({ code: "UNAUTHENTICATED" });
    const created: NewBatch[] = [];
    const bad = await run(m, context({ scores, authenticated: true, created }), { s: [A, B, "|nor_conv_3x3~0|+|bogus~0|"] });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", dasCode: "INVALID_ARCH_SPEC", index: 2, field: "specs" });
    expect(created).toHaveLength(0);
    const ok = await run(m, context({ scores, authenticated: true, created }), { s: [A, B, A] });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.scoreArchitectures).toEqual({ duplicates: 1, batch: { id: "b1", total: 2 } });
    expect(created[0].items.map((i) => i.spec)).toEqual([A, B]);
    expect(created[0].protocol).toEqual({ batchSize: 128, seed: 1, fastTrainSteps: 0 });
  });

  it("validates protocols per space and input bounds, naming the field", async () => {
    const ctx = context({ scores, authenticated: true });
    const onnx = await run(`mutation { scoreModels(input: { sha256s: ["${"a".repeat(64)}"], protocol: { fastTrainSteps: 5 } }) { duplicates } }`, ctx);
    expect(onnx.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "protocol.fastTrainSteps" });
    const mnist = await run(`{ score(input: { space: NB201, spec: "${A}", dataset: MNIST }) { wot } }`, ctx);
    expect(mnist.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", dasCode: "INVALID_DATASET" });
    const batch = await run(`{ score(input: { space: NB201, spec: "${A}", protocol: { batchSize: 1 } }) { wot } }`, ctx);
    expect(batch.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.protocol.batchSize" });
    const hash = await run(`mutation { scoreModels(input: { sha256s: ["ABC"] }) { duplicates } }`, ctx);
    expect(hash.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    const tooMany = await run(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s }) { wot } }`, ctx, { s: Array.from({ length: 501 }, () => A) });
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("refuses an over-wide or over-complex query before resolving anything", async () => {
    let resolved = 0;
    // A fresh context per request, as yoga makes one: Pothos caches a request's complexity on it.
    const ctx = () => context({ scores, batches: { get: async () => (resolved++, null) } });
    // The schema has no cycles, so its deepest path (batch > items > edges > node > result > data >
    // trajectory > step, 8) is within the depth limit by construction; aliases are how a client
    // multiplies work, and the breadth and complexity limits catch them.
    const wide = Array.from({ length: QUERY_LIMITS.breadth + 1 }, (_, i) => `b${i}: batch(id: "x") { id }`).join(" ");
    const over = await run(`{ ${wide} }`, ctx());
    expect(over.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", kind: "breadth" });
    const heavy = await run(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s }) { wot distinguishing activationUnits das { value } a: das(rule: { alpha: 2 }) { value } trajectory { step wot das } } }`, ctx(), { s: Array.from({ length: 500 }, () => A) });
    expect(heavy.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", kind: "complexity" });
    expect(resolved).toBe(0);
    // The same selection over 20 specs is well within the limits.
    const light = await run(`query($s: [String!]!) { scores(input: { space: NB201, specs: $s, protocol: { batchSize: 16 } }) { wot das { value } } }`, ctx(), { s: Array.from({ length: 20 }, () => A) });
    expect(light.errors).toBeUndefined();
    expect(light.data.scores).toHaveLength(20);
  });

  it("bounds the score reads of one request across aliases, and maps paging mistakes to BAD_USER_INPUT", async () => {
    // 1001 distinct NB201 cells: every op on the six edges, read as base-5 digits.
    const ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
    const cell = (k: number) => {
      const o = Array.from({ length: 6 }, (_, e) => ops[Math.floor(k / 5 ** e) % 5]);
      return `|${o[0]}~0|+|${o[1]}~0|${o[2]}~1|+|${o[3]}~0|${o[4]}~1|${o[5]}~2|`;
    };
    const specs = Array.from({ length: 1001 }, (_, k) => cell(k));
    const q = `query($a: [String!]!, $b: [String!]!, $c: [String!]!) { a: scores(input: { space: NB201, specs: $a }) { wot } b: scores(input: { space: NB201, specs: $b }) { wot } c: scores(input: { space: NB201, specs: $c }) { wot } }`;
    const before = scores.calls.length;
    const over = await run(q, context({ scores }), { a: specs.slice(0, 500), b: specs.slice(500, 1000), c: specs.slice(1000) });
    expect(over.errors?.map((e) => e.extensions)).toContainEqual(expect.objectContaining({ code: "BAD_USER_INPUT", limit: 1000 }));
    const read = scores.calls.slice(before).flat().length;
    expect(read).toBeLessThanOrEqual(1000);
    const within = await run(q, context({ scores }), { a: specs.slice(0, 500), b: specs.slice(500, 1000), c: specs.slice(0, 1) });
    expect(within.errors).toBeUndefined();

    const summary = { batchId: "b", status: "RUNNING" as const, done: 0, failed: 0, total: 3, finished: false, cached: 0, space: "nb201", dataset: "cifar10", createdAt: "now" };
    const ctx = () => context({ scores, batches: { get: async () => summary, items: async () => [] } });
    for (const args of ["first: -1", 'after: "not-a-cursor"']) {
      const r = await run(`{ batch(id: "b") { items(${args}) { edges { cursor } } } }`, ctx());
      expect(r.errors?.[0].extensions, args).toMatchObject({ code: "BAD_USER_INPUT" });
    }
  });

  it("masks unexplained failures as INTERNAL without their message", async () => {
    const ctx = context({ scores, batches: { get: () => Promise.reject(new Error("secret connection string s3://x")) } });
    const r = await run(`{ batch(id: "b") { id } }`, ctx);
    expect(r.errors?.[0].message).toBe("internal error");
    expect(r.errors?.[0].extensions).toEqual({ code: "INTERNAL" });
  });

  it("streams batch progress from the batch service", async () => {
    const events = [
      { batchId: "b", done: 1, failed: 0, total: 2, finished: false },
      { batchId: "b", done: 2, failed: 1, total: 2, finished: true },
    ];
    const ctx = context({ scores, batches: { progress: async () => (async function* () { yield* events; })() } });
    const it = (await subscribe({ schema, document: parse(`subscription { batchProgress(id: "b") { done failed total finished } }`), contextValue: ctx })) as AsyncIterableIterator<ExecutionResult<any>>;
    const got = [];
    for await (const e of it) got.push(e.data.batchProgress);
    expect(got).toEqual(events.map(({ batchId: _b, ...rest }) => rest));
  });
});
