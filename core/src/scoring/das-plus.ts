/**
 * DAS+: DAS's atomic metrics recombined with the cheap structural and gradient proxies. The rule
 * family is a weighted sum of mid-rank CDFs, DAS+ = sum_f w_f F_f(x_f), each F_f the empirical
 * CDF of feature f over a reference population (stored with the rule), the weights on a simplex
 * grid. Ranks need no common scale, so log-determinants, parameter counts and synflow's 1e40s
 * mix without standardising, and a monotone transform of a feature (log params) changes nothing.
 * DAS (activation only, the paper's score) stays as it is; DAS+ is a separate, recorded score.
 */
import { DasError } from "../errors.js";
import { kendallTauB } from "../stats/correlation.js";
import { quantiles } from "./das-rules.js";

/**
 * The features a DAS+ rule may weigh: WOT (not the space's DAS, whose alpha was fitted on all dev
 * rows and would leak into a held-out check), the two atomic metrics, the parameter count and
 * synflow. FLOPs are left out: they rank like the parameter count in every space here.
 */
/** DAS+'s name where proxies are listed (`--proxies das_plus`, `das eval`). */
export const DAS_PLUS = "das_plus";

export const DAS_PLUS_FEATURES = ["wot", "logActivationUnits", "distinguishing", "params", "synflow"] as const;
export type DasPlusFeature = (typeof DAS_PLUS_FEATURES)[number];

/** Gradient proxies (core/src/proxies) a feature needs computed; the others are in every score. */
const FEATURE_PROXY: Partial<Record<DasPlusFeature, string>> = { synflow: "synflow" };

export type DasPlusFeatures = Readonly<Record<DasPlusFeature, number | undefined>>;

export interface DasPlusRule {
  readonly kind: "rank-sum";
  /** Weights summing to 1; features with weight 0 are left out. */
  readonly weights: Readonly<Partial<Record<DasPlusFeature, number>>>;
  /** Sorted reference values (quantiles) of each weighted feature. */
  readonly reference: Readonly<Partial<Record<DasPlusFeature, readonly number[]>>>;
  /** Where the rule was fitted: the scores' protocol and the dev target. */
  readonly calibration: { readonly space: string; readonly dataset: string; readonly batchSize: number; readonly target: string; readonly n: number };
}

/** A score's features. Singular kernels carry wot and D as -Infinity; an overflowed synflow is +Infinity. */
export function dasPlusFeatures(s: {
  readonly wot: number;
  readonly logActivationUnits: number;
  readonly distinguishing: number;
  readonly params: number;
  readonly proxies?: Readonly<Record<string, number>>;
}): DasPlusFeatures {
  return { wot: s.wot, logActivationUnits: s.logActivationUnits, distinguishing: s.distinguishing, params: s.params, synflow: s.proxies?.synflow };
}

/** The gradient proxies a rule needs beside the activation scores. */
export function dasPlusProxies(rule: DasPlusRule): string[] {
  return weighted(rule).flatMap(([f]) => (FEATURE_PROXY[f] ? [FEATURE_PROXY[f]] : []));
}

const weighted = (rule: DasPlusRule) =>
  (Object.entries(rule.weights) as [DasPlusFeature, number][]).filter(([, w]) => w > 0);

export function applyDasPlusRule(rule: DasPlusRule, x: DasPlusFeatures): number {
  let sum = 0;
  for (const [f, w] of weighted(rule)) {
    const v = x[f];
    const ref = rule.reference[f];
    if (v === undefined || Number.isNaN(v)) throw new DasError("INVALID_ARGUMENT", `DAS+ needs ${f}, which this score does not have`, { field: f });
    if (!ref) throw new DasError("INVALID_ARGUMENT", `DAS+ rule has no reference for ${f}`);
    sum += w * interpolatedCdf(ref, v);
  }
  return sum;
}

/**
 * Where x falls among sorted reference quantiles, in [0, 1]: linear between neighbouring
 * quantiles, so values between two stored quantiles still rank apart (a step CDF over 101
 * quantiles would tie them); a value equal to a run of quantiles gets the run's midpoint, and one
 * beside an infinite quantile (an overflowed synflow, a singular kernel) the gap's midpoint.
 */
