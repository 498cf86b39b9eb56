import { parseArgs } from "node:util";
import { calibrateDasRule, describeRule, getSpace, kendallTauB, applyDasRule, type AtomicPair, type Calibration } from "@das/core";
import { requireFlag } from "../options.js";
import { scoresAtStep, scoreTruth, TRUTH_FLAGS } from "../truth-scores.js";
import { calibrateDasPlusReport, printDasPlusReport } from "./calibrate-das-plus.js";

export const CALIBRATE_USAGE = `das calibrate --space nb201 --truth FILE.csv --target COLUMN [--limit N] [--scores-in FILE.jsonl]
         [--fast-train K [--at-step S]] [--das-plus --proxies synflow] [--json]
  Fits the DAS combination rule (maximum Kendall tau over the rule family) on dev data and
  prints it, with a 2-fold check: fit on one half, Kendall tau on the other. With --das-plus,
  fits DAS+ (a weighted sum of rank CDFs of wot, log N_A, D, params and synflow) the same way
  and judges it out of fold against every single proxy the scores carry.`;

interface FoldResult {
  readonly fit: string;
  readonly heldOutDas: number;
  readonly heldOutWot: number;
}

/** Fit on even rows, test on odd rows, and the other way round: how well the rule generalises. */
function twoFold(metrics: readonly AtomicPair[], truth: readonly number[]): FoldResult[] {
  const half = (parity: number) => metrics.map((_, i) => i).filter((i) => i % 2 === parity);
  return [0, 1].map((parity) => {
    const fitIdx = half(parity);
    const testIdx = half(1 - parity);
    const fit = calibrateDasRule(fitIdx.map((i) => metrics[i]), fitIdx.map((i) => truth[i]));
    const testTruth = testIdx.map((i) => truth[i]);
    return {
      fit: describeRule(fit.rule),
      heldOutDas: kendallTauB(testIdx.map((i) => applyDasRule(fit.rule, metrics[i])), testTruth),
      heldOutWot: kendallTauB(testIdx.map((i) => applyDasRule({ kind: "linear", alpha: 1 }, metrics[i])), testTruth),
    };
  });
}

export async function calibrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...TRUTH_FLAGS, "das-plus": { type: "boolean", default: false } }, strict: true });
  const space = getSpace(requireFlag("space", values.space));
  // DAS+ weighs synflow: score it unless the flags already ask for it.
  if (values["das-plus"] && !/\b(synflow|all)\b/.test(values.proxies ?? "")) values.proxies = [values.proxies, "synflow"].filter(Boolean).join(",");
  const scored = await scoreTruth(space, values, "calibrate");
  const { target, truth } = scored;
  const scores = scoresAtStep(scored.scores, values["at-step"]);
  if (values["das-plus"]) {
    const report = calibrateDasPlusReport(scores, truth, space.name, target);
    if (values.json) process.stdout.write(JSON.stringify({ space: space.name, n: scores.length, target, ...report }) + "\n");
    else printDasPlusReport(report, (s) => process.stdout.write(s + "\n"));
    return 0;
  }
  const metrics: AtomicPair[] = scores;
  const fit: Calibration = calibrateDasRule(metrics, truth);
  const folds = twoFold(metrics, truth);
  const report = { space: space.name, n: fit.n, target, rule: fit.rule, kendall: fit.kendall, wotKendall: fit.wotKendall, folds };
  if (values.json) process.stdout.write(JSON.stringify(report) + "\n");
  else {
    process.stdout.write(`${space.name} (${fit.n} architectures, target ${target}): best ${describeRule(fit.rule)}\n`);
    process.stdout.write(`  Kendall tau: DAS ${fit.kendall.toFixed(4)}  WOT ${fit.wotKendall.toFixed(4)}  (ratio ${(fit.kendall / fit.wotKendall).toFixed(3)})\n`);
    for (const f of folds) {
      process.stdout.write(`  2-fold: fit ${f.fit}; held-out Kendall DAS ${f.heldOutDas.toFixed(4)} vs WOT ${f.heldOutWot.toFixed(4)}\n`);
    }
    process.stdout.write(`rule: ${JSON.stringify(fit.rule)}\n`);
  }
  return 0;
}
