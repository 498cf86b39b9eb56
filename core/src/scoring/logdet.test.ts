import { describe, expect, it } from "vitest";
import { logDet } from "./logdet.js";

const m = (rows: number[][]) => Float64Array.from(rows.flat());

describe("logDet", () => {
  it("takes Cholesky on a positive definite matrix: det [[4,2],[2,3]] = 8", () => {
    const r = logDet(m([[4, 2], [2, 3]]), 2);
    expect(r.method).toBe("cholesky");
    expect(r.logAbsDet).toBeCloseTo(Math.log(8), 14);
    expect(r.sign).toBe(1);
    expect(r.singular).toBe(false);
  });

  it("matches a hand-expanded 3x3 determinant", () => {
    // det = 2(2*2 - 1*1) - 1(1*2 - 1*0) + 0 = 6 - 2 = 4
    const r = logDet(m([[2, 1, 0], [1, 2, 1], [0, 1, 2]]), 3);
    expect(r.logAbsDet).toBeCloseTo(Math.log(4), 14);
  });

  it("falls back to pivoted LU for an indefinite matrix and reports the sign", () => {
    const r = logDet(m([[0, 1], [1, 0]]), 2);
    expect(r.method).toBe("lu");
    expect(r.sign).toBe(-1);
    expect(r.logAbsDet).toBeCloseTo(0, 14);
    const r3 = logDet(m([[1, 2, 3], [2, 1, 0], [3, 0, 1]]), 3); // det = 1(1) - 2(2) + 3(-3) = -12
    expect(r3.sign).toBe(-1);
    expect(r3.logAbsDet).toBeCloseTo(Math.log(12), 12);
  });

  it("reports a rank-deficient kernel as singular: -Infinity, never NaN", () => {
    const r = logDet(m([[3, 3, 1], [3, 3, 1], [1, 1, 3]]), 3);
    expect(r.singular).toBe(true);
    expect(r.logAbsDet).toBe(-Infinity);
    expect(r.sign).toBe(0);
  });

  it("keeps precision at kernel scale (entries ~1e6, near-duplicate rows)", () => {
    const big = 1e6;
    // [[a, a-1], [a-1, a]]: det = 2a - 1
    const r = logDet(m([[big, big - 1], [big - 1, big]]), 2);
    expect(r.singular).toBe(false);
    expect(r.logAbsDet).toBeCloseTo(Math.log(2 * big - 1), 8);
  });

  it("rejects NaN and wrong sizes", () => {
    expect(() => logDet(m([[1, NaN], [NaN, 1]]), 2)).toThrow(/NaN/);
    expect(() => logDet(new Float64Array(3), 2)).toThrow(RangeError);
  });
});