export function interpolatedCdf(sorted: readonly number[], x: number): number {
  const n = sorted.length;
  if (n < 2) return 0.5;
  const lo = firstIndex(sorted, (v) => v >= x);
  const hi = firstIndex(sorted, (v) => v > x);
  if (lo < hi) return (lo + hi - 1) / 2 / (n - 1);
  if (lo === 0) return 0;
  if (lo === n) return 1;
  const a = sorted[lo - 1];
  const b = sorted[lo];
  const t = Number.isFinite(a) && Number.isFinite(b) ? (x - a) / (b - a) : 0.5;
  return (lo - 1 + t) / (n - 1);
}

/** First index where the (monotone) predicate holds, by bisection; n if none. */
function firstIndex(sorted: readonly number[], pred: (v: number) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(sorted[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** DAS+ as a score records it: the value, the rule's kind and its parameters (weights, where it was fitted). */
export interface DasPlusValue {
  readonly value: number;
  readonly rule: DasPlusRule["kind"];
  readonly parameters: { readonly weights: DasPlusRule["weights"]; readonly calibration: DasPlusRule["calibration"] };
}

export function dasPlusValue(rule: DasPlusRule, x: DasPlusFeatures): DasPlusValue {
  return { value: applyDasPlusRule(rule, x), rule: rule.kind, parameters: { weights: rule.weights, calibration: rule.calibration } };
}

/** Every weight vector over `count` features with entries in multiples of 1/steps summing to 1. */
export function simplexGrid(count: number, steps: number): number[][] {
  const out: number[][] = [];
  const walk = (prefix: number[], left: number) => {
    if (prefix.length === count - 1) {
      out.push([...prefix, left].map((k) => k / steps));
      return;
    }
    for (let k = 0; k <= left; k++) walk([...prefix, k], left - k);
  };
  walk([], steps);
  return out;
}

/** Grid resolution of the weights: tenths (1001 weight vectors over five features). */
export const DAS_PLUS_GRID_STEPS = 10;

export interface DasPlusCalibration {
  readonly rule: DasPlusRule;
  /** Kendall tau-b of the rule on the calibration rows. */
  readonly kendall: number;
}

/**
 * Fits a DAS+ rule on dev rows by maximising Kendall tau-b over the weight grid. Every row must
 * have every feature in `features`. Ties between weight vectors go to the first in grid order.
 */
export function calibrateDasPlus(
  rows: readonly DasPlusFeatures[],
  target: readonly number[],
  calibration: Omit<DasPlusRule["calibration"], "n">,
  features: readonly DasPlusFeature[] = DAS_PLUS_FEATURES,
): DasPlusCalibration {
  const values = features.map((f) =>
    rows.map((r, i) => {
      const v = r[f];
      if (v === undefined || Number.isNaN(v)) throw new DasError("INVALID_ARGUMENT", `calibration row ${i} has no ${f}`, { field: f });
      return v;
    }),
  );
  const reference = values.map((v) => quantiles(v));
  // Each row's CDF value per feature, computed once; a weight vector is then a dot product.
  const cdf = values.map((v, k) => v.map((x) => interpolatedCdf(reference[k], x)));
  let best: { weights: number[]; kendall: number } | undefined;
  for (const weights of simplexGrid(features.length, DAS_PLUS_GRID_STEPS)) {
    const score = rows.map((_, i) => weights.reduce((s, w, k) => s + w * cdf[k][i], 0));
    const kendall = kendallTauB(score, target);
    if (!best || kendall > best.kendall + 1e-12) best = { weights, kendall };
  }
  const chosen = best!;
  const keep = features.flatMap((f, k) => (chosen.weights[k] > 0 ? [[f, k] as const] : []));
  return {
    rule: {
      kind: "rank-sum",
      weights: Object.fromEntries(keep.map(([f, k]) => [f, chosen.weights[k]])),
      reference: Object.fromEntries(keep.map(([f, k]) => [f, reference[k]])),
      calibration: { ...calibration, n: rows.length },
    },
    kendall: chosen.kendall,
  };
}

export function describeDasPlusRule(rule: DasPlusRule): string {
  return `rank-sum(${weighted(rule).map(([f, w]) => `${f} ${w}`).join(", ")})`;
}
