import { WOT_RULE, type DasRule } from "./das-rules.js";

/**
 * Default DAS rule per search space, from `das calibrate` on the dev data in
 * shared/data only (docs/benchmarks.md has the commands and figures).
 * - nb201: linear alpha = 1 (= WOT) is the best rule on the 1,000 dev
 *   architectures (Kendall 0.590 on CIFAR-10); no other alpha or rank weight
 *   beats it, and the 2-fold fits (alpha 2.51, rank 0.45) do worse than WOT
 *   on their held-out halves, so WOT it stays.
 * - darts: linear alpha = 0.158 on the 250 NB301 dev genotypes (Kendall 0.468
 *   vs WOT 0.434, 1.08x); the 2-fold fits (alpha 0.1, 0.251) beat WOT on
 *   their held-out halves too (0.471 vs 0.438, 0.449 vs 0.427).
 * - nb101: linear alpha = 0.158 on the 250 NB101 dev cells (Kendall 0.296 vs
 *   WOT 0.270, 1.10x in sample). Held out it is not robust: the 2-fold fits
 *   give 0.357 vs 0.369 (alpha 0.1, worse than WOT) and 0.183 vs 0.179
 *   (rank, weight 0.8).
 * Spaces without a calibration (onnx: user models share no population) fall back to WOT.
 */
const DEFAULTS: Record<string, DasRule> = {
  nb201: { kind: "linear", alpha: 1 },
  darts: { kind: "linear", alpha: 0.158 },
  nb101: { kind: "linear", alpha: 0.158 },
};

/**
 * After fast training (`--fast-train`), recalibrated on the fast-trained dev
 * scores (`das calibrate --fast-train K --at-step K`, scripts/fast-train-eval.sh;
 * protocol: SGD lr 0.05 constant, momentum 0.9, weight decay 5e-4, batch 32).
 * Training makes D less informative, and the fitted rules weight N_A more.
 * - nb201 (200 dev architectures, 50 steps): alpha 3.16, Kendall 0.579 vs
 *   WOT 0.556 after the same training; 2-fold held out 0.582 vs 0.573 and
 *   0.565 vs 0.546. Both stay below WOT at initialisation (0.631).
 * - nb101 (100 dev cells, CPU-sized network, 50 steps): the fit (alpha 0.631,
 *   0.293 vs WOT 0.274) loses to WOT in three of four held-out folds: WOT.
 * - darts (60 dev genotypes, CPU-sized network, 10 steps): the best rule is
 *   WOT itself (0.456); the 5-step fit does not hold out: WOT.
 */
const FAST_TRAINED: Record<string, DasRule> = {
  nb201: { kind: "linear", alpha: 3.16 },
  nb101: WOT_RULE,
  darts: WOT_RULE,
};

/** The default rule of a space, for scores at initialisation or after fast training. */
export function defaultDasRule(space: string, setting: "init" | "fast-trained" = "init"): DasRule {
  const table = setting === "fast-trained" ? FAST_TRAINED : DEFAULTS;
  return Object.hasOwn(table, space) ? table[space] : WOT_RULE;
}
