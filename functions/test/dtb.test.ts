// DTB through the Worker's GraphQL API inside workerd, against the real s3rver into which
// test/helpers/workers-setup.ts pushed the shipped DTB-mini with `das dtb push`. Expected values come
// from the record files themselves (the `dtbMini` summary), not from the code under test.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { dtbRecordKey, dtbShardKey, dtbShardOf, genotypeOps, mergeDtbShard, type DtbIndexEntry, type DtbIndexShard } from "@das/core";
import { SELF } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { testS3 } from "./s3-client.js";

const mini = inject("dtbMini");
const s3 = testS3();

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await SELF.fetch("http://edge/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...(await res.json<{ data?: any; errors?: { message: string; extensions: Record<string, any> }[] }>()) };
}

const PAGE = `query($first: Int, $after: String, $filter: DtbFilter, $orderBy: DtbOrder, $protocol: String! = "mini") {
  dtbRecords(protocol: $protocol, first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount edges { cursor node { archId finalTestAccuracy params states { step epoch testAccuracy wot das } } } pageInfo { hasNextPage endCursor } } }`;

/** Follows endCursor to the end; every page's edges in order. */
async function allPages(variables: Record<string, unknown>): Promise<{ pages: any[][]; totalCount: number }> {
  const pages: any[][] = [];
  let after = (variables.after as string | undefined) ?? null;
  let totalCount = -1;
  for (let i = 0; i < 100; i++) {
    const r = await gql(PAGE, { ...variables, after });
    expect(r.errors).toBeUndefined();
    const c = r.data.dtbRecords;
    totalCount = c.totalCount;
    pages.push(c.edges);
    if (!c.pageInfo.hasNextPage) return { pages, totalCount };
    expect(c.pageInfo.endCursor).toBe(c.edges.at(-1).cursor);
    after = c.pageInfo.endCursor;
  }
  throw new Error("dtbRecords never reached its last page");
}

const byArchId = (a: { archId: string }, b: { archId: string }) => (a.archId < b.archId ? -1 : 1);

