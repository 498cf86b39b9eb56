import { z } from "zod";
import { builder } from "../builder.js";
import type { SchemaContext } from "../context.js";
import { API_LIMITS, locateAll, type Lookup } from "../locate.js";
import { scoreLoader } from "../score-loader.js";
import { Dataset, DATASET_NAMES, SearchSpace, SPACE_NAMES } from "./enums.js";
import { protocolArgs, ProtocolInput } from "./protocol.js";
import { Score } from "./score.js";

const ScoreLookupInput = builder.inputType("ScoreLookupInput", {
  fields: (t) => ({
    space: t.field({ type: SearchSpace, required: true }),
    spec: t.string({ required: true }),
    dataset: t.field({ type: Dataset, defaultValue: "CIFAR10" }),
    protocol: t.field({ type: ProtocolInput }),
  }),
});

const ScoresLookupInput = builder.inputType("ScoresLookupInput", {
  fields: (t) => ({
    space: t.field({ type: SearchSpace, required: true }),
    specs: t.stringList({ required: true, validate: z.array(z.string()).min(1).max(API_LIMITS.lookupSpecs) }),
    dataset: t.field({ type: Dataset, defaultValue: "CIFAR10" }),
    protocol: t.field({ type: ProtocolInput }),
  }),
});

// Each loadable field dedupes its own keys and hands them to the request's one score loader, so a key
// asked for by both `score` and `scores` is read once (the two fields may resolve in separate batches).
const loaderOptions = { cacheKeyFn: (l: Lookup) => l.location.key };
const load = (lookups: Lookup[], ctx: SchemaContext) => scoreLoader(ctx).loadMany(lookups);

builder.queryFields((t) => ({
  score: t.loadable({
    type: Score,
    nullable: true,
    description: "The cached score of one architecture under a protocol, or null. A query never computes: use Mutation.scoreArchitectures.",
    args: { input: t.arg({ type: ScoreLookupInput, required: true }) },
    loaderOptions,
    load,
    resolve: async (_root, { input }) => (await locateAll(SPACE_NAMES[input.space], [input.spec], DATASET_NAMES[input.dataset ?? "CIFAR10"], protocolArgs(input.protocol)))[0],
  }),
  scores: t.loadable({
    type: [Score],
    nullable: { list: false, items: true },
    description: `Many cached scores in one request: same order as specs, null for misses (at most ${API_LIMITS.lookupSpecs} specs; reads are batched).`,
    args: { input: t.arg({ type: ScoresLookupInput, required: true }) },
    complexity: (args) => ({ field: 1, multiplier: Math.max(1, args.input.specs.length) }),
    loaderOptions,
    load,
    resolve: (_root, { input }) => locateAll(SPACE_NAMES[input.space], input.specs, DATASET_NAMES[input.dataset ?? "CIFAR10"], protocolArgs(input.protocol)),
  }),
}));
