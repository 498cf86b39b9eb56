import { WOT_RULE, type DasRule } from "./das-rules.js";

/**
 * Default DAS rule per search space, from `das calibrate` on the dev data in
 * shared/data only (docs/benchmarks.md has the commands and figures).
 * - nb201: linear alpha = 1 (= WOT) is the best rule on the 1,000 dev
 *   architectures (Kendall 0.590 on CIFAR-10); no other alpha or rank weight
 *   beats it, and the 2-fold fits (alpha 2.51, rank 0.45) do worse than WOT
 *   on their held-out halves, so WOT it stays.
 * Spaces without a calibration fall back to WOT.
 */
const DEFAULTS: Record<string, DasRule> = {
  nb201: { kind: "linear", alpha: 1 },
};

export function defaultDasRule(space: string): DasRule {
  return DEFAULTS[space] ?? WOT_RULE;
}
