import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DasError, exitStatusFor, getSpace, parseCsv, specOfRow, type ArchitectureScore, type SearchSpace } from "@das/core";
import { requireFlag, SCORING_FLAGS } from "../options.js";
import { scoreModels } from "./score-models.js";
import { Progress } from "../progress.js";
import { ScoringSession } from "../scoring-session.js";

export const SCORE_USAGE = `das score --space nb201|nb101|darts (--arch SPEC ... | --archs FILE) [--dataset cifar10]
          [--batch-size 128] [--seed 1] [--tap auto|gram-int8|gram-f32|bits] [--data-dir DIR] [--json]
  FILE: one spec per line, or a CSV with the space's spec column (nb201: arch; nb101: adjacency and ops;
  darts: genotype). NB101 specs are JSON {"adjacency": [[...]], "ops": [...]}.
das score --space onnx --model FILE.onnx ... [--dataset cifar10|mnist]
  Scores exported models (validated first: size, parse, opset, op allowlist, one image input, a Relu);
  the data set follows the input (3x32x32 cifar10, 1x28x28 mnist) unless --dataset is given.
  --json prints one object per architecture; inputs that fail print {"arch", "error"} and the exit status is 2.`;

/** Specs from a file: a CSV with the space's spec column, else one spec per line ('#' starts a comment). */
export function readSpecs(file: string, space: SearchSpace<unknown>): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new DasError("INVALID_ARGUMENT", `cannot read --archs file ${file}: ${(e as Error).message}`);
  }
  const firstLine = text.split(/\r?\n/, 1)[0];
  if (firstLine.split(",").map((h) => h.trim()).includes(space.specColumn)) {
    return parseCsv(text, file).rows.map((r) => specOfRow(space, r));
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

export function scoreLine(s: ArchitectureScore): string {
  const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
  return [
    s.archId.slice(0, 12),
    `wot=${f(s.wot)}`,
    `das=${f(s.das.value)}`,
    `N_A=${s.activationUnits}`,
    `D=${f(s.distinguishing)}`,
    s.singular ? "SINGULAR" : "",
    `params=${s.params}`,
    `flops=${s.flops}`,
    ...Object.entries(s.proxies ?? {}).map(([k, v]) => `${k}=${v.toPrecision(5)}`),
    s.dasPlus ? `das_plus=${f(s.dasPlus.value, 4)}` : "",
    `${s.durationMs.toFixed(0)}ms`,
    s.arch,
  ]
    .filter(Boolean)
    .join("  ");
}

export async function scoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...SCORING_FLAGS, arch: { type: "string", multiple: true }, archs: { type: "string" }, model: { type: "string", multiple: true } },
    strict: true,
    allowPositionals: true,
  });
  if (values.space === "onnx") {
    // `--model a.onnx b.onnx` (as a shell glob expands) means both.
    const models = [...(values.model ?? []), ...positionals];
    if (!models.length) throw new DasError("INVALID_ARGUMENT", "--space onnx needs --model FILE.onnx");
    return scoreModels(models, { ...values, "dataset-explicit": argv.some((a) => a === "--dataset" || a.startsWith("--dataset=")) });
  }
  if (positionals.length) throw new DasError("INVALID_ARGUMENT", `unexpected argument '${positionals[0]}'`);
  const modelOnly = (["images", "mean", "std"] as const).find((k) => values[k] !== undefined);
  if (modelOnly) throw new DasError("INVALID_ARGUMENT", `--${modelOnly} applies to uploaded models (--space onnx) only`, { field: modelOnly });
  const space = getSpace(requireFlag("space", values.space));
  const specs = [...(values.arch ?? []), ...(values.archs ? readSpecs(values.archs, space) : [])];
  if (specs.length === 0) throw new DasError("INVALID_ARGUMENT", "give --arch SPEC or --archs FILE");
  const session = await ScoringSession.open(values);
  const progress = new Progress(specs.length, "score", specs.length > 1 && !values.quiet);
  let status: 0 | 1 | 2 = 0;
  let done = 0;
  let failures = 0;
  const workers = new Set<number>();
  for await (const outcome of session.scoreAll(specs)) {
    if (outcome.worker !== undefined) workers.add(outcome.worker);
    if ("score" in outcome) {
      process.stdout.write((values.json ? JSON.stringify(outcome.score) : scoreLine(outcome.score)) + "\n");
    } else {
      const e = outcome.error;
      failures++;
      // An internal failure (status 1) outranks bad input (2).
      status = status === 1 ? 1 : exitStatusFor(e);
      const error = { code: e.code, message: e.message };
      process.stdout.write((values.json ? JSON.stringify({ arch: outcome.spec, error }) : `ERROR ${e.code}: ${e.message}`) + "\n");
    }
    progress.tick(++done);
  }
  if (specs.length > 1 && !values.quiet) {
    const where = workers.size ? `on ${workers.size} worker thread${workers.size > 1 ? "s" : ""}` : "on 1 thread";
    process.stderr.write(`[score] ${done - failures} scored, ${failures} failed, ${where}\n`);
  }
  return status;
}
