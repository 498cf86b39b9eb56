/**
 * What the benchmark and percentile fields read, each once per request however many fields ask:
 * the truth tables, a protocol's listing of stored scores, and percentile populations (the metric
 * values of many cached records, sorted once per metric).
 */
import { applyDasRule, defaultDasRule, ENGINE_VERSION, isDasError, percentileRank, protocolHash, resolveProtocol, scorePrefix, sortedPopulation, type ScoringProtocol, type TruthTable } from "@das/core";
import type { ProtocolArgs, SchemaContext, StoredScore } from "./context.js";
import { fromDasError } from "./errors.js";
import { apiError } from "./errors.js";
import { API_LIMITS } from "./locate.js";

export const SCORE_METRICS = ["WOT", "DAS", "ACTIVATION_UNITS", "DISTINGUISHING", "PARAMS", "FLOPS"] as const;
export type ScoreMetricValue = (typeof SCORE_METRICS)[number];
export const PERCENTILE_POPULATIONS = ["CACHED", "SPACE_SAMPLE"] as const;
export type PercentilePopulationValue = (typeof PERCENTILE_POPULATIONS)[number];

const memos = new WeakMap<SchemaContext, Map<string, Promise<unknown>>>();
/** The percentile populations each request has asked for (bounded by API_LIMITS.populationsPerRequest). */
const populationsRead = new WeakMap<SchemaContext, Set<string>>();
function memo<T>(ctx: SchemaContext, key: string, f: () => Promise<T>): Promise<T> {
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = new Map<string, Promise<unknown>>()));
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) m.set(key, (p = f()));
  return p;
}

export const truthTables = (ctx: SchemaContext): Promise<readonly TruthTable[]> => memo(ctx, "truth", () => ctx.benchmarks.truthTables());

const ARCH_FILE = /^[0-9a-f]{64}\.json$/;

/** The architecture ids with a stored score under a protocol's prefix (one listing), ascending. */
export const scoredArchIds = (ctx: SchemaContext, prefix: string): Promise<readonly string[]> =>
  memo(ctx, `list:${prefix}`, async () =>
    (await ctx.benchmarks.listKeys(prefix))
      .map((k) => k.slice(prefix.length))
      .filter((f) => ARCH_FILE.test(f))
      .map((f) => f.slice(0, 64))
      .sort(),
  );

export interface ResolvedProtocol {
  readonly protocol: ScoringProtocol;
  readonly hash: string;
  /** `scores/{engineVersion}/{dataset}/{protocolHash}/` */
  readonly prefix: string;
}

/** A space's protocol from the API's arguments, validated by core; refusals are BAD_USER_INPUT naming the field (dataset, protocol.*). */
export async function resolveApiProtocol(space: string, dataset: string, p: ProtocolArgs): Promise<ResolvedProtocol> {
  try {
    const protocol = resolveProtocol(space, { dataset, ...p });
    const hash = await protocolHash(protocol);
    return { protocol, hash, prefix: scorePrefix(ENGINE_VERSION, protocol, hash) };
  } catch (e) {
    if (!isDasError(e)) throw e;
    const named = typeof e.details.field === "string" ? e.details.field : undefined;
    const field = named === undefined ? "space" : named === "dataset" ? "dataset" : `protocol.${named}`;
    throw fromDasError(e, { field });
  }
}

/** A score's prefix: its key without the `{archId}.json` at the end. */
export const prefixOfKey = (key: string): string => key.slice(0, key.lastIndexOf("/") + 1);

const num = (r: StoredScore, k: string): number | null => {
  const v = r[k];
  return typeof v === "number" ? v : null;
};

/**
 * A metric of a stored record as the Score fields show it (DAS under the rule in force for the
 * space and protocol), except that a singular kernel's WOT, D and DAS are -Infinity rather than
 * null; null when the record lacks the metric.
 */
export function metricOf(space: string, r: StoredScore, metric: ScoreMetricValue): number | null {
  const singular = r.singular === true ? -Infinity : null;
  switch (metric) {
    case "WOT":
      return num(r, "wot") ?? singular;
    case "DISTINGUISHING":
      return num(r, "distinguishing") ?? singular;
    case "DAS": {
      const rule = defaultDasRule(space, r.fastTrain ? "fast-trained" : "init");
      const d = num(r, "distinguishing") ?? singular;
      const batchSize = num(r, "batchSize");
      const logNa = num(r, "logActivationUnits");
      if (d === null || batchSize === null || logNa === null) return null;
      const v = applyDasRule(rule, { batchSize, logActivationUnits: logNa, distinguishing: d });
      return Number.isNaN(v) ? null : v;
    }
    case "ACTIVATION_UNITS":
      return num(r, "activationUnits");
    case "PARAMS":
      return num(r, "params");
    case "FLOPS":
      return num(r, "flops");
  }
}

export interface Population {
  /** This metric's values over the population's records that have it, ascending. */
  sorted(metric: ScoreMetricValue): Float64Array;
}

/**
 * The cached records of a space at one protocol (its score prefix): every one (CACHED), or those
 * of the architectures in the space's loaded truth (SPACE_SAMPLE). At most
 * API_LIMITS.populationRecords records are read, the first by architecture id (ids are hashes, so
 * that is a uniform sample); under CACHED, records of other spaces at the same protocol are read
 * and dropped (the space is not in the key).
 */
export function population(ctx: SchemaContext, space: string, prefix: string, kind: PercentilePopulationValue): Promise<Population> {
  const key = `population:${kind}:${space}:${prefix}`;
  const read = populationsRead.get(ctx) ?? new Set<string>();
  populationsRead.set(ctx, read.add(key));
  if (read.size > API_LIMITS.populationsPerRequest) {
    return Promise.reject(apiError("QUERY_TOO_COMPLEX", `a request may read at most ${API_LIMITS.populationsPerRequest} percentile populations (space, protocol, population); ask for the others in another request`, { limit: API_LIMITS.populationsPerRequest }));
  }
  return memo(ctx, key, async () => {
    let ids = await scoredArchIds(ctx, prefix);
    if (kind === "SPACE_SAMPLE") {
      const sample = new Set((await truthTables(ctx)).filter((t) => t.space === space).flatMap((t) => t.rows.map((r) => r.archId)));
      ids = ids.filter((id) => sample.has(id));
    }
    const keys = ids.slice(0, API_LIMITS.populationRecords).map((id) => `${prefix}${id}.json`);
    const records = (await ctx.scores.getMany(keys)).filter((r): r is StoredScore => r !== null && (r.space ?? space) === space);
    const byMetric = new Map<ScoreMetricValue, Float64Array>();
    return {
      sorted: (metric) => {
        let s = byMetric.get(metric);
        if (!s) byMetric.set(metric, (s = sortedPopulation(records.flatMap((r) => metricOf(space, r, metric) ?? []))));
        return s;
      },
    };
  });
}

export interface PercentileShape {
  readonly percentile: number | null;
  readonly populationSize: number;
}

/** Where `value` falls in a population of one metric (core's percentileRank); null percentile for a null value or an empty population. */
export async function percentileIn(ctx: SchemaContext, space: string, prefix: string, kind: PercentilePopulationValue, metric: ScoreMetricValue, value: number | null): Promise<PercentileShape> {
  const sorted = (await population(ctx, space, prefix, kind)).sorted(metric);
  return { percentile: value === null ? null : percentileRank(sorted, value), populationSize: sorted.length };
}
