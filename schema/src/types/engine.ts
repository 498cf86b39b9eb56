import { DAS_PLUS_RULES, defaultDasRule, ENGINE_VERSION } from "@das/core";
import { builder } from "../builder.js";
import { API_LIMITS } from "../locate.js";
import { RuleSetting, SearchSpace, SPACE_NAMES, type SpaceValue } from "./enums.js";

interface RuleShape {
  readonly space: SpaceValue;
  readonly setting: "INIT" | "FAST_TRAINED";
  readonly rule: string;
  readonly parameters: unknown;
}

const DasRuleInForce = builder.objectRef<RuleShape>("DasRuleInForce").implement({
  description: "The DAS rule `Score.das` uses by default for a space: at initialisation, or after fast training.",
  fields: (t) => ({
    space: t.field({ type: SearchSpace, resolve: (r) => r.space }),
    setting: t.field({ type: RuleSetting, resolve: (r) => r.setting }),
    rule: t.exposeString("rule"),
    parameters: t.expose("parameters", { type: "JSON" }),
  }),
});

interface DasPlusRuleShape {
  readonly space: SpaceValue;
  readonly rule: string;
  readonly weights: unknown;
  readonly calibration: unknown;
}

const DasPlusRuleInForce = builder.objectRef<DasPlusRuleShape>("DasPlusRuleInForce").implement({
  description: "The DAS+ rule `Score.dasPlus` uses for a space (docs/proxies.md), and the protocol and dev target it was fitted at: it applies at that protocol only.",
  fields: (t) => ({
    space: t.field({ type: SearchSpace, resolve: (r) => r.space }),
    rule: t.exposeString("rule", { description: "rank-sum: sum_f w_f F_f(x_f), F_f the empirical CDF of feature f at the calibration." }),
    weights: t.expose("weights", { type: "JSON", description: "Per feature (wot, logActivationUnits, distinguishing, params, synflow); they sum to 1." }),
    calibration: t.expose("calibration", { type: "JSON", description: "{space, dataset, batchSize, target, n}." }),
  }),
});

interface ProxyShape {
  readonly name: string;
  readonly description: string;
}
const PROXIES: readonly ProxyShape[] = [
  { name: "activationUnits", description: "N_A: ReLU units active on at least one image of the batch" },
  { name: "distinguishing", description: "D: log-determinant part of the activation-pattern kernel (distinguishing ability)" },
  { name: "wot", description: "NASWOT: log det of the Hamming-agreement kernel, = D + N log N_A" },
  { name: "das", description: "DAS: D + alpha N log N_A under the rule in force (Score.das(rule:) for another)" },
  { name: "dasPlus", description: "DAS+: weighted rank CDFs of WOT, log N_A, D, params and synflow, fitted per space (Score.dasPlus; its protocol only: batch 128, CIFAR-10, at initialisation, no size overrides)" },
];

const Proxy = builder.objectRef<ProxyShape>("Proxy").implement({
  fields: (t) => ({ name: t.exposeString("name"), description: t.exposeString("description") }),
});

const Limits = builder.objectRef<typeof API_LIMITS>("Limits").implement({
  description: "Bounds on one request.",
  fields: (t) => ({
    lookupSpecs: t.exposeInt("lookupSpecs", { description: "Specs in one Query.scores." }),
    requestReads: t.exposeInt("requestReads", { description: "Distinct scores one request may look up, all fields and aliases together." }),
    batchSpecs: t.exposeInt("batchSpecs", { description: "Specs or models in one scoring mutation." }),
    specChars: t.exposeInt("specChars"),
    modelBytes: t.exposeInt("modelBytes", { description: "Bytes of one uploaded ONNX model." }),
    itemsPage: t.exposeInt("itemsPage", { description: "Largest page of Batch.items." }),
  }),
});

const Engine = builder.objectRef<{ version: string }>("Engine").implement({
  fields: (t) => ({
    version: t.exposeString("version", { description: "The engine version in every score key." }),
    spaces: t.field({ type: [SearchSpace], resolve: () => Object.keys(SPACE_NAMES) as SpaceValue[] }),
    proxies: t.field({ type: [Proxy], resolve: () => PROXIES }),
    rules: t.field({
      type: [DasRuleInForce],
      resolve: () =>
        (Object.keys(SPACE_NAMES) as SpaceValue[]).flatMap((space) =>
          (["INIT", "FAST_TRAINED"] as const).map((setting) => {
            const { kind, ...parameters } = defaultDasRule(SPACE_NAMES[space], setting === "INIT" ? "init" : "fast-trained");
            return { space, setting, rule: kind, parameters };
          }),
        ),
    }),
    dasPlusRules: t.field({
      type: [DasPlusRuleInForce],
      resolve: () =>
        (Object.keys(SPACE_NAMES) as SpaceValue[]).flatMap((space) => {
          const rule = Object.hasOwn(DAS_PLUS_RULES, SPACE_NAMES[space]) ? DAS_PLUS_RULES[SPACE_NAMES[space]] : undefined;
          return rule ? [{ space, rule: rule.kind, weights: rule.weights, calibration: rule.calibration }] : [];
        }),
    }),
    limits: t.field({ type: Limits, resolve: () => API_LIMITS }),
  }),
});

builder.queryField("engine", (t) => t.field({ type: Engine, resolve: () => ({ version: ENGINE_VERSION }) }));
