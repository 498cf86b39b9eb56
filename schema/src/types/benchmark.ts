/**
 * Benchmark ground truth in the API: the targets loaded by `das truth push`, and the architectures
 * of one target that have a cached score at a protocol, as points (accuracy, score) for scatter
 * plots and rank correlations. A page lists the protocol's scores once and reads only its own records.
 */
import { ENGINE_VERSION, scoreKey, type ScoreLocation, type TruthRow } from "@das/core";
import { z } from "zod";
import { resolveApiProtocol, scoredArchIds, truthTables } from "../benchmarks.js";
import { builder } from "../builder.js";
import type { LocatedScore } from "../context.js";
import { apiError } from "../errors.js";
import { API_LIMITS } from "../locate.js";
import { scoreLoader } from "../score-loader.js";
import { SearchSpace, SPACE_NAMES, spaceValue } from "./enums.js";
import { protocolArgs, ProtocolInput } from "./protocol.js";
import { Architecture, Score } from "./score.js";

interface TargetShape {
  readonly space: string;
  readonly target: string;
  readonly count: number;
}

const BenchmarkTarget = builder.objectRef<TargetShape>("BenchmarkTarget").implement({
  description: "One column of a benchmark's ground truth loaded into S3 (truth/{space}/{target}.json).",
  fields: (t) => ({
    space: t.field({ type: SearchSpace, resolve: (x) => spaceValue(x.space) }),
    target: t.exposeString("target", { description: "The CSV column, e.g. cifar10_test_acc." }),
    count: t.exposeInt("count", { description: "Architectures with a value." }),
  }),
});

interface PointShape {
  readonly accuracy: number;
  readonly score: LocatedScore;
}

const BenchmarkPoint = builder.objectRef<PointShape>("BenchmarkPoint").implement({
  description: "An architecture of a benchmark with its ground-truth value and its cached score.",
  fields: (t) => ({
    architecture: t.field({ type: Architecture, resolve: (p) => p.score }),
    accuracy: t.exposeFloat("accuracy", { description: "The target's value as the benchmark CSV gives it (e.g. test accuracy in %)." }),
    score: t.field({ type: Score, resolve: (p) => p.score }),
  }),
});

const BenchmarkPointConnection = builder.connectionObject(
  {
    type: BenchmarkPoint,
    name: "BenchmarkPointConnection",
    fields: (c) => ({ totalCount: c.int({ description: "Points over all pages: the target's architectures with a cached score at the protocol.", resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount }) }),
  },
  { name: "BenchmarkPointEdge" },
);

const HASH = /^[0-9a-f]{64}$/;

builder.queryFields((t) => ({
  benchmarkTargets: t.field({
    type: [BenchmarkTarget],
    description: "The benchmark targets loaded (`das truth push`; `npm start` loads NB201, NB101 and NB301 dev data when present), by space and target.",
    resolve: async (_root, _args, ctx) =>
      [...(await truthTables(ctx))]
        .map((x) => ({ space: x.space, target: x.target, count: x.count }))
        .sort((a, b) => (a.space === b.space ? (a.target < b.target ? -1 : 1) : a.space < b.space ? -1 : 1)),
  }),
  benchmarkPoints: t.field({
    type: BenchmarkPointConnection,
    description: `The architectures of a benchmark target that have a cached score at a protocol (CIFAR-10), ordered by architecture id; the cursor is the id. At most ${API_LIMITS.benchmarkPage} per page.`,
    args: {
      space: t.arg({ type: SearchSpace, required: true }),
      target: t.arg.string({ required: true, validate: z.string().max(100) }),
      protocol: t.arg({ type: ProtocolInput }),
      first: t.arg.int({ defaultValue: 200, validate: z.number().int().min(0).max(API_LIMITS.benchmarkPage) }),
      after: t.arg.string({ description: "An edge's cursor: the points after it.", validate: z.string().regex(HASH, "a cursor is an architecture id (64 hex digits)") }),
    },
    // A dashboard asks for every point of a target at once: a point costs a tenth of its fields
    // (the edges list's own 10x included), so 1000 points with a dozen fields stay under the limit.
    complexity: (args) => ({ field: 1, multiplier: Math.max(1, Math.ceil(Math.min(args.first ?? 200, API_LIMITS.benchmarkPage) / 100)) }),
    resolve: async (_root, args, ctx) => {
      const space = SPACE_NAMES[args.space];
      const first = args.first ?? 200;
      const tables = await truthTables(ctx);
      const table = tables.find((x) => x.space === space && x.target === args.target);
      if (!table) {
        const known = tables.filter((x) => x.space === space).map((x) => x.target);
        throw apiError("BAD_USER_INPUT", `no benchmark target '${args.target}' is loaded for ${args.space}${known.length ? `; loaded: ${known.join(", ")}` : " (load one with das truth push)"}`, { field: "target" });
      }
      const { protocol, hash, prefix } = await resolveApiProtocol(space, "cifar10", protocolArgs(args.protocol));
      const scored = new Set(await scoredArchIds(ctx, prefix));
      const points = table.rows.filter((r) => scored.has(r.archId));
      const after = args.after;
      const start = after ? points.findIndex((r) => r.archId > after) : 0;
      const page: TruthRow[] = start < 0 ? [] : points.slice(start, start + first);
      const location = (r: TruthRow): ScoreLocation => ({ space, canonicalSpec: r.spec, archId: r.archId, protocol, protocolHash: hash, key: scoreKey(ENGINE_VERSION, protocol, hash, r.archId) });
      const loaded = await scoreLoader(ctx).loadMany(page.map((r) => ({ spec: r.spec, location: location(r) })));
      const edges = loaded.map((s, i) => {
        if (s instanceof Error) throw s;
        // Listed a moment ago and never deleted: a miss means storage lost it.
        if (s === null) throw new Error(`score ${location(page[i]).key} was listed but cannot be read`);
        return { cursor: page[i].archId, node: { accuracy: page[i].value, score: s } };
      });
      return {
        totalCount: points.length,
        edges,
        pageInfo: {
          hasNextPage: start >= 0 && start + first < points.length,
          hasPreviousPage: start > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
}));
