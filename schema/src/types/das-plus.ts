import { DAS_PLUS_RULES, dasPlusProxies, dasPlusUnavailable, dasPlusValue, type DasPlusValue as DasPlusShape } from "@das/core";
import { builder } from "../builder.js";
import type { LocatedScore } from "../context.js";

export const DasPlusValue = builder.objectRef<DasPlusShape>("DasPlusValue").implement({
  description: "DAS+ (docs/proxies.md): a weighted sum of rank CDFs over WOT, log N_A, D, params and synflow, fitted per space on the dev data.",
  fields: (t) => ({
    value: t.exposeFloat("value", { description: "In [0, 1]; higher ranks better." }),
    rule: t.exposeString("rule", { description: "rank-sum: sum_f w_f F_f(x_f), F_f the empirical CDF of feature f at the calibration." }),
    parameters: t.expose("parameters", { type: "JSON", description: "The weights and where the rule was calibrated." }),
  }),
});

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
/** JSON stores a singular kernel's -Infinity (wot, D) and an overflowed synflow's +Infinity as null. */
const stored = (v: unknown, ifNull: number): number | undefined => (v === null ? ifNull : num(v));

/**
 * DAS+ of a cached score, computed from its stored features by the space's rule in force (as
 * Score.das is), so every score in a listing is under one rule even if the rule is refitted; the
 * `dasPlus` a record may carry (`das serve` writes it) is not read. Null where no rule applies (any
 * protocol other than the calibration's, ONNX models) or the record lacks a feature the rule
 * weighs (an NB201 record scored without synflow).
 */
export function dasPlusOf(s: LocatedScore): DasPlusShape | null {
  if (dasPlusUnavailable(s.location.space, s.location.protocol)) return null;
  const r = s.record;
  const rule = DAS_PLUS_RULES[s.location.space];
  const proxies = (r.proxies ?? {}) as Record<string, unknown>;
  if (dasPlusProxies(rule).some((p) => stored(proxies[p], Infinity) === undefined)) return null;
  const features = {
    wot: stored(r.wot, -Infinity),
    logActivationUnits: num(r.logActivationUnits),
    distinguishing: stored(r.distinguishing, -Infinity),
    params: num(r.params),
    synflow: stored(proxies.synflow, Infinity),
  };
  if ([features.wot, features.logActivationUnits, features.distinguishing, features.params].includes(undefined)) return null;
  return dasPlusValue(rule, features);
}
