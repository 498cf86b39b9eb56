import { parseArgs } from "node:util";
import { defaultDasRule, getSpace, kendallTauB, spearmanRho, topKOverlap, type ArchitectureScore } from "@das/core";
import { requireFlag } from "../options.js";
import { atTrajectoryPoint, scoresAtStep, scoreTruth, TRUTH_FLAGS } from "../truth-scores.js";

export const EVAL_USAGE = `das eval --space nb201 --truth FILE.csv --target COLUMN [--limit N] [--batch-size 128]
         [--seed 1] [--width C] [--depth L] [--scores-out FILE.jsonl] [--scores-in FILE.jsonl]
         [--fast-train K [--ft-checkpoints S1,S2] [--ft-batch-size 64] [--lr 0.05] [--at-step S]] [--json]
  Scores the first N rows of a ground-truth CSV and prints Kendall tau-b, Spearman rho and
  top-10% overlap of every proxy (wot, das, activation_units, distinguishing, params, flops), and
  of the gradient proxies asked for with --proxies (grad_norm, snip, synflow, jacov, zico, das_plus,
  or all).
  With --fast-train, the proxies after K steps (or after S with --at-step, a checkpoint) beside
  those at initialisation.`;

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

/** Every proxy the scores carry: the activation ones, then the gradient proxies (--proxies), then DAS+. */
export function proxyGetters(scores: readonly ArchitectureScore[]): [string, (s: ArchitectureScore) => number][] {
  const gradient = Object.keys(scores[0]?.proxies ?? {}).map((name): [string, (s: ArchitectureScore) => number] => [name, (s) => s.proxies?.[name] ?? NaN]);
  const dasPlus: [string, (s: ArchitectureScore) => number][] = scores[0]?.dasPlus ? [["das_plus", (s) => s.dasPlus?.value ?? NaN]] : [];
  return [...Object.entries(PROXIES), ...gradient, ...dasPlus];
}

export function correlate(scores: readonly ArchitectureScore[], target: readonly number[]): Record<string, ProxyCorrelation> {
  const k = Math.max(1, Math.round(target.length / 10));
  return Object.fromEntries(
    proxyGetters(scores).map(([name, get]) => {
      const v = scores.map(get);
      return [name, { kendall: kendallTauB(v, target), spearman: spearmanRho(v, target), top10pct: topKOverlap(v, target, k) }];
    }),
  );
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: TRUTH_FLAGS, strict: true });
  const space = getSpace(requireFlag("space", values.space));
  const scored = await scoreTruth(space, values, "eval");
  const { session, target, truth } = scored;
  const scores = scoresAtStep(scored.scores, values["at-step"]);
  const proxies = correlate(scores, truth);
  // With --fast-train, the same proxies at initialisation (step 0 of each trajectory), side by side.
  const atInit = scores[0]?.fastTrain
    ? correlate(
        scores.map((s) => atTrajectoryPoint(s, s.fastTrain!.trajectory[0], defaultDasRule(s.space))),
        truth,
      )
    : undefined;
  const durations = scores.map((s) => s.durationMs).sort((a, b) => a - b);
  const report = {
    space: space.name,
    n: scores.length,
    target,
    batchSize: session.batchSize,
    seed: session.seed,
    singular: scores.filter((s) => s.singular).length,
    dasRule: scores[0]?.das,
    medianMsPerArch: durations[Math.floor(durations.length / 2)],
    provider: session.runtime.provider,
    ...(Object.keys(session.overrides).length ? { overrides: session.overrides } : {}),
    ...(session.fastTrain ? { fastTrain: session.fastTrain.protocol, atStep: values["at-step"] === undefined ? session.fastTrain.protocol.steps : Number(values["at-step"]), proxiesAtInit: atInit } : {}),
    proxies,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(report) + "\n");
    return 0;
  }
  const w = (s: string) => process.stdout.write(s + "\n");
  w(`${space.name}: ${report.n} architectures, target ${target}, batch ${report.batchSize}, seed ${report.seed}, ${report.singular} singular`);
  w(`${"proxy".padEnd(18)}${"kendall".padStart(9)}${"spearman".padStart(10)}${"top10%".padStart(8)}`);
  for (const [name, c] of Object.entries(proxies)) {
    const init = atInit?.[name];
    w(`${name.padEnd(18)}${c.kendall.toFixed(3).padStart(9)}${c.spearman.toFixed(3).padStart(10)}${c.top10pct.toFixed(3).padStart(8)}${init ? `   at init: kendall ${init.kendall.toFixed(3)}` : ""}`);
  }
  return 0;
}