describe("DTB in the edge API (workerd, s3rver)", () => {
  it("lists the protocols, with the pushed DTB-mini counted under mini", async () => {
    const r = await gql(`{ dtbProtocols { name hash epochs stepsPerEpoch recordedSteps split { train trainImages testImages } records } }`);
    expect(r.errors).toBeUndefined();
    const byName = Object.fromEntries(r.data.dtbProtocols.map((p: any) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(["mini", "paper", "smoke"]);
    expect(mini.length).toBeGreaterThanOrEqual(60);
    expect(byName.mini).toMatchObject({ hash: mini[0].protocolHash, epochs: 3, stepsPerEpoch: 62, recordedSteps: [0, 10, 30, 62, 124, 186], records: mini.length });
    expect(byName.paper.split).toEqual({ train: "train-50000", trainImages: 50000, testImages: 10000 });
    expect(byName.paper.records).toBe(0);
  });

  it("pages through every record once, in archId order, with cursors that give the same page again", async () => {
    const { pages, totalCount } = await allPages({ first: 7 });
    expect(totalCount).toBe(mini.length);
    expect(pages.length).toBe(Math.ceil(mini.length / 7));
    const got = pages.flat().map((e) => e.node);
    expect(got.map((n) => n.archId)).toEqual([...mini].sort(byArchId).map((m) => m.archId));
    for (const n of got) {
      const m = mini.find((x) => x.archId === n.archId)!;
      expect([n.finalTestAccuracy, n.params, n.states.length, n.states[0].wot]).toEqual([m.finalTestAccuracy, m.params, m.states, m.initWot]);
      expect(n.states.at(-1).testAccuracy).toBe(m.finalTestAccuracy);
    }
    const again = await gql(PAGE, { first: 7, after: pages[1].at(-1).cursor });
    expect(again.data.dtbRecords.edges.map((e: any) => e.node.archId)).toEqual(pages[2].map((e) => e.node.archId));
  });

  it("filters by final accuracy and ops, ordered by final accuracy descending (ties by archId)", async () => {
    const filter = { minFinalTestAccuracy: 0.3, maxFinalTestAccuracy: 0.45, containsOps: ["SEP_CONV_5X5", "MAX_POOL_3X3"] };
    const expected = mini
      .filter((m) => m.finalTestAccuracy >= 0.3 && m.finalTestAccuracy <= 0.45)
      .filter((m) => genotypeOps(m.genotype).includes("sep_conv_5x5") && genotypeOps(m.genotype).includes("max_pool_3x3"))
      .sort((a, b) => b.finalTestAccuracy - a.finalTestAccuracy || byArchId(a, b));
    expect(expected.length).toBeGreaterThan(3);
    const { pages, totalCount } = await allPages({ first: 3, filter, orderBy: { field: "FINAL_TEST_ACCURACY", direction: "DESC" } });
    expect(totalCount).toBe(expected.length);
    expect(pages.flat().map((e) => e.node.archId)).toEqual(expected.map((m) => m.archId));
  });

  it("finds one record by genotype, and one state by step or epoch", async () => {
    const m = mini[0];
    const q = `query($g: String!) { dtbRecord(genotype: $g) { archId ops protocol { name } build { provider }
      states { step epoch testAccuracy wot } init: state(step: 0) { step wot } early: state(step: 10) { step } end: state(epoch: 3) { step testAccuracy } none: state(step: 11) { step } } }`;
    // The genotype as Python prints it with the spaces removed: the same architecture.
    const r = await gql(q, { g: m.genotype.replace(/, /g, ",") });
    expect(r.errors).toBeUndefined();
    const rec = r.data.dtbRecord;
    expect(rec.archId).toBe(m.archId);
    expect(rec.protocol.name).toBe("mini");
    expect(rec.ops).toEqual(genotypeOps(m.genotype).map((o) => o.toUpperCase()));
    expect(rec.init).toEqual({ step: 0, wot: m.initWot });
    expect(rec.early).toEqual({ step: 10 });
    expect(rec.end).toEqual({ step: 186, testAccuracy: m.finalTestAccuracy });
    expect(rec.none).toBeNull();
    const unbuilt = "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
    expect((await gql(`query($g: String!) { dtbRecord(genotype: $g) { archId } }`, { g: unbuilt })).data.dtbRecord).toBeNull();
  });

  it("refuses bad arguments with BAD_USER_INPUT naming the field", async () => {
    const code = async (query: string, variables: Record<string, unknown> = {}) => {
      const r = await gql(query, variables);
      return `${r.errors?.[0]?.extensions.code}:${r.errors?.[0]?.extensions.field}`;
    };
    expect(await code(`{ dtbRecord(genotype: "Genotype(normal=[('conv_9x9', 0)])") { archId } }`)).toBe("BAD_USER_INPUT:genotype");
    expect(await code(`{ dtbRecords(protocol: "tiny") { totalCount } }`)).toBe("BAD_USER_INPUT:protocol");
    expect(await code(`{ dtbRecords(first: 51) { totalCount } }`)).toBe("BAD_USER_INPUT:first");
    expect(await code(`{ dtbRecords(last: 5) { totalCount } }`)).toBe("BAD_USER_INPUT:last");
    expect(await code(`{ dtbRecords(filter: { minFinalTestAccuracy: 2 }) { totalCount } }`)).toBe("BAD_USER_INPUT:filter.minFinalTestAccuracy");
    const first = await gql(PAGE, { first: 2, orderBy: { field: "PARAMS" } });
    const cursor = first.data.dtbRecords.pageInfo.endCursor;
    expect(await code(PAGE, { first: 2, after: cursor })).toBe("BAD_USER_INPUT:after");
    expect(await code(`{ dtbRecord(genotype: "${mini[0].genotype}") { state(step: 0, epoch: 0) { step } } }`)).toBe("BAD_USER_INPUT:epoch");
  });

  it("keeps its place while records are pushed between two pages", async () => {
    // A protocol namespace of its own (records copied from DTB-mini under a made-up hash and archIds).
    const hash = "ab".repeat(32);
    const source = await gql(`{ dtbRecords(first: 12) { edges { node { archId } } } }`);
    const originals = await Promise.all(source.data.dtbRecords.edges.map(async (e: any) => JSON.parse(await getText(dtbRecordKey(mini[0].protocolHash, e.node.archId)))));
    // What `das dtb push` does: records first, then each shard merged (kept here, the namespace is new).
    const shards = new Map<string, DtbIndexShard>();
    const publish = async (records: any[]) => {
      for (const r of records) await putJson(dtbRecordKey(hash, r.architecture.archId), r);
      for (const r of records) {
        const shard = dtbShardOf(r.architecture.archId);
        const key = dtbShardKey(hash, shard);
        const entry: DtbIndexEntry = { archId: r.architecture.archId, genotype: r.architecture.genotype, ops: genotypeOps(r.architecture.genotype), params: r.params, finalTestAccuracy: r.finalTestAccuracy, initWot: r.states[0].wot, initDas: r.states[0].das, states: r.states.length, builtAt: r.build.builtAt };
        shards.set(key, mergeDtbShard(shards.get(key) ?? null, hash, shard, [entry]));
        await putJson(key, shards.get(key));
      }
    };
    const copy = (r: any, i: number, acc: number) => {
      const archId = i.toString(16).padStart(2, "0").repeat(32);
      return { ...r, architecture: { ...r.architecture, archId }, protocol: { ...r.protocol, hash }, finalTestAccuracy: acc, states: r.states.map((s: any, k: number) => (k === r.states.length - 1 ? { ...s, testAccuracy: acc } : s)) };
    };
    await publish(originals.slice(0, 10).map((r, i) => copy(r, i + 0x10, (30 + i) / 100)));
    const order = { field: "FINAL_TEST_ACCURACY", direction: "DESC" };
    const p1 = await gql(PAGE, { protocol: hash, first: 4, orderBy: order });
    expect(p1.data.dtbRecords.edges.map((e: any) => e.node.finalTestAccuracy)).toEqual([0.39, 0.38, 0.37, 0.36]);
    // One new record above the boundary (it would shift an offset cursor), one below it.
    await publish([copy(originals[10], 0x40, 0.385), copy(originals[11], 0x41, 0.355)]);
    const rest = await allPages({ protocol: hash, first: 4, orderBy: order, after: p1.data.dtbRecords.pageInfo.endCursor });
    expect(rest.pages.flat().map((e) => e.node.finalTestAccuracy)).toEqual([0.355, 0.35, 0.34, 0.33, 0.32, 0.31, 0.3]);
    expect(rest.totalCount).toBe(12);
  });
});

async function getText(key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: "das", Key: key }));
  return r.Body!.transformToString();
}

const putJson = (key: string, value: unknown) => s3.send(new PutObjectCommand({ Bucket: "das", Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));
