import { describe, expect, it } from "vitest";
import { percentileRank, sortedPopulation } from "./percentile.js";

describe("percentileRank", () => {
  const pop = sortedPopulation([5, 1, 3, 3, 9, NaN, -Infinity]);

  it("sorts ascending and drops NaN", () => {
    expect([...pop]).toEqual([-Infinity, 1, 3, 3, 5, 9]);
  });

  it("counts the values strictly below plus half the ties, over n = 6", () => {
    // 3: below -inf and 1 (2), ties 2 -> (2 + 1) / 6 = 50 %.
    expect(percentileRank(pop, 3)).toBe(50);
    // 4: below 4 values, no tie -> 4/6.
    expect(percentileRank(pop, 4)).toBeCloseTo((100 * 4) / 6, 12);
    // 9: below 5, one tie -> 5.5 / 6.
    expect(percentileRank(pop, 9)).toBeCloseTo((100 * 5.5) / 6, 12);
    // Above everything: 100; below everything: 0.
    expect(percentileRank(pop, 10)).toBe(100);
    expect(percentileRank(pop, -1e300)).toBeCloseTo((100 * 1) / 6, 12);
    // -Infinity itself: nothing below, one tie -> 0.5 / 6.
    expect(percentileRank(pop, -Infinity)).toBeCloseTo((100 * 0.5) / 6, 12);
    expect(percentileRank(pop, Infinity)).toBe(100);
  });

  it("puts a value tied with the whole population at 50, and is null for an empty population or NaN", () => {
    expect(percentileRank(sortedPopulation([2, 2, 2]), 2)).toBe(50);
    expect(percentileRank(sortedPopulation([]), 1)).toBeNull();
    expect(percentileRank(pop, NaN)).toBeNull();
    expect(percentileRank(sortedPopulation([7]), 7)).toBe(50);
  });
});
