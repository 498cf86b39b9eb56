#!/usr/bin/env node
import { exitStatusFor, isDasError } from "@das/core";
import { benchCommand, BENCH_USAGE } from "./commands/bench.js";
import { calibrateCommand, CALIBRATE_USAGE } from "./commands/calibrate.js";
import { evalCommand, EVAL_USAGE } from "./commands/eval.js";
import { exportCommand, EXPORT_USAGE } from "./commands/export.js";
import { gradcheckCommand, GRADCHECK_USAGE } from "./commands/gradcheck.js";
import { trainCommand, TRAIN_USAGE } from "./commands/train.js";
import { dtbCommand, DTB_USAGE } from "./commands/dtb.js";
import { scoreCommand, SCORE_USAGE } from "./commands/score.js";
import { serveCommand, SERVE_USAGE } from "./commands/serve.js";
import { truthCommand, TRUTH_USAGE } from "./commands/truth.js";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  score: { run: scoreCommand, usage: SCORE_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
  calibrate: { run: calibrateCommand, usage: CALIBRATE_USAGE },
  bench: { run: benchCommand, usage: BENCH_USAGE },
  export: { run: exportCommand, usage: EXPORT_USAGE },
  train: { run: trainCommand, usage: TRAIN_USAGE },
  dtb: { run: dtbCommand, usage: DTB_USAGE },
  truth: { run: truthCommand, usage: TRUTH_USAGE },
  gradcheck: { run: gradcheckCommand, usage: GRADCHECK_USAGE },
  serve: { run: serveCommand, usage: SERVE_USAGE },
};

const USAGE = `das: training-free architecture scores (WOT, DAS) on NAS search spaces

${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join("\n\n")}

Exit status: 0 ok, 2 bad input (a client-class coded error), 1 internal or runtime failure.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE + "\n");
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`das: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (isDasError(e)) {
      process.stderr.write(`das ${name}: ${e.code}: ${e.message}\n`);
      return exitStatusFor(e);
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`das ${name}: INVALID_ARGUMENT: ${e.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`das ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
