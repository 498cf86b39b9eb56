import { describe, expect, it } from "vitest";
import { hammingKernelFromCodes, hammingKernelFromGram } from "./kernel.js";
import { logDet } from "./logdet.js";
import { atomicMetrics } from "./metrics.js";
import { Rng } from "../util/rng.js";
import { applyDasRule, empiricalCdf, WOT_RULE } from "./das-rules.js";

// Three samples, three units. Agreements: (1,2)=1, (1,3)=2, (2,3)=0.
const codes = [
  [1, 0, 1],
  [1, 1, 0],
  [0, 0, 1],
];
const K = [3, 1, 2, 1, 3, 0, 2, 0, 3];

describe("Hamming kernel", () => {
  it("counts agreements between codes (N_A - Hamming distance)", () => {
    expect([...hammingKernelFromCodes(codes)]).toEqual(K);
  });

  it("is recovered exactly from the Gram matrix C C^T", () => {
    // G = C C^T by hand: diag (2,2,1), G12 = 1, G13 = 1, G23 = 0.
    const gram = [2, 1, 1, 1, 2, 0, 1, 0, 1];
    expect([...hammingKernelFromGram(gram, 3, 3)]).toEqual(K);
  });
});

describe("atomic metrics", () => {
  it("gives WOT = log det K_H (= log 12 by cofactor expansion) and D = log(12 / 27)", () => {
    const m = atomicMetrics(Float64Array.from(K), 3, 3);
    expect(m.wot).toBeCloseTo(Math.log(12), 13);
    expect(m.distinguishing).toBeCloseTo(Math.log(12 / 27), 13);
    expect(m.logActivationUnits).toBe(Math.log(3));
    expect(m.singular).toBe(false);
  });

  it("satisfies WOT = N log N_A + D to rounding, against an independent log det", () => {
    const n = 6;
    const units = 40;
    const rng = new Rng(7);
    const c = Array.from({ length: n }, () => Array.from({ length: units }, () => (rng.next() < 0.4 ? 1 : 0)));
    const k = hammingKernelFromCodes(c);
    const m = atomicMetrics(k, n, units);
    const direct = logDet(k, n).logAbsDet;
    expect(Math.abs(m.wot - direct)).toBeLessThan(1e-9);
    expect(Math.abs(m.wot - (n * Math.log(units) + m.distinguishing))).toBeLessThan(1e-12);
    expect(m.singular).toBe(false);
    expect(m.distinguishing).toBeLessThanOrEqual(0);
  });

  it("flags identical codes as singular with -Infinity, not NaN", () => {
    const m = atomicMetrics(hammingKernelFromCodes([[1, 0], [1, 0], [0, 1]]), 3, 2);
    expect(m.singular).toBe(true);
    expect(m.wot).toBe(-Infinity);
    expect(m.distinguishing).toBe(-Infinity);
  });
});

describe("DAS rules", () => {
  const m = { batchSize: 128, distinguishing: -100, logActivationUnits: 12 };
  it("reduces to WOT at alpha = 1", () => {
    expect(applyDasRule(WOT_RULE, m)).toBe(-100 + 128 * 12);
  });
  it("weights the atomic metrics by alpha and keeps singular at -Infinity", () => {
    expect(applyDasRule({ kind: "linear", alpha: 0.5 }, m)).toBe(-100 + 64 * 12);
    expect(applyDasRule({ kind: "linear", alpha: 0 }, m)).toBe(-100);
    expect(applyDasRule({ kind: "linear", alpha: 2 }, { ...m, distinguishing: -Infinity })).toBe(-Infinity);
  });
  it("ranks against a reference population with mid-rank CDFs", () => {
    expect(empiricalCdf([1, 2, 3, 4], 2)).toBe(0.375);
    expect(empiricalCdf([1, 2, 3, 4], 10)).toBe(1);
    expect(empiricalCdf([1, 2, 3, 4], -Infinity)).toBe(0);
    const rule = { kind: "rank" as const, weight: 0.25, reference: { distinguishing: [-300, -200, -100, 0], logActivationUnits: [10, 11, 12, 13] } };
    // F_A(12) = 2.5/4, F_D(-100) = 2.5/4
    expect(applyDasRule(rule, m)).toBeCloseTo(0.625, 15);
  });
});
