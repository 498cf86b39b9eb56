import { WOT_RULE, type DasRule } from "./das-rules.js";

/**
 * Default DAS rule per search space, from `das calibrate` on the dev data in
 * shared/data only (docs/benchmarks.md has the commands and figures).
 * - nb201: linear alpha = 1 (= WOT) is the best rule on the 1,000 dev
 *   architectures (Kendall 0.590 on CIFAR-10); no other alpha or rank weight
 *   beats it, and the 2-fold fits (alpha 2.51, rank 0.45) do worse than WOT
 *   on their held-out halves, so WOT it stays.
 * - darts: linear alpha = 0.1 on the 250 NB301 dev genotypes (Kendall 0.466
 *   vs WOT 0.433, 1.08x); 2-fold fits (alpha 0.25, 0.2) beat WOT on their
 *   held-out halves too (0.473 vs 0.434, 0.448 vs 0.427).
 * - nb101: linear alpha = 0.126 on the 250 NB101 dev cells (Kendall 0.300 vs
 *   WOT 0.270, 1.11x); held out, the 2-fold fits give 0.371 vs 0.368 (alpha
 *   0.126) and 0.198 vs 0.179 (rank, weight 1): ahead of WOT, by less.
 * Spaces without a calibration (onnx: user models share no population) fall back to WOT.
 */
const DEFAULTS: Record<string, DasRule> = {
  nb201: { kind: "linear", alpha: 1 },
  darts: { kind: "linear", alpha: 0.1 },
  nb101: { kind: "linear", alpha: 0.126 },
};

export function defaultDasRule(space: string): DasRule {
  return Object.hasOwn(DEFAULTS, space) ? DEFAULTS[space] : WOT_RULE;
}
