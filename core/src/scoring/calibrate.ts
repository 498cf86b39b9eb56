import { kendallTauB } from "../stats/correlation.js";
import { applyDasRule, quantiles, type AtomicPair, type DasRule } from "./das-rules.js";

export interface Calibration {
  readonly rule: DasRule;
  /** Kendall tau-b of the chosen rule on the calibration data. */
  readonly kendall: number;
  /** Kendall tau-b of WOT (linear, alpha = 1) on the same data, for comparison. */
  readonly wotKendall: number;
  readonly n: number;
}

/** alpha grid for the linear rule: 0 (D alone), a log-spaced sweep around 1 (WOT), and large values (N_A dominates). */
export const LINEAR_ALPHA_GRID: readonly number[] = [
  0,
  ...Array.from({ length: 41 }, (_, i) => Number((10 ** (-2 + (i * 4) / 40)).toPrecision(3))),
];
/**
 * Rank weights strictly inside (0, 1): at 0 or 1 the rule ranks by one metric alone, and for a
 * discrete metric like N_A (many architectures share it) Kendall tau-b then rewards the ties.
 */
export const RANK_WEIGHT_GRID: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

/**
 * Fits a DAS rule on (metrics, target) pairs by maximising Kendall tau-b over
 * the rule family's grids. Use dev data only: never the data you report on.
 */
export function calibrateDasRule(metrics: readonly AtomicPair[], target: readonly number[]): Calibration {
  const tauOf = (rule: DasRule) => kendallTauB(metrics.map((m) => applyDasRule(rule, m)), [...target]);
  const candidates: DasRule[] = LINEAR_ALPHA_GRID.map((alpha) => ({ kind: "linear", alpha }));
  const reference = {
    distinguishing: quantiles(metrics.map((m) => m.distinguishing)),
    logActivationUnits: quantiles(metrics.map((m) => m.logActivationUnits)),
  };
  for (const weight of RANK_WEIGHT_GRID) candidates.push({ kind: "rank", weight, reference });
  let best: DasRule = { kind: "linear", alpha: 1 };
  let bestTau = tauOf(best);
  const wotKendall = bestTau;
  for (const rule of candidates) {
    const tau = tauOf(rule);
    if (tau > bestTau + 1e-12) {
      best = rule;
      bestTau = tau;
    }
  }
  return { rule: best, kendall: bestTau, wotKendall, n: metrics.length };
}
