import { createWriteStream, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  DasError,
  getSpace,
  kendallTauB,
  parseCsv,
  requireColumn,
  spearmanRho,
  topKOverlap,
  type ArchitectureScore,
} from "@das/core";
import { intFlag, requireFlag, SCORING_FLAGS } from "../options.js";
import { Progress } from "../progress.js";
import { ScoringSession } from "../scoring-session.js";

export const EVAL_USAGE = `das eval --space nb201 --truth FILE.csv --target COLUMN [--limit N] [--batch-size 128]
         [--seed 1] [--scores-out FILE.jsonl] [--json]
  Scores the first N rows of a ground-truth CSV and prints Kendall tau-b and Spearman rho
  of every proxy (wot, das, activation_units, distinguishing, params, flops) against COLUMN.`;

const PROXIES: Record<string, (s: ArchitectureScore) => number> = {
  wot: (s) => s.wot,
  das: (s) => s.das.value,
  activation_units: (s) => s.activationUnits,
  distinguishing: (s) => s.distinguishing,
  params: (s) => s.params,
  flops: (s) => s.flops,
};

export interface ProxyCorrelation {
  kendall: number;
  spearman: number;
  top10pct: number;
}

export function correlate(scores: readonly ArchitectureScore[], target: readonly number[]): Record<string, ProxyCorrelation> {
  const k = Math.max(1, Math.round(target.length / 10));
  return Object.fromEntries(
    Object.entries(PROXIES).map(([name, get]) => {
      const v = scores.map(get);
      return [name, { kendall: kendallTauB(v, target), spearman: spearmanRho(v, target), top10pct: topKOverlap(v, target, k) }];
    }),
  );
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SCORING_FLAGS,
      truth: { type: "string" },
      target: { type: "string" },
      limit: { type: "string" },
      "scores-out": { type: "string" },
    },
    strict: true,
  });
  const space = getSpace(requireFlag("space", values.space));
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
    const v = Number(r[target]);
    if (r[target].trim() === "" || !Number.isFinite(v)) {
      throw new DasError("INVALID_CSV", `${truthFile}: row ${i + 2} has a non-numeric ${target} '${r[target]}'`);
    }
    return v;
  });
  const session = new ScoringSession(values);
  const progress = new Progress(rows.length, "eval", !values.quiet);
  const out = values["scores-out"] ? createWriteStream(values["scores-out"]) : undefined;
  const scores: ArchitectureScore[] = [];
  for (const [i, row] of rows.entries()) {
    const s = await session.score(row[space.specColumn]);
    scores.push(s);
    out?.write(JSON.stringify({ ...s, target: { [target]: truth[i] } }) + "\n");
    progress.tick(i + 1, `wot=${s.wot.toFixed(1)}`);
  }
  if (out) await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  const proxies = correlate(scores, truth);
  const medianMs = [...scores.map((s) => s.durationMs)].sort((a, b) => a - b)[Math.floor(scores.length / 2)];
  const report = {
    space: space.name,
    n: scores.length,
    target,
    batchSize: session.batchSize,
    seed: session.seed,
    singular: scores.filter((s) => s.singular).length,
    medianMsPerArch: medianMs,
    provider: session.runtime.provider,
    proxies,
  };
  if (values.json) process.stdout.write(JSON.stringify(report) + "\n");
  else {
    process.stdout.write(`${space.name}: ${report.n} architectures, target ${target}, batch ${report.batchSize}, seed ${report.seed}, ${report.singular} singular\n`);
    process.stdout.write(`${"proxy".padEnd(18)}${"kendall".padStart(9)}${"spearman".padStart(10)}${"top10%".padStart(8)}\n`);
    for (const [name, c] of Object.entries(proxies)) {
      process.stdout.write(`${name.padEnd(18)}${c.kendall.toFixed(3).padStart(9)}${c.spearman.toFixed(3).padStart(10)}${c.top10pct.toFixed(3).padStart(8)}\n`);
    }
  }
  return 0;
}
