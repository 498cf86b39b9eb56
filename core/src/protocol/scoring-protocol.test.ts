import { describe, expect, it } from "vitest";
import { DEFAULT_PROTOCOL, protocolHash, resolveProtocol, scoreKey, type ScoringProtocol } from "./scoring-protocol.js";

/** sha256 of {"batchSize":128,"dataset":"cifar10","overrides":{},"seed":1}; changing it invalidates every stored score. */
const DEFAULT_PROTOCOL_HASH = "11d4f5123fbb084d6740d87536bd1a922ecb5da45e8efa61200a06c36630b31e";

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return { code: (e as { code?: string }).code, field: (e as { details?: { field?: string } }).details?.field };
  }
  return undefined;
};

describe("resolveProtocol", () => {
  it("fills the reference protocol's defaults", () => {
    expect(resolveProtocol("nb201", {})).toEqual(DEFAULT_PROTOCOL);
    // Uploaded models: the weights re-drawn (the architecture at initialisation) and images adapted, unless asked otherwise.
    expect(resolveProtocol("onnx", { dataset: "mnist", batchSize: 16 })).toEqual({ ...DEFAULT_PROTOCOL, dataset: "mnist", batchSize: 16, weights: "init", adapt: true });
  });

  it("maps width and depth to each space's size overrides", () => {
    expect(resolveProtocol("darts", { width: 16, depth: 5 }).overrides).toEqual({ channels: 16, layers: 5 });
    expect(resolveProtocol("nb201", { width: 8, depth: 2 }).overrides).toEqual({ stemChannels: 8, cellsPerStage: 2 });
    expect(resolveProtocol("nb101", { width: 32, depth: 1 }).overrides).toEqual({ stemChannels: 32, cellsPerStack: 1 });
  });

  it("fills the fast-training defaults, and drops fast training at 0 steps", () => {
    expect(resolveProtocol("nb201", { fastTrainSteps: 50 }).fastTrain).toEqual({ steps: 50, lr: 0.05, batchSize: 64, momentum: 0.9, weightDecay: 5e-4, cosine: false });
    expect(resolveProtocol("nb201", { fastTrainSteps: 50, lr: 0.1, ftBatchSize: 32, ftCheckpoints: [10] }).fastTrain).toMatchObject({ lr: 0.1, batchSize: 32, checkpoints: [10] });
    expect(resolveProtocol("nb201", { fastTrainSteps: 0, lr: 0.1 })).not.toHaveProperty("fastTrain");
  });

  it("refuses every bad field with a code naming it", () => {
    expect(codeOf(() => resolveProtocol("nb201", { batchSize: 1 }))).toEqual({ code: "INVALID_ARGUMENT", field: "batchSize" });
    expect(codeOf(() => resolveProtocol("nb201", { batchSize: 513 }))).toEqual({ code: "INVALID_ARGUMENT", field: "batchSize" });
    expect(codeOf(() => resolveProtocol("nb201", { batchSize: 12.5 }))).toEqual({ code: "INVALID_ARGUMENT", field: "batchSize" });
    expect(codeOf(() => resolveProtocol("nb201", { seed: -1 }))).toEqual({ code: "INVALID_ARGUMENT", field: "seed" });
    expect(codeOf(() => resolveProtocol("nb201", { seed: 2 ** 32 }))).toEqual({ code: "INVALID_ARGUMENT", field: "seed" });
    expect(codeOf(() => resolveProtocol("nb201", { seed: NaN }))).toEqual({ code: "INVALID_ARGUMENT", field: "seed" });
    expect(codeOf(() => resolveProtocol("nb201", { dataset: "imagenet" }))).toEqual({ code: "INVALID_DATASET", field: "dataset" });
    expect(codeOf(() => resolveProtocol("nb201", { dataset: "mnist" }))).toEqual({ code: "INVALID_DATASET", field: "dataset" });
    expect(codeOf(() => resolveProtocol("onnx", { width: 8 }))).toEqual({ code: "INVALID_ARGUMENT", field: "width" });
    expect(codeOf(() => resolveProtocol("onnx", { depth: 2 }))).toEqual({ code: "INVALID_ARGUMENT", field: "depth" });
    expect(codeOf(() => resolveProtocol("onnx", { fastTrainSteps: 5 }))).toEqual({ code: "INVALID_ARGUMENT", field: "fastTrainSteps" });
    expect(codeOf(() => resolveProtocol("darts", { width: 0 }))).toEqual({ code: "INVALID_ARGUMENT", field: "width" });
    expect(codeOf(() => resolveProtocol("darts", { depth: 101 }))).toEqual({ code: "INVALID_ARGUMENT", field: "depth" });
    expect(codeOf(() => resolveProtocol("nb201", { fastTrainSteps: -1 }))).toEqual({ code: "INVALID_ARGUMENT", field: "fastTrainSteps" });
    expect(codeOf(() => resolveProtocol("nb201", { fastTrainSteps: 10, lr: 0 }))).toEqual({ code: "INVALID_ARGUMENT", field: "lr" });
    expect(codeOf(() => resolveProtocol("nb201", { fastTrainSteps: 10, ftBatchSize: 1 }))).toEqual({ code: "INVALID_ARGUMENT", field: "ftBatchSize" });
    expect(codeOf(() => resolveProtocol("nb201", { fastTrainSteps: 10, ftCheckpoints: [11] }))).toEqual({ code: "INVALID_ARGUMENT", field: "ftCheckpoints" });
    expect(codeOf(() => resolveProtocol("nb999", {}))).toEqual({ code: "UNKNOWN_SEARCH_SPACE", field: undefined });
  });

  it("starts each message with the field it refuses", () => {
    expect(() => resolveProtocol("nb201", { batchSize: 1 })).toThrow(/^batchSize must be an integer in 2\.\.512, got '1'$/);
  });
});

