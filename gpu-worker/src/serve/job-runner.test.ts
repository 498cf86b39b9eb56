import { describe, expect, it } from "vitest";
import { DasError } from "@das/core";
import { BatchStore, type Manifest } from "./batch-store.js";
import { MemoryBlobStore } from "./blob-store.js";
import type { ItemScorer, JobItem } from "./engine-adapter.js";
import { JobQueue } from "./job-queue.js";
import { JobRunner } from "./job-runner.js";

const protocol = { dataset: "cifar10", batchSize: 16, seed: 1, fastTrainSteps: 0 };

function fakeScorer(calls: string[]): ItemScorer {
  return {
    info: { engineVersion: "test", runtime: "fake", executionProvider: "cpu", device: "none" },
    async keyFor(item: JobItem) {
      const id = item.space === "onnx" ? item.model : item.spec;
      if (id === "bad") throw new DasError("INVALID_ARCH_SPEC", "bad spec");
      return { archId: id, key: `scores/${id}.json` };
    },
    async score(item: JobItem) {
      const id = item.space === "onnx" ? item.model : item.spec;
      calls.push(id);
      return { id };
    },
  };
}

function setup(items: JobItem[]) {
  const blobs = new MemoryBlobStore();
  const calls: string[] = [];
  const batches = new BatchStore(blobs);
  const runner = new JobRunner({ batches, blobs, scorer: fakeScorer(calls), queue: new JobQueue(2), itemTimeoutMs: 1000, dtbItemTimeoutMs: 1000, callbacks: { secret: "x", attempts: 1, baseDelayMs: 1 }, log: () => {} });
  const manifest: Manifest = { batchId: "b", dataset: "cifar10", protocol, engineVersion: "test", items, createdAt: "now" };
  return { blobs, calls, batches, runner, manifest };
}

describe("JobRunner", () => {
  it("writes only the outcome of an item whose score object exists (a crash between the two writes), and skips items with outcomes", async () => {
    const items: JobItem[] = [{ space: "nb201", spec: "a" }, { space: "nb201", spec: "b" }, { space: "nb201", spec: "bad" }, { space: "nb201", spec: "a" }];
    const { blobs, calls, batches, runner, manifest } = setup(items);
    await batches.putManifest(manifest);
    await blobs.put("scores/a.json", "{}"); // scored before a crash, outcome never written
    await batches.putOutcome("b", 1, { key: "scores/b.json" });
    blobs.puts.length = 0;
    await runner.start(manifest);
    expect(calls).toEqual([]);
    expect(blobs.puts.sort()).toEqual(["batches/b/items/0.json", "batches/b/items/2.json", "batches/b/items/3.json"]);
    expect(await batches.counts(manifest)).toEqual({ total: 4, done: 4, failed: 1 });
  });

  it("scores an architecture that appears twice in flight once", async () => {
    const { calls, runner, manifest, batches } = setup([{ space: "nb201", spec: "a" }, { space: "nb201", spec: "a" }, { space: "nb201", spec: "c" }]);
    await runner.start(manifest);
    expect(calls.sort()).toEqual(["a", "c"]);
    expect(runner.computed).toBe(2);
    expect(await batches.counts(manifest)).toEqual({ total: 3, done: 3, failed: 0 });
  });

  it("fails a DTB item whose stored record is not a valid record, and still finishes the batch", async () => {
    const key = `dtb/${"a".repeat(64)}/${"b".repeat(64)}.json`;
    const blobs = new MemoryBlobStore();
    const batches = new BatchStore(blobs);
    const scorer: ItemScorer = {
      info: { engineVersion: "test", runtime: "fake", executionProvider: "cpu", device: "none" },
      keyFor: async () => ({ archId: "b".repeat(64), key }),
      score: async () => ({}),
    };
    const runner = new JobRunner({ batches, blobs, scorer, queue: new JobQueue(1), itemTimeoutMs: 1000, dtbItemTimeoutMs: 1000, callbacks: { secret: "x", attempts: 1, baseDelayMs: 1 }, log: () => {} });
    await blobs.put(key, JSON.stringify({ version: 99 })); // another engine's record, or a hand edit
    const manifest: Manifest = { batchId: "d", dataset: "cifar10", protocol, engineVersion: "test", items: [{ space: "darts", spec: "g", dtb: { protocol: "smoke" } }], createdAt: "now" };
    await batches.putManifest(manifest);
    await runner.start(manifest);
    expect(await batches.counts(manifest)).toEqual({ total: 1, done: 1, failed: 1 });
    const outcome = JSON.parse(new TextDecoder().decode(await blobs.get(BatchStore.itemKey("d", 0))));
    expect(outcome.error.code).toBe("INVALID_ARGUMENT");
  });
});
