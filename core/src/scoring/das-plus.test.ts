import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import { applyDasPlusRule, calibrateDasPlus, dasPlusFeatures, dasPlusProxies, interpolatedCdf, simplexGrid, type DasPlusFeatures, type DasPlusRule } from "./das-plus.js";
import { dasPlusUnavailable, defaultDasPlusRule } from "./das-plus-defaults.js";
import { DAS_PLUS_RULES } from "./das-plus-rules.js";

const row = (wot: number, params: number, synflow?: number): DasPlusFeatures => ({ wot, logActivationUnits: 0, distinguishing: 0, params, synflow });
const WHERE = { space: "test", dataset: "cifar10", batchSize: 4, target: "acc" };

describe("interpolatedCdf", () => {
  const ref = [0, 10, 20, 30, 40];
  it("is linear between quantiles and clamps outside them", () => {
    expect(interpolatedCdf(ref, 15)).toBeCloseTo(1.5 / 4, 12);
    expect(interpolatedCdf(ref, 2.5)).toBeCloseTo(0.25 / 4, 12);
    expect(interpolatedCdf(ref, -5)).toBe(0);
    expect(interpolatedCdf(ref, 99)).toBe(1);
  });
  it("gives a value on a run of equal quantiles the run's midpoint", () => {
    expect(interpolatedCdf(ref, 20)).toBe(0.5);
    expect(interpolatedCdf([1, 2, 2, 2, 3], 2)).toBe(0.5);
    expect(interpolatedCdf([1, 2, 2, 3, 3], 3)).toBe(3.5 / 4);
  });
  it("ranks infinities (a singular kernel, an overflowed synflow) at the ends without NaN", () => {
    const withInf = [-Infinity, 0, 1, Infinity];
    expect(interpolatedCdf(withInf, -Infinity)).toBe(0);
    expect(interpolatedCdf(withInf, Infinity)).toBe(1);
    expect(interpolatedCdf(withInf, -5)).toBe(0.5 / 3);
    expect(interpolatedCdf(withInf, 7)).toBe(2.5 / 3);
  });
});

describe("simplexGrid", () => {
  it("holds every weight vector in tenths summing to 1: C(14, 4) = 1001 over five features", () => {
    const grid = simplexGrid(5, 10);
    expect(grid).toHaveLength(1001);
    for (const w of grid) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(simplexGrid(2, 2)).toEqual([
      [0, 1],
      [0.5, 0.5],
      [1, 0],
    ]);
  });
});

describe("applyDasPlusRule", () => {
  const rule: DasPlusRule = {
    kind: "rank-sum",
    weights: { wot: 0.25, params: 0.75 },
    reference: { wot: [0, 100], params: [10, 20, 30] },
    calibration: { ...WHERE, n: 3 },
  };
  it("is the weighted sum of the features' CDFs, by hand", () => {
    // wot 50 -> 0.5; params 25 -> 0.75: 0.25 * 0.5 + 0.75 * 0.75 = 0.6875
    expect(applyDasPlusRule(rule, row(50, 25))).toBeCloseTo(0.6875, 12);
    expect(dasPlusProxies(rule)).toEqual([]);
  });
  it("refuses a score without a weighted feature, and names the proxies a rule needs", () => {
    const withSynflow: DasPlusRule = { ...rule, weights: { wot: 0.5, synflow: 0.5 }, reference: { wot: [0, 1], synflow: [0, 1] } };
    expect(dasPlusProxies(withSynflow)).toEqual(["synflow"]);
    expect(() => applyDasPlusRule(withSynflow, row(1, 1))).toThrow(DasError);
  });
  it("reads the features off a score record", () => {
    const f = dasPlusFeatures({ wot: 3, logActivationUnits: 2, distinguishing: -1, params: 9, proxies: { synflow: Infinity } });
    expect(f).toEqual({ wot: 3, logActivationUnits: 2, distinguishing: -1, params: 9, synflow: Infinity });
  });
});

describe("calibrateDasPlus", () => {
  it("puts all the weight on the feature that orders the target, and stores its quantiles", () => {
    const rows = [row(4, 1), row(3, 2), row(2, 3), row(1, 4), row(0, 5)];
    const target = [10, 20, 30, 40, 50]; // follows params, against wot
    const fit = calibrateDasPlus(rows, target, WHERE, ["wot", "params"]);
    expect(fit.kendall).toBe(1);
    expect(fit.rule.weights).toEqual({ params: 1 });
    expect(fit.rule.reference).toEqual({ params: [1, 2, 3, 4, 5] });
    expect(fit.rule.calibration).toEqual({ ...WHERE, n: 5 });
  });
  it("mixes two features when neither alone orders the target", () => {
    // target = wot rank + params rank: each alone leaves discordant pairs, the half-half mix none.
    const rows = [row(1, 2), row(2, 1), row(3, 4), row(4, 3), row(5, 6), row(6, 5)];
    const target = [3, 3.1, 7, 7.1, 11, 11.1];
    const fit = calibrateDasPlus(rows, target, WHERE, ["wot", "params"]);
    expect(fit.rule.weights.wot).toBeGreaterThan(0);
    expect(fit.rule.weights.params).toBeGreaterThan(0);
    expect(fit.kendall).toBeGreaterThan(0.99);
  });
  it("refuses a row without a feature it is asked to weigh", () => {
    expect(() => calibrateDasPlus([row(1, 1), row(2, 2, 5)], [1, 2], WHERE)).toThrow(/has no synflow/);
  });
});

describe("the shipped DAS+ rules", () => {
  it("cover the three search spaces at batch 128 on CIFAR-10, weights summing to 1 with a sorted reference each", () => {
    for (const space of ["nb201", "nb101", "darts"]) {
      const rule = defaultDasPlusRule(space, { dataset: "cifar10", batchSize: 128, seed: 1, overrides: {} });
      expect(rule.calibration).toMatchObject({ space, dataset: "cifar10", batchSize: 128 });
      const weights = Object.values(rule.weights);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      for (const f of Object.keys(rule.weights) as (keyof typeof rule.reference)[]) {
        const q = rule.reference[f]!;
        expect(q.length).toBeGreaterThan(50);
        expect([...q].sort((a, b) => a - b)).toEqual(q);
      }
    }
    expect(Object.keys(DAS_PLUS_RULES).sort()).toEqual(["darts", "nb101", "nb201"]);
  });
  it("are refused with a reason away from the protocol they were fitted at", () => {
    const at = (p: object) => dasPlusUnavailable("nb201", { dataset: "cifar10", batchSize: 128, seed: 7, overrides: {}, ...p });
    expect(at({})).toBeUndefined();
    expect(at({ batchSize: 32 })).toMatch(/batch 128, not 32/);
    expect(at({ overrides: { width: 8 } })).toMatch(/overrides/);
    expect(at({ fastTrain: { steps: 10 } })).toMatch(/fast training/);
    expect(dasPlusUnavailable("onnx", { dataset: "cifar10", batchSize: 128, seed: 1, overrides: {} })).toMatch(/no calibration for space onnx/);
    expect(() => defaultDasPlusRule("onnx", { dataset: "cifar10", batchSize: 128, seed: 1, overrides: {} })).toThrow(DasError);
  });
});
