/**
 * The DAS+ rule of each search space, and when it applies. The rules themselves are fitted on the
 * dev data of ../shared/data only (`npm run das-plus:calibrate` writes das-plus-rules.ts; the
 * figures and their 2-fold checks are in docs/proxies.md).
 */
import { DasError } from "../errors.js";
import type { ScoringProtocol } from "../protocol/scoring-protocol.js";
import type { DasPlusRule } from "./das-plus.js";
import { DAS_PLUS_RULES } from "./das-plus-rules.js";

/**
 * Why DAS+ cannot be computed for this space and protocol, or undefined when it can. A rule's
 * reference quantiles hold for the protocol it was fitted at: log-determinants grow with the batch,
 * a width override rescales everything, training moves every metric.
 */
export function dasPlusUnavailable(space: string, protocol: ScoringProtocol): string | undefined {
  const rule = Object.hasOwn(DAS_PLUS_RULES, space) ? DAS_PLUS_RULES[space] : undefined;
  if (!rule) return `DAS+ has no calibration for space ${space} (calibrated: ${Object.keys(DAS_PLUS_RULES).join(", ")})`;
  const c = rule.calibration;
  if (protocol.batchSize !== c.batchSize) return `DAS+ for ${space} is calibrated at batch ${c.batchSize}, not ${protocol.batchSize}`;
  if (protocol.dataset !== c.dataset) return `DAS+ for ${space} is calibrated on ${c.dataset}, not ${protocol.dataset}`;
  if (Object.keys(protocol.overrides).length) return `DAS+ for ${space} is calibrated on the space's own network size, not with overrides`;
  if (protocol.fastTrain?.steps) return `DAS+ is calibrated at initialisation, not after fast training`;
  return undefined;
}

/** The space's DAS+ rule for a protocol; INVALID_ARGUMENT (field proxies) where there is none. */
export function defaultDasPlusRule(space: string, protocol: ScoringProtocol): DasPlusRule {
  const why = dasPlusUnavailable(space, protocol);
  if (why) throw new DasError("INVALID_ARGUMENT", why, { field: "proxies" });
  return DAS_PLUS_RULES[space];
}
