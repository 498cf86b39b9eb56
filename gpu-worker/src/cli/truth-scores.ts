import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { specOfRow, DasError, dasValue, reviveScore, defaultDasRule, parseCsv, parseNumericField, requireColumn, type ArchitectureScore, type DasRule, type SearchSpace, type TrajectoryRecord } from "@das/core";
import { intFlag, requireFlag, SCORING_FLAGS, type ScoringFlags } from "./options.js";
import { Progress } from "./progress.js";
import { ScoringSession } from "./scoring-session.js";

/** Flags of the commands that score the rows of a ground-truth CSV (eval, calibrate). */
export const TRUTH_FLAGS = {
  ...SCORING_FLAGS,
  truth: { type: "string" },
  target: { type: "string" },
  limit: { type: "string" },
  "scores-in": { type: "string" },
  "scores-out": { type: "string" },
  "at-step": { type: "string" },
} as const;

export interface TruthFlags extends ScoringFlags {
  truth?: string;
  target?: string;
  limit?: string;
  "scores-in"?: string;
  "scores-out"?: string;
  "at-step"?: string;
}

/**
 * `--at-step S`: the proxies as they stood after S fast-training steps (a
 * point of each score's trajectory), so one run with --ft-checkpoints yields
 * every budget. DAS is re-evaluated with the score's rule.
 */
export function scoresAtStep(scores: readonly ArchitectureScore[], flag: string | undefined): ArchitectureScore[] {
  if (flag === undefined) return [...scores];
  const step = intFlag("at-step", flag, 0);
  return scores.map((s) => {
    const point = s.fastTrain?.trajectory.find((t) => t.step === step);
    if (!point) {
      throw new DasError("INVALID_ARGUMENT", `--at-step ${step}: ${s.arch} has no trajectory point at that step (score with --fast-train and --ft-checkpoints including it)`);
    }
    // Step 0 is the network at initialisation: its DAS takes the space's rule for that setting.
    return atTrajectoryPoint(s, point, step === 0 ? defaultDasRule(s.space) : undefined);
  });
}

/** A score with its proxies replaced by one point of its fast-training trajectory, DAS re-evaluated with its rule. */
export function atTrajectoryPoint(s: ArchitectureScore, point: TrajectoryRecord, ruleOverride?: DasRule): ArchitectureScore {
  const logActivationUnits = Math.log(point.activationUnits);
  const rule = ruleOverride ?? ({ kind: s.das.rule, ...s.das.parameters } as DasRule);
  const atomic = { batchSize: s.batchSize, distinguishing: point.distinguishing, logActivationUnits };
  return { ...s, activationUnits: point.activationUnits, logActivationUnits, distinguishing: point.distinguishing, wot: point.wot, das: dasValue(rule, atomic), singular: point.singular };
}

export interface ScoredTruth {
  readonly session: ScoringSession;
  readonly target: string;
  readonly scores: ArchitectureScore[];
  readonly truth: number[];
}

const cacheKey = (s: Pick<ArchitectureScore, "space" | "arch" | "batchSize" | "seed" | "dataset" | "overrides"> & { fastTrain?: { protocol: unknown } }) =>
  `${s.space}|${s.arch}|${s.batchSize}|${s.seed}|${s.dataset}|${JSON.stringify(s.overrides ?? {})}|${JSON.stringify(s.fastTrain?.protocol ?? null)}`;

/** Scores saved by an earlier `--scores-out`, keyed by architecture and protocol. */
function loadScores(file: string): Map<string, ArchitectureScore> {
  if (!existsSync(file)) throw new DasError("INVALID_ARGUMENT", `--scores-in file ${file} does not exist`);
  const map = new Map<string, ArchitectureScore>();
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .forEach((line, i) => {
      let s: ArchitectureScore;
      try {
        s = reviveScore(JSON.parse(line) as ArchitectureScore);
      } catch {
        throw new DasError("INVALID_ARGUMENT", `${file}:${i + 1} is not JSON`);
      }
      map.set(cacheKey(s), s);
    });
  return map;
}

/**
 * Reads the truth CSV, then scores its first `--limit` rows (reusing
 * `--scores-in` where the protocol matches) and saves them to `--scores-out`.
 */
export async function scoreTruth(space: SearchSpace<unknown>, values: TruthFlags, label: string): Promise<ScoredTruth> {
  const truthFile = requireFlag("truth", values.truth);
  const target = requireFlag("target", values.target);
  let text: string;
  try {
    text = readFileSync(truthFile, "utf8");
  } catch (e) {
    throw new DasError("INVALID_ARGUMENT", `cannot read --truth file ${truthFile}: ${(e as Error).message}`);
  }
  const table = parseCsv(text, truthFile);
  requireColumn(table, space.specColumn, truthFile);
  requireColumn(table, target, truthFile);
  const limit = values.limit === undefined ? table.rows.length : intFlag("limit", values.limit, 2);
  const rows = table.rows.slice(0, limit);
  const truth = rows.map((r, i) => {
    const v = parseNumericField(r[target]);
    if (Number.isNaN(v)) {
      throw new DasError("INVALID_CSV", `${truthFile}: row ${i + 2} has a non-numeric ${target} '${r[target]}'`);
    }
    return v;
  });
  const session = await ScoringSession.open(values);
  const cached = values["scores-in"] ? loadScores(values["scores-in"]) : new Map<string, ArchitectureScore>();
  const rule = defaultDasRule(space.name, session.fastTrain ? "fast-trained" : "init");
  const progress = new Progress(rows.length, label, !values.quiet);
  const out = values["scores-out"] ? createWriteStream(values["scores-out"]) : undefined;
  // Saved scores first; the rest are scored (on worker threads where there are several).
  const hits = rows.map((row) => {
    const arch = space.canonical(space.parse(specOfRow(space, row)));
    const found = cached.get(
      cacheKey({ space: space.name, arch, batchSize: session.batchSize, seed: session.seed, dataset: session.dataset, overrides: session.overrides, fastTrain: session.fastTrain }),
    );
    // A saved trajectory without a requested checkpoint is scored again rather than reused.
    const wanted = session.fastTrain?.checkpoints ?? [];
    // So is one saved without a gradient proxy asked for now.
    const proxies = (found as { proxies?: Record<string, number> } | undefined)?.proxies ?? {};
    const complete = session.proxyNames.every((p) => p in proxies);
    return found && complete && wanted.every((step) => found.fastTrain?.trajectory.some((t) => t.step === step)) ? found : undefined;
  });
  const missing = rows.flatMap((row, i) => (hits[i] ? [] : [specOfRow(space, row)]));
  const fresh = session.scoreAll(missing);
  const scores: ArchitectureScore[] = [];
  let reused = 0;
  try {
    for (const [i, hit] of hits.entries()) {
      let s: ArchitectureScore;
      if (hit) {
        // A cached score keeps its atomic metrics; DAS (and DAS+) are recomputed with today's rules.
        s = session.withDasPlus({ ...hit, das: dasValue(rule, hit) });
        reused++;
      } else {
        const next = await fresh.next();
        if (next.done) throw new DasError("INTERNAL", "scoring ended before every architecture was scored");
        if ("error" in next.value) throw next.value.error;
        s = next.value.score;
      }
      scores.push(s);
      out?.write(JSON.stringify({ ...s, target: { [target]: truth[i] } }) + "\n");
      progress.tick(i + 1, hit ? `reused ${reused}` : `wot=${s.wot.toFixed(1)}`);
    }
  } finally {
    await fresh.return(undefined); // stops the workers when an error ends the run early
  }
  if (out) await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  return { session, target, scores, truth };
}
