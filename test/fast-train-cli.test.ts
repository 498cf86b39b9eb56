import { describe, expect, it } from "vitest";
import { applyDasRule, checkpoints, defaultDasRule, type ArchitectureScore } from "../core/src/index.js";
import { scoresAtStep } from "../gpu-worker/src/cli/truth-scores.js";
import { sizeOverrides, intListFlag } from "../gpu-worker/src/cli/options.js";

describe("fast-training checkpoints", () => {
  it("scores at 0, K and the steps between, ascending, defaulting to K/4 and K/2", () => {
    expect(checkpoints(8)).toEqual([0, 2, 4, 8]);
    expect(checkpoints(50, [10])).toEqual([0, 10, 50]);
    expect(checkpoints(200, [50, 10, 200, 0, 10])).toEqual([0, 10, 50, 200]);
  });

  it("parses --ft-checkpoints and refuses steps outside 1..K", () => {
    expect(intListFlag("ft-checkpoints", "10, 50", 1, 200)).toEqual([10, 50]);
    expect(() => intListFlag("ft-checkpoints", "10,300", 1, 200)).toThrow(/ft-checkpoints/);
    expect(() => intListFlag("ft-checkpoints", "ten", 1, 200)).toThrow(/integer/);
  });

  it("maps --width/--depth to each space's size overrides", () => {
    expect(sizeOverrides("darts", "16", "5")).toEqual({ channels: 16, layers: 5 });
    expect(sizeOverrides("nb201", "8", "2")).toEqual({ stemChannels: 8, cellsPerStage: 2 });
    expect(sizeOverrides("nb101", "32", "1")).toEqual({ stemChannels: 32, cellsPerStack: 1 });
    expect(sizeOverrides("nb201", undefined, undefined)).toEqual({});
  });
});

describe("DAS defaults per setting", () => {
  it("takes the fast-trained calibration where one exists, WOT elsewhere", () => {
    expect(defaultDasRule("nb201")).toEqual({ kind: "linear", alpha: 1 });
    expect(defaultDasRule("nb201", "fast-trained")).toEqual({ kind: "linear", alpha: 3.16 });
    expect(defaultDasRule("onnx", "fast-trained")).toEqual({ kind: "linear", alpha: 1 });
  });
});

describe("--at-step", () => {
  const score = (arch: string, points: { step: number; na: number; d: number }[]): ArchitectureScore =>
    ({
      arch,
      batchSize: 4,
      activationUnits: points.at(-1)!.na,
      logActivationUnits: Math.log(points.at(-1)!.na),
      distinguishing: points.at(-1)!.d,
      wot: 4 * Math.log(points.at(-1)!.na) + points.at(-1)!.d,
      das: { value: 0, rule: "linear", parameters: { alpha: 0.5 } },
      singular: false,
      fastTrain: {
        protocol: { steps: 50, batchSize: 32, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, cosine: false },
        trajectory: points.map((p) => ({ step: p.step, activationUnits: p.na, distinguishing: p.d, wot: 4 * Math.log(p.na) + p.d, das: 0, singular: false })),
      },
    }) as unknown as ArchitectureScore;

  it("replaces the proxies by a trajectory point and re-applies the score's DAS rule", () => {
    const s = score("a", [
      { step: 0, na: 100, d: -3 },
      { step: 10, na: 100, d: -5 },
      { step: 50, na: 100, d: -9 },
    ]);
    const [at10] = scoresAtStep([s], "10");
    expect(at10.distinguishing).toBe(-5);
    expect(at10.wot).toBeCloseTo(4 * Math.log(100) - 5, 12);
    expect(at10.das.value).toBeCloseTo(applyDasRule({ kind: "linear", alpha: 0.5 }, { batchSize: 4, distinguishing: -5, logActivationUnits: Math.log(100) }), 12);
    expect(at10.das.value).toBeCloseTo(-5 + 0.5 * 4 * Math.log(100), 12);
    expect(scoresAtStep([s], undefined)[0]).toEqual(s);
  });

  it("is a coded error when a score has no point at that step", () => {
    const s = score("a", [
      { step: 0, na: 100, d: -3 },
      { step: 50, na: 100, d: -9 },
    ]);
    expect(() => scoresAtStep([s], "10")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
