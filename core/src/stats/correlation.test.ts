import { describe, expect, it } from "vitest";
import { averageRanks, kendallTauB, spearmanRho, topKOverlap } from "./correlation.js";

describe("rank statistics", () => {
  it("Kendall tau-b corrects for ties (scipy.stats.kendalltau's documented example)", () => {
    expect(kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])).toBeCloseTo(-0.47140452079103173, 14);
  });

  it("Kendall tau-b by hand: 4 concordant, 2 discordant of 6 pairs without ties", () => {
    // pairs of x = 1..4, y = [1, 3, 2, 4]: only (2,3) is discordant -> (5 - 1) / 6
    expect(kendallTauB([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 15);
  });

  it("treats -Infinity (singular kernels) as tied lowest values", () => {
    expect(kendallTauB([-Infinity, -Infinity, 1, 2], [0, 0, 1, 2])).toBeCloseTo(1, 15);
    expect(averageRanks([3, -Infinity, -Infinity, 1])).toEqual([4, 1.5, 1.5, 3]);
  });

  it("Spearman rho with ties (scipy.stats.spearmanr's documented example)", () => {
    expect(spearmanRho([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 14);
  });

  it("returns NaN for a constant variable and throws on NaN input", () => {
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearmanRho([1, NaN], [1, 2])).toThrow(/NaN/);
  });

  it("top-k overlap counts shared members of the two top-k sets", () => {
    expect(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2)).toBe(0);
    expect(topKOverlap([5, 4, 3, 2, 1], [9, 2, 8, 4, 5], 2)).toBe(0.5);
    expect(() => topKOverlap([1], [1], 2)).toThrow();
  });
});
