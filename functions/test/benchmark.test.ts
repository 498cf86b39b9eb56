// Benchmark truth and percentiles through the Worker's GraphQL API inside workerd, against the real
// s3rver into which test/helpers/workers-setup.ts pushed the NB201 truth fixture with the real
// `das truth push`. Score records are stored here under a protocol of this file's own (batch 24,
// seed 3), so every population below is exactly what this file wrote; percentiles are counted by hand.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { applyDasRule, defaultDasRule, locateScore } from "@das/core";
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { testS3 } from "./s3-client.js";

const truth = inject("truthMini");
const s3 = testS3();
const PROTOCOL = { batchSize: 24, seed: 3 };
const N = PROTOCOL.batchSize;
const put = (key: string, value: unknown) => s3.send(new PutObjectCommand({ Bucket: "das", Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await SELF.fetch("http://edge/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...(await res.json<{ data?: any; errors?: { message: string; extensions: Record<string, any> }[] }>()) };
}

/** A stored score record (fields as `das score --json` plus provenance); wot = D + N log N_A, null when singular. */
function record(space: string, archId: string, wot: number | null, logNa: number, params: number) {
  const d = wot === null ? null : wot - N * logNa;
  return {
    space, archId, dataset: "cifar10", protocol: { dataset: "cifar10", ...PROTOCOL, fastTrainSteps: 0 }, batchSize: N,
    activationUnits: Math.exp(logNa), logActivationUnits: logNa, distinguishing: d, wot, singular: wot === null, params, flops: 2 * params,
    provenance: { engineVersion: "0.1.0", runtime: "test", executionProvider: "cpu", device: "test", durationMs: 1, computedAt: "2026-12-03T00:00:00.000Z" },
  };
}

// WOT of the first eight truth architectures (the last singular); the other four have no score.
const TRUTH_WOT = [300, 310, 310, 320, 330, 340, 350, null];
const LOG_NA = [6.1, 6.0, 6.3, 5.9, 6.2, 6.0, 6.4, 6.0];
// Two NB201 architectures outside the truth, and a DARTS one at the same protocol (another space: never counted).
const OTHER_NB201 = [
  { spec: "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", wot: 305, logNa: 5.8 },
  { spec: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", wot: 400, logNa: 6.5 },
];
const DARTS = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

interface Stored {
  archId: string;
  spec: string;
  wot: number | null;
  logNa: number;
  values?: Readonly<Record<string, number>>;
}
const scored: Stored[] = [];
const others: Stored[] = [];

/** 100 * (below + ties / 2) / n, the definition, over plain arrays. */
function byHand(population: number[], v: number): number {
  const below = population.filter((x) => x < v).length;
  const ties = population.filter((x) => x === v).length;
  return (100 * (below + ties / 2)) / population.length;
}

beforeAll(async () => {
  expect(truth).toHaveLength(12);
  for (const [i, row] of truth.slice(0, 8).entries()) {
    const loc = await locateScore("nb201", row.spec, PROTOCOL);
    scored.push({ archId: loc.archId, spec: loc.canonicalSpec, wot: TRUTH_WOT[i], logNa: LOG_NA[i], values: row.values });
    await put(loc.key, record("nb201", loc.archId, TRUTH_WOT[i], LOG_NA[i], 1000 + 10 * i));
  }
  for (const o of OTHER_NB201) {
    const loc = await locateScore("nb201", o.spec, PROTOCOL);
    others.push({ archId: loc.archId, spec: o.spec, wot: o.wot, logNa: o.logNa });
    await put(loc.key, record("nb201", loc.archId, o.wot, o.logNa, 5000));
  }
  const darts = await locateScore("darts", DARTS, PROTOCOL);
  await put(darts.key, record("darts", darts.archId, 315, 6, 99));
});

const POINTS = `query($target: String!, $first: Int, $after: String, $protocol: ProtocolInput = { batchSize: 24, seed: 3 }) {
  benchmarkPoints(space: NB201, target: $target, protocol: $protocol, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { accuracy architecture { id spec } score { wot architecture { id } } } } } }`;

describe("benchmark truth and percentiles in the edge API (workerd, s3rver)", () => {
  it("lists the pushed targets with their counts", async () => {
    const r = await gql(`{ benchmarkTargets { space target count } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.benchmarkTargets).toEqual([
      { space: "NB201", target: "cifar100_test_acc", count: 12 },
      { space: "NB201", target: "cifar10_test_acc", count: 12 },
    ]);
  });

  it("pages through exactly the truth architectures with a cached score, by id, with the CSV's values", async () => {
    const expected = [...scored].sort((a, b) => (a.archId < b.archId ? -1 : 1));
    for (const target of ["cifar10_test_acc", "cifar100_test_acc"]) {
      const nodes: any[] = [];
      let after: string | null = null;
      const pages: number[] = [];
      for (;;) {
        const r = await gql(POINTS, { target, first: 3, after });
        expect(r.errors).toBeUndefined();
        const c = r.data.benchmarkPoints;
        expect(c.totalCount).toBe(8);
        expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
        nodes.push(...c.edges.map((e: any) => ({ ...e.node, cursor: e.cursor })));
        pages.push(c.edges.length);
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect(pages).toEqual([3, 3, 2]);
      expect(nodes.map((n) => n.architecture.id)).toEqual(expected.map((s) => s.archId));
      expect(nodes.map((n) => n.cursor)).toEqual(expected.map((s) => s.archId));
      expect(nodes.map((n) => n.architecture.spec)).toEqual(expected.map((s) => s.spec));
      expect(nodes.map((n) => n.accuracy)).toEqual(expected.map((s) => s.values![target]));
      expect(nodes.map((n) => n.score.wot)).toEqual(expected.map((s) => s.wot));
      expect(nodes.every((n) => n.score.architecture.id === n.architecture.id)).toBe(true);
    }
    // Another protocol has no cached scores: no points.
    const none = await gql(POINTS, { target: "cifar10_test_acc", protocol: { batchSize: 24, seed: 4 } });
    expect(none.data.benchmarkPoints).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: null }, edges: [] });
  });

  it("gives each score its WOT and DAS percentile in the CACHED and SPACE_SAMPLE populations", async () => {
    const wotPop = (xs: Stored[]) => xs.map((s) => s.wot ?? -Infinity);
    const cached = wotPop([...scored, ...others]);
    const sample = wotPop(scored);
    // Spot checks of the definition: 310 has -inf, 300 and 305 below and one tie besides itself.
    expect(byHand(cached, 310)).toBe(40);
    expect(byHand(sample, 310)).toBe(37.5);
    const r = await gql(`query { benchmarkPoints(space: NB201, target: "cifar10_test_acc", protocol: { batchSize: 24, seed: 3 }, first: 20) { edges { node {
      architecture { id } score { wot c: percentile(metric: WOT) s: percentile(metric: WOT, population: SPACE_SAMPLE) das: percentile p: percentile(metric: PARAMS, population: SPACE_SAMPLE) } } } } }`);
    expect(r.errors).toBeUndefined();
    const rule = defaultDasRule("nb201", "init");
    const dasOf = (s: Stored) => applyDasRule(rule, { batchSize: N, logActivationUnits: s.logNa, distinguishing: s.wot === null ? -Infinity : s.wot - N * s.logNa });
    const dasPop = [...scored, ...others].map(dasOf);
    const params = scored.map((_, i) => 1000 + 10 * i);
    for (const e of r.data.benchmarkPoints.edges) {
      const s = scored.find((x) => x.archId === e.node.architecture.id)!;
      const i = scored.indexOf(s);
      if (s.wot === null) {
        expect(e.node.score).toMatchObject({ wot: null, c: null, s: null });
      } else {
        expect(e.node.score.c).toBeCloseTo(byHand(cached, s.wot), 10);
        expect(e.node.score.s).toBeCloseTo(byHand(sample, s.wot), 10);
      }
      const das = dasOf(s);
      if (Number.isFinite(das)) expect(e.node.score.das).toBeCloseTo(byHand(dasPop, das), 10);
      else expect(e.node.score.das).toBeNull();
      expect(e.node.score.p).toBeCloseTo(byHand(params, params[i]), 10);
    }
  });

  it("places a value computed elsewhere in a population, and says when the population is empty", async () => {
    const Q = `query($value: Float!, $population: PercentilePopulation, $protocol: ProtocolInput = { batchSize: 24, seed: 3 }, $space: SearchSpace! = NB201) {
      scorePercentile(space: $space, protocol: $protocol, metric: WOT, value: $value, population: $population) { percentile populationSize } }`;
    const at = async (variables: Record<string, unknown>) => {
      const r = await gql(Q, variables);
      expect(r.errors).toBeUndefined();
      return r.data.scorePercentile;
    };
    // CACHED: -inf 300 305 310 310 320 330 340 350 400 (the DARTS record's 315 is another space).
    expect(await at({ value: 315 })).toEqual({ percentile: 50, populationSize: 10 });
    expect(await at({ value: 400 })).toEqual({ percentile: 95, populationSize: 10 });
    expect(await at({ value: 1000 })).toEqual({ percentile: 100, populationSize: 10 });
    // SPACE_SAMPLE: -inf 300 310 310 320 330 340 350.
    expect(await at({ value: 315, population: "SPACE_SAMPLE" })).toEqual({ percentile: 50, populationSize: 8 });
    expect(await at({ value: 300, population: "SPACE_SAMPLE" })).toEqual({ percentile: 18.75, populationSize: 8 });
    // DARTS at the same protocol: its one record.
    expect(await at({ value: 315, space: "DARTS" })).toEqual({ percentile: 50, populationSize: 1 });
    expect(await at({ value: 315, protocol: { batchSize: 24, seed: 4 } })).toEqual({ percentile: null, populationSize: 0 });
    expect(await at({ value: 315, space: "DARTS", population: "SPACE_SAMPLE" })).toEqual({ percentile: null, populationSize: 0 });
  });

  it("lists past S3's 1000-key pages: a population of 1001 records", async () => {
    const loc = await locateScore("nb201", OTHER_NB201[0].spec, { batchSize: 24, seed: 5 });
    const prefix = loc.key.slice(0, loc.key.lastIndexOf("/") + 1);
    const ids = Array.from({ length: 1001 }, (_, i) => i.toString(16).padStart(64, "0"));
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id, k) => put(`${prefix}${id}.json`, record("nb201", id, i + k, 6, 1))));
    const r = await gql(`{ scorePercentile(space: NB201, protocol: { batchSize: 24, seed: 5 }, metric: WOT, value: 250) { percentile populationSize } }`);
    expect(r.errors).toBeUndefined();
    // WOT 0..1000: 250 below, one tie.
    expect(r.data.scorePercentile).toEqual({ percentile: (100 * 250.5) / 1001, populationSize: 1001 });
  });

  it("lets a dashboard ask for 1000 points with a dozen fields, and refuses four such pages at once", async () => {
    const page = (alias: string) => `${alias}: benchmarkPoints(space: NB201, target: "cifar10_test_acc", protocol: { batchSize: 24, seed: 3 }, first: 1000) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { accuracy architecture { id spec } score { wot distinguishing logActivationUnits params flops das { value } percentile(metric: WOT) } } } }`;
    const one = await gql(`{ ${page("a")} }`);
    expect(one.errors).toBeUndefined();
    expect(one.data.a.totalCount).toBe(8);
    // About 1650 each (a point costs a tenth of its 16 fields), against the limit of 5000.
    const four = await gql(`{ ${page("a")} ${page("b")} ${page("c")} ${page("d")} }`);
    expect(four.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", kind: "complexity" });
  });

  it("reads at most two percentile populations per request: a third is QUERY_TOO_COMPLEX, the same one again is free", async () => {
    const at = (alias: string, seed: number) => `${alias}: scorePercentile(space: NB201, protocol: { batchSize: 24, seed: ${seed} }, metric: WOT, value: 315) { percentile populationSize }`;
    const two = await gql(`{ ${at("a", 3)} ${at("b", 3)} ${at("c", 4)} }`);
    expect(two.errors).toBeUndefined();
    expect(two.data.a).toEqual({ percentile: 50, populationSize: 10 });
    expect(two.data.b).toEqual(two.data.a);
    const three = await gql(`{ ${at("a", 3)} ${at("b", 4)} ${at("c", 5)} }`);
    expect(three.errors?.map((e) => e.extensions.code)).toContain("QUERY_TOO_COMPLEX");
  });

  it("refuses bad arguments with BAD_USER_INPUT naming the field", async () => {
    const code = async (query: string, variables: Record<string, unknown> = {}) => {
      const r = await gql(query, variables);
      return `${r.errors?.[0]?.extensions.code}:${r.errors?.[0]?.extensions.field}`;
    };
    expect(await code(POINTS, { target: "cifar10_val_acc" })).toBe("BAD_USER_INPUT:target");
    expect(await code(`{ benchmarkPoints(space: DARTS, target: "cifar10_test_acc") { totalCount } }`)).toBe("BAD_USER_INPUT:target");
    expect(await code(POINTS, { target: "cifar10_test_acc", first: 1001 })).toBe("BAD_USER_INPUT:first");
    expect(await code(POINTS, { target: "cifar10_test_acc", first: -1 })).toBe("BAD_USER_INPUT:first");
    expect(await code(POINTS, { target: "cifar10_test_acc", after: "not-a-cursor" })).toBe("BAD_USER_INPUT:after");
    expect(await code(POINTS, { target: "cifar10_test_acc", protocol: { weights: "KEEP" } })).toBe("BAD_USER_INPUT:protocol.weights");
    expect(await code(`{ scorePercentile(space: NB201, dataset: MNIST, metric: WOT, value: 1) { percentile } }`)).toBe("BAD_USER_INPUT:dataset");
    const unknownTarget = await gql(POINTS, { target: "cifar10_val_acc" });
    expect(unknownTarget.errors?.[0].message).toMatch(/loaded: cifar100_test_acc, cifar10_test_acc/);
  });
});