describe("protocolHash", () => {
  it("has a recorded value for the default protocol", async () => {
    expect(await protocolHash(DEFAULT_PROTOCOL)).toBe(DEFAULT_PROTOCOL_HASH);
    expect(await protocolHash(resolveProtocol("nb201", {}))).toBe(DEFAULT_PROTOCOL_HASH);
  });

  it("is lowercase hex and the same whatever the key order, with defaults filled", async () => {
    const a = resolveProtocol("darts", { width: 16, depth: 5, fastTrainSteps: 40 });
    const reordered = JSON.parse(JSON.stringify({ fastTrain: { ...a.fastTrain }, overrides: { layers: 5, channels: 16 }, seed: a.seed, batchSize: a.batchSize, dataset: a.dataset }));
    const h = await protocolHash(a);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await protocolHash(reordered)).toBe(h);
    // Explicit default checkpoints (steps/4, steps/2) score the same trajectory as none.
    expect(await protocolHash({ ...a, fastTrain: { ...a.fastTrain!, checkpoints: [20, 10, 20] } })).toBe(h);
    // Fast training with 0 steps is scoring at initialisation.
    expect(await protocolHash({ ...DEFAULT_PROTOCOL, fastTrain: { ...a.fastTrain!, steps: 0 } })).toBe(DEFAULT_PROTOCOL_HASH);
  });

  it("changes with every field that changes a score", async () => {
    const base = resolveProtocol("nb201", { fastTrainSteps: 40 });
    const ft = base.fastTrain!;
    const variants: ScoringProtocol[] = [
      base,
      DEFAULT_PROTOCOL,
      { ...base, batchSize: 64 },
      { ...base, seed: 2 },
      { ...base, dataset: "mnist" },
      { ...base, overrides: { stemChannels: 8 } },
      { ...base, overrides: { cellsPerStage: 8 } },
      { ...base, fastTrain: { ...ft, steps: 41 } },
      { ...base, fastTrain: { ...ft, lr: 0.1 } },
      { ...base, fastTrain: { ...ft, batchSize: 32 } },
      { ...base, fastTrain: { ...ft, momentum: 0.5 } },
      { ...base, fastTrain: { ...ft, weightDecay: 0 } },
      { ...base, fastTrain: { ...ft, cosine: true } },
      { ...base, fastTrain: { ...ft, checkpoints: [5] } },
    ];
    const hashes = await Promise.all(variants.map(protocolHash));
    expect(new Set(hashes).size).toBe(variants.length);
  });
});

describe("scoreKey", () => {
  it("lays scores out by engine version, dataset, protocol and architecture", () => {
    expect(scoreKey("0.1.0", DEFAULT_PROTOCOL, "abc", "def")).toBe("scores/0.1.0/cifar10/abc/def.json");
  });
});
