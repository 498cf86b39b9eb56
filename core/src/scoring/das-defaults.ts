import { WOT_RULE, type DasRule } from "./das-rules.js";

/**
 * Default DAS rule per search space, from `das calibrate` on the dev data in
 * shared/data (see docs/benchmarks.md for the command and figures). Spaces
 * without a calibration fall back to WOT (linear, alpha = 1).
 */
const DEFAULTS: Record<string, DasRule> = {};

export function defaultDasRule(space: string): DasRule {
  return DEFAULTS[space] ?? WOT_RULE;
}
