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

export function defaultDasRule(space: string): DasRule {
  return Object.hasOwn(DEFAULTS, space) ? DEFAULTS[space] : WOT_RULE;
}
