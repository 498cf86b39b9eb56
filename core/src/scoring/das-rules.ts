import { DasError } from "../errors.js";

/** What a combination rule sees of one network. */
export interface AtomicPair {
  readonly batchSize: number;
  readonly distinguishing: number;
  readonly logActivationUnits: number;
}

/**
 * The DAS combination rules. The paper's exact rule is not public, so the
 * engine offers a small family and records the rule in every score:
 * - `linear`: D + alpha * N * log N_A. alpha = 1 is WOT exactly; alpha
 *   scales with N so one alpha serves every batch size.
 * - `rank`: w * F_A(log N_A) + (1 - w) * F_D(D), with F the empirical CDFs of a
 *   reference population (stored in the rule), so it needs no common scale.
 */
export type DasRule =
  | { readonly kind: "linear"; readonly alpha: number }
  | {
      readonly kind: "rank";
      readonly weight: number;
      /** Sorted reference values (quantiles) of D and log N_A. */
      readonly reference: { readonly distinguishing: readonly number[]; readonly logActivationUnits: readonly number[] };
    };

export const WOT_RULE: DasRule = { kind: "linear", alpha: 1 };

export function applyDasRule(rule: DasRule, m: AtomicPair): number {
  switch (rule.kind) {
    case "linear":
      // D is -Infinity for singular kernels; the sum stays -Infinity, never NaN.
      return rule.alpha === 0 ? m.distinguishing : m.distinguishing + rule.alpha * m.batchSize * m.logActivationUnits;
    case "rank":
      return (
        rule.weight * empiricalCdf(rule.reference.logActivationUnits, m.logActivationUnits) +
        (1 - rule.weight) * empiricalCdf(rule.reference.distinguishing, m.distinguishing)
      );
    default:
      throw new DasError("INVALID_ARGUMENT", `unknown DAS rule ${JSON.stringify(rule)}`);
  }
}

/** Fraction of the sorted reference strictly below x plus half of the ties (mid-rank CDF). */
export function empiricalCdf(sorted: readonly number[], x: number): number {
  if (sorted.length === 0) return 0.5;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  let upper = lo;
  while (upper < sorted.length && sorted[upper] === x) upper++;
  return (lo + (upper - lo) / 2) / sorted.length;
}

/** Up to `count` evenly spaced order statistics of `values` (finite or -Infinity), sorted. */
export function quantiles(values: readonly number[], count = 101): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length <= count) return sorted;
  return Array.from({ length: count }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (count - 1))]);
}

export function describeRule(rule: DasRule): string {
  return rule.kind === "linear" ? `linear(alpha=${rule.alpha})` : `rank(weight=${rule.weight})`;
}
