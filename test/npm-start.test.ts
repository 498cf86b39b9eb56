/**
 * `npm start`'s own script (scripts/start.mjs, after the build `npm start` runs first), on free
 * loopback ports with its data in a temp folder: the first start loads the shipped DTB-mini into its
 * S3, dtbRecords pages through all of it and filters it over HTTP, Ctrl-C (SIGTERM) stops every
 * service, and a second start on the same data serves the records without loading them again. The
 * benchmark truth of ../shared/data is loaded the same way, once (without the folder, the start says so).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { genotypeOps, parseDtbRecord, type DtbRecord } from "../core/dist/index.js";
import { ROOT, tempDir } from "./helpers/cli.js";
import { freePort, Proc, waitFor } from "./helpers/processes.js";
import { processes, stopGroup } from "./helpers/stack.js";
import { hasSharedData } from "./shared-data.js";

const SHIPPED = join(ROOT, "gpu-worker/data/dtb-mini");
const shipped: DtbRecord[] = readdirSync(SHIPPED)
  .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
  .map((f) => parseDtbRecord(JSON.parse(readFileSync(join(SHIPPED, f), "utf8"))));
const dataRoot = tempDir("npm-start");
let running: Proc | undefined;

afterAll(async () => {
  if (running) await stopGroup(running);
  rmSync(dataRoot, { recursive: true, force: true });
});

async function start(ports: Record<string, number>): Promise<{ proc: Proc; url: string }> {
  const env = { ...process.env, DAS_S3_PORT: String(ports.s3), DAS_GPU_PORT: String(ports.gpu), DAS_EDGE_PORT: String(ports.edge), DAS_DATA_ROOT: dataRoot, DAS_API_KEY: "start-test-key" };
  const proc = new Proc(spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  running = proc;
  await waitFor("npm start's 'stack is up'", async () => {
    if (!proc.running) throw new Error(`start.mjs exited: ${proc.out.join("\n")}`);
    return proc.out.some((l) => l.includes("DAS local stack is up"));
  }, 240_000, 250);
  return { proc, url: `http://127.0.0.1:${ports.edge}/graphql` };
}

/** start.mjs and its services: each leads its own process group (wrangler's holds workerd). */
function stackProcesses(proc: Proc, gpuPort: number): number[] {
  const all = processes();
  const leaders = all.filter((p) => p.pid === proc.pid || p.command.includes(dataRoot) || p.command.includes(`--port ${gpuPort}`)).map((p) => p.pid);
  return all.filter((p) => leaders.includes(p.pgid) || leaders.includes(p.pid)).map((p) => p.pid);
}

async function stop(proc: Proc, gpuPort: number): Promise<number | null> {
  const group = stackProcesses(proc, gpuPort);
  expect(group.length).toBeGreaterThanOrEqual(4);
  const { code } = await proc.stop("SIGTERM", 90_000);
  running = undefined;
  await waitFor("the stack's processes to be gone", async () => processes().every((p) => !group.includes(p.pid)), 20_000).catch(() => {});
  expect(processes().filter((p) => group.includes(p.pid))).toEqual([]);
  return code;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  const body = (await r.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const PAGE = `query($after: String, $filter: DtbFilter) { dtbRecords(first: 25, after: $after, filter: $filter, orderBy: { field: FINAL_TEST_ACCURACY, direction: DESC }) {
  totalCount edges { node { archId finalTestAccuracy state(epoch: 0) { wot } } } pageInfo { hasNextPage endCursor } } }`;

async function everyRecord(url: string, filter?: unknown): Promise<any[]> {
  const nodes: any[] = [];
  let after: string | null = null;
  do {
    const c: any = (await gql(url, PAGE, { after, filter })).dtbRecords;
    nodes.push(...c.edges.map((e: any) => e.node));
    after = c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null;
  } while (after);
  return nodes;
}

/** What start.mjs loads from ../shared/data: space, target, and the architectures when known from the CSV (NB101 merges isomorphic rows). */
const TRUTH = [
  ["NB101", "cifar10_val_acc", undefined],
  ["NB201", "cifar100_test_acc", 1000],
  ["NB201", "cifar10_test_acc", 1000],
  ["NB201", "imagenet16_120_test_acc", 1000],
  ["DARTS", "cifar10_val_acc", 250],
] as const;

const byAccuracy = (a: DtbRecord, b: DtbRecord) => b.finalTestAccuracy - a.finalTestAccuracy || (a.architecture.archId < b.architecture.archId ? -1 : 1);

describe("npm start (scripts/start.mjs)", () => {
  it("loads DTB-mini and the benchmark truth on the first start, serves and filters it, stops cleanly, and keeps both for the next start", async () => {
    const ports = { s3: await freePort(), gpu: await freePort(), edge: await freePort() };
    const first = await start(ports);
    expect(first.proc.out.join("\n")).toMatch(/DTB-mini loaded: \{"records":\d+/);

    const all = await everyRecord(first.url);
    const expected = [...shipped].sort(byAccuracy);
    expect(all.map((n) => n.archId)).toEqual(expected.map((r) => r.architecture.archId));
    expect(all.map((n) => n.state.wot)).toEqual(expected.map((r) => r.states[0].wot));
    const filtered = await everyRecord(first.url, { minFinalTestAccuracy: 0.35, containsOps: ["DIL_CONV_3X3"] });
    const expectedFiltered = expected.filter((r) => r.finalTestAccuracy >= 0.35 && genotypeOps(r.architecture.genotype).includes("dil_conv_3x3"));
    expect(expectedFiltered.length).toBeGreaterThan(0);
    expect(filtered.map((n) => n.archId)).toEqual(expectedFiltered.map((r) => r.architecture.archId));
    const loaded = first.proc.out.join("\n");
    const targets = (await gql(first.url, `{ benchmarkTargets { space target count } }`)).benchmarkTargets;
    if (hasSharedData) {
      const lines = TRUTH.map(([space, target]) => new RegExp(`truth loaded: ${space.toLowerCase()} ${target} \\((\\d+) architectures\\)`).exec(loaded));
      expect(lines.every(Boolean), loaded).toBe(true);
      expect(targets).toEqual(
        TRUTH.map(([space, target, count], i) => ({ space, target, count: count ?? Number(lines[i]![1]) })).sort((a, b) => (a.space === b.space ? (a.target < b.target ? -1 : 1) : a.space < b.space ? -1 : 1)),
      );
      expect(targets.find((t: any) => t.space === "NB101").count).toBeGreaterThan(100);
    } else {
      expect(loaded).toMatch(/benchmark truth not loaded/);
      expect(targets).toEqual([]);
    }
    expect(await stop(first.proc, ports.gpu)).toBe(0);

    const second = await start(ports);
    expect(second.proc.out.join("\n")).not.toMatch(/DTB-mini loaded/);
    expect(second.proc.out.join("\n")).not.toMatch(/truth loaded/);
    expect((await gql(second.url, `{ benchmarkTargets { space target count } }`)).benchmarkTargets).toEqual(targets);
    const protocols = await gql(second.url, `{ dtbProtocols { name records } }`);
    expect(protocols.dtbProtocols.find((p: any) => p.name === "mini").records).toBe(shipped.length);
    expect(await stop(second.proc, ports.gpu)).toBe(0);
  });
});
