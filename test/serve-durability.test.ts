import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, serviceEnv, sleep, startS3rver, startService, waitFor, type S3rver, type Service } from "./helpers/processes.js";
import { signedFetch } from "./helpers/signed-fetch.js";

const SPECS = readFileSync(join(ROOT, "gpu-worker/data/nb201-sample.txt"), "utf8")
  .split("\n")
  .filter((l) => l.startsWith("|"));
const PROTOCOL = { batchSize: 64, seed: 1, fastTrainSteps: 0 };

let s3: S3rver;
const services: Service[] = [];

/** Every object s3rver holds, with its file's modification time. */
function objectTimes(s3: S3rver): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith("._S3rver_object")) out.set(relative(join(s3.dir, "das"), p).slice(0, -"._S3rver_object".length), statSync(p).mtimeMs);
    }
  };
  walk(join(s3.dir, "das"));
  return out;
}

const computedKeys = (svc: Service) => svc.proc.out.map((l) => /computed (\S+)/.exec(l)?.[1]).filter((k): k is string => !!k);

beforeAll(async () => {
  s3 = await startS3rver();
});

afterAll(async () => {
  for (const s of services) await s.proc.stop("SIGKILL");
  await s3?.proc.stop("SIGTERM");
});

describe("das serve durability", () => {
  it("answers 429 when the queue is full, and after kill -9 resumes from S3 without recomputing or rewriting anything", async () => {
    const env = serviceEnv(s3, { DAS_GPU_CONCURRENCY: "1", DAS_GPU_QUEUE_LIMIT: "1" });
    const a = await startService(env);
    services.push(a);
    const items = SPECS.map((spec) => ({ space: "nb201", spec }));
    expect((await signedFetch(a.url, "POST", "/v1/jobs", { batchId: "dur-1", items, dataset: "cifar10", protocol: PROTOCOL })).status).toBe(202);
    const full = await signedFetch(a.url, "POST", "/v1/jobs", { batchId: "dur-2", items: items.slice(0, 1), dataset: "cifar10", protocol: PROTOCOL });
    expect(full.status).toBe(429);
    expect(full.json.error.code).toBe("QUEUE_FULL");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThan(0);

    const itemFile = (i: number) => s3.objectFile(`batches/dur-1/items/${i}.json`);
    await waitFor("three items in S3", async () => items.filter((_, i) => existsSync(itemFile(i))).length >= 3, 120_000, 20);
    await a.proc.stop("SIGKILL");
    const before = objectTimes(s3);
    const doneBefore = items.filter((_, i) => before.has(`batches/dur-1/items/${i}.json`)).length;
    expect(doneBefore).toBeGreaterThanOrEqual(3);
    expect(doneBefore).toBeLessThan(items.length);

    await sleep(50); // distinct mtimes for anything rewritten
    const b = await startService(env);
    services.push(b);
    await waitFor("dur-1 to finish after the restart", async () => (await signedFetch(b.url, "GET", "/v1/jobs/dur-1")).json.status === "finished", 120_000, 200);
    expect((await signedFetch(b.url, "GET", "/v1/jobs/dur-1")).json).toEqual({ batchId: "dur-1", status: "finished", total: items.length, done: items.length, failed: 0 });
    expect(b.proc.out.join("\n")).toMatch(/resumed 1 unfinished batch/);

    const after = objectTimes(s3);
    for (const [key, mtime] of before) expect(after.get(key), `${key} rewritten`).toBe(mtime);
    const outcomes = items.map((_, i) => JSON.parse(readFileSync(itemFile(i), "utf8")) as { key: string });
    const scoreKeys = new Set(outcomes.map((o) => o.key));
    for (const k of scoreKeys) expect(after.has(k)).toBe(true);
    // Each score object computed once: by the first process (stored before the kill) or by the second, never both.
    const first = computedKeys(a);
    const second = computedKeys(b);
    expect(second.filter((k) => before.has(k))).toEqual([]);
    expect(new Set([...first, ...second])).toEqual(scoreKeys);
    expect(first.length + second.length).toBe(scoreKeys.size);
  });

  it("on SIGTERM stops taking jobs (503), lets the running item finish and exits 0", async () => {
    const svc = await startService(serviceEnv(s3, { DAS_GPU_CONCURRENCY: "1", DAS_GPU_GRACE_MS: "60000" }));
    services.push(svc);
    const items = SPECS.slice(0, 4).map((spec) => ({ space: "nb201", spec }));
    expect((await signedFetch(svc.url, "POST", "/v1/jobs", { batchId: "term-1", items, dataset: "cifar10", protocol: { ...PROTOCOL, seed: 7 } })).status).toBe(202);
    await waitFor("an item running", async () => ((await (await fetch(`${svc.url}/healthz`)).json())).runningItems > 0, 30_000, 20);
    process.kill(svc.proc.pid, "SIGTERM");
    await sleep(100);
    const refused = await signedFetch(svc.url, "POST", "/v1/jobs", { items: items.slice(0, 1), dataset: "cifar10" });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("GPU_UNAVAILABLE");
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(503);
    expect(await svc.proc.exited).toEqual({ code: 0, signal: null });
    // The item that was running when SIGTERM came finished and is in S3; the rest wait for the next start.
    expect(existsSync(s3.objectFile("batches/term-1/items/0.json"))).toBe(true);
    expect(existsSync(s3.objectFile("batches/term-1/items/3.json"))).toBe(false);
  });
});
