/**
 * Percentiles: where a score falls among the cached scores of its space at the same protocol, so a
 * raw log-determinant reads as "better than 83 % of NB201". On every Score, and for a value
 * computed elsewhere (the dashboard scores a user's ONNX model in the browser; no bytes reach us).
 */
import { z } from "zod";
import { metricOf, percentileIn, prefixOfKey, resolveApiProtocol, type PERCENTILE_POPULATIONS, type PercentileShape, type SCORE_METRICS } from "../benchmarks.js";
import { builder } from "../builder.js";
import { API_LIMITS } from "../locate.js";
import { Dataset, DATASET_NAMES, SearchSpace, SPACE_NAMES } from "./enums.js";
import { protocolArgs, ProtocolInput } from "./protocol.js";
import { Score } from "./score.js";

const POPULATION_NOTE = `At most ${API_LIMITS.populationRecords} cached records are read per population (the first by architecture id, a uniform sample when more are cached).`;

export const PercentilePopulation = builder.enumType("PercentilePopulation", {
  description: `Which cached scores a percentile is taken over. ${POPULATION_NOTE}`,
  values: {
    CACHED: { description: "every cached score of the same space at the same protocol" },
    SPACE_SAMPLE: { description: "the cached scores of the space's benchmark sample (the architectures in its loaded truth) at the same protocol" },
  } satisfies Record<(typeof PERCENTILE_POPULATIONS)[number], unknown>,
});

export const ScoreMetric = builder.enumType("ScoreMetric", {
  description: "A metric of a score, as the Score fields give it.",
  values: {
    WOT: { description: "Score.wot (singular kernels rank lowest)" },
    DAS: { description: "Score.das under the rule in force (singular kernels rank lowest under linear rules)" },
    ACTIVATION_UNITS: { description: "Score.activationUnits: N_A" },
    DISTINGUISHING: { description: "Score.distinguishing: D (singular kernels rank lowest)" },
    PARAMS: { description: "Score.params" },
    FLOPS: { description: "Score.flops" },
  } satisfies Record<(typeof SCORE_METRICS)[number], unknown>,
});

const PERCENTILE_RULE = "100 * (scores strictly below + half the ties) / population size";
/** Sorting a population of a few thousand values once per request; the reads are the cost. */
const PERCENTILE_COMPLEXITY = 2;

builder.objectField(Score, "percentile", (t) =>
  t.float({
    nullable: true,
    description: `This score's percentile (0..100: ${PERCENTILE_RULE}) in a population at the same protocol; null when the population is empty or this score's metric is null. ${POPULATION_NOTE}`,
    args: {
      population: t.arg({ type: PercentilePopulation, defaultValue: "CACHED" }),
      metric: t.arg({ type: ScoreMetric, defaultValue: "DAS" }),
    },
    complexity: PERCENTILE_COMPLEXITY,
    resolve: async (s, args, ctx) => {
      const value = metricOf(s.location.space, s.record, args.metric ?? "DAS");
      const shown = value === null || !Number.isFinite(value) ? null : value;
      return (await percentileIn(ctx, s.location.space, prefixOfKey(s.location.key), args.population ?? "CACHED", args.metric ?? "DAS", shown)).percentile;
    },
  }),
);

const PercentileResult = builder.objectRef<PercentileShape>("PercentileResult").implement({
  fields: (t) => ({
    percentile: t.exposeFloat("percentile", { nullable: true, description: `0..100: ${PERCENTILE_RULE}; null when the population is empty.` }),
    populationSize: t.exposeInt("populationSize", { description: "Cached scores in the population that have the metric." }),
  }),
});

builder.queryFields((t) => ({
  scorePercentile: t.field({
    type: PercentileResult,
    description: `Where a metric value computed elsewhere (e.g. a model scored in the browser) falls among the cached scores of a space at a protocol. ${POPULATION_NOTE}`,
    args: {
      space: t.arg({ type: SearchSpace, required: true }),
      dataset: t.arg({ type: Dataset, defaultValue: "CIFAR10" }),
      protocol: t.arg({ type: ProtocolInput }),
      metric: t.arg({ type: ScoreMetric, required: true }),
      value: t.arg.float({ required: true, validate: z.number().finite() }),
      population: t.arg({ type: PercentilePopulation, defaultValue: "CACHED" }),
    },
    complexity: 5,
    resolve: async (_root, args, ctx) => {
      const space = SPACE_NAMES[args.space];
      const { prefix } = await resolveApiProtocol(space, DATASET_NAMES[args.dataset ?? "CIFAR10"], protocolArgs(args.protocol));
      return percentileIn(ctx, space, prefix, args.population ?? "CACHED", args.metric, args.value);
    },
  }),
}));
