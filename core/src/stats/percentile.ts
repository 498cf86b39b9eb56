/**
 * Percentile ranks: where a value falls in a population, as the share of the population strictly
 * below it plus half the share equal to it, times 100 (the "mean rank" definition, so a value tied
 * with the whole population sits at 50 and ranks are symmetric under negation).
 */

/** The finite and infinite values of a population in ascending order (NaN dropped). */
export function sortedPopulation(values: Iterable<number>): Float64Array {
  const out = Float64Array.from([...values].filter((v) => !Number.isNaN(v)));
  return out.sort();
}

/** Index of the first element of `sorted` that is >= v (strict: > v). */
function bound(sorted: Float64Array, v: number, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? sorted[mid] <= v : sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * 100 * (below + ties / 2) / n over a population sorted by `sortedPopulation`; null when the
 * population is empty or the value is NaN. -Infinity (a singular kernel's log-determinant) ranks
 * below every finite value.
 *
 * @example percentileRank(sortedPopulation([1, 2, 2, 3]), 2) // 50: one below, two ties -> (1 + 1) / 4
 */
export function percentileRank(sorted: Float64Array, value: number): number | null {
  if (sorted.length === 0 || Number.isNaN(value)) return null;
  const below = bound(sorted, value, false);
  const ties = bound(sorted, value, true) - below;
  return (100 * (below + ties / 2)) / sorted.length;
}
