import {
  applyDasPlusRule,
  calibrateDasPlus,
  dasPlusFeatures,
  describeDasPlusRule,
  kendallTauB,
  DAS_PLUS_FEATURES,
  type ArchitectureScore,
  type DasPlusFeature,
  type DasPlusRule,
} from "@das/core";
import { proxyGetters } from "./eval.js";

/** One half of a 2-fold check: the rule fitted on the other half, and Kendall tau-b here of it and of every single proxy. */
export interface DasPlusFold {
  readonly fit: string;
  readonly heldOut: number;
  readonly singles: Readonly<Record<string, number>>;
}

export interface DasPlusReport {
  readonly rule: DasPlusRule;
  /** Kendall tau-b of the rule on every row it was fitted on (optimistic). */
  readonly kendall: number;
  readonly folds: readonly DasPlusFold[];
  /** Mean over the two held-out halves: DAS+, and the best single proxy judged on those same halves. */
  readonly outOfFold: { readonly dasPlus: number; readonly bestSingle: { readonly name: string; readonly kendall: number } };
}

/**
 * Fits DAS+ on scored dev rows (they must carry synflow: --proxies synflow or das_plus) and
 * checks it 2-fold as `das calibrate` does DAS: fit on even rows, Kendall on odd rows, and back.
 * The single proxies are every column the scores carry, so DAS+ is judged against all of them.
 */
export function calibrateDasPlusReport(scores: readonly ArchitectureScore[], truth: readonly number[], space: string, target: string): DasPlusReport {
  const features = scores.map((s) => dasPlusFeatures(s));
  const usable: DasPlusFeature[] = DAS_PLUS_FEATURES.filter((f) => features.every((x) => x[f] !== undefined));
  const where = { space, dataset: scores[0]?.dataset ?? "cifar10", batchSize: scores[0]?.batchSize ?? 0, target };
  const full = calibrateDasPlus(features, truth, where, usable);
  const singles = proxyGetters(scores).filter(([name]) => name !== "das_plus");
  const half = (parity: number) => scores.map((_, i) => i).filter((i) => i % 2 === parity);
  const folds = [0, 1].map((parity): DasPlusFold => {
    const fitIdx = half(parity);
    const testIdx = half(1 - parity);
    const fit = calibrateDasPlus(fitIdx.map((i) => features[i]), fitIdx.map((i) => truth[i]), where, usable);
    const testTruth = testIdx.map((i) => truth[i]);
    return {
      fit: describeDasPlusRule(fit.rule),
      heldOut: kendallTauB(testIdx.map((i) => applyDasPlusRule(fit.rule, features[i])), testTruth),
      singles: Object.fromEntries(singles.map(([name, get]) => [name, kendallTauB(testIdx.map((i) => get(scores[i])), testTruth)])),
    };
  });
  const mean = (f: (x: DasPlusFold) => number) => (f(folds[0]) + f(folds[1])) / 2;
  const bestSingle = singles
    .map(([name]) => ({ name, kendall: mean((f) => f.singles[name]) }))
    .filter((s) => !Number.isNaN(s.kendall))
    .reduce((a, b) => (b.kendall > a.kendall ? b : a), { name: "none", kendall: -Infinity });
  return { rule: full.rule, kendall: full.kendall, folds, outOfFold: { dasPlus: mean((f) => f.heldOut), bestSingle } };
}

export function printDasPlusReport(r: DasPlusReport, w: (s: string) => void): void {
  const f = (x: number) => x.toFixed(4);
  w(`DAS+ ${describeDasPlusRule(r.rule)}: Kendall ${f(r.kendall)} on all ${r.rule.calibration.n} rows (in sample)`);
  for (const fold of r.folds) {
    const best = Object.entries(fold.singles).reduce((a, b) => (b[1] > a[1] ? b : a));
    w(`  2-fold: fit ${fold.fit}; held-out Kendall DAS+ ${f(fold.heldOut)}, best single ${best[0]} ${f(best[1])}, das ${f(fold.singles.das)}`);
  }
  w(`  out of fold (mean of the halves): DAS+ ${f(r.outOfFold.dasPlus)}, best single proxy ${r.outOfFold.bestSingle.name} ${f(r.outOfFold.bestSingle.kendall)}`);
}
