import { parseArgs } from "node:util";
import { GRAD_CASES, GRADCHECK_TOLERANCE, gradCheck, type GradCheckResult } from "@das/core";
import { nodeRuntime } from "../../runtime/node-runtime.js";

export const GRADCHECK_USAGE = `das gradcheck [--json]
  Checks every gradient rule against central finite differences (float32, step 1e-2) on awkward
  shapes and prints the worst relative error per rule; exit 1 if any exceeds ${GRADCHECK_TOLERANCE}.`;

export async function gradcheckCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: "boolean", default: false } }, strict: true });
  const runtime = nodeRuntime({ threads: 1 });
  const results: GradCheckResult[] = [];
  for (const c of GRAD_CASES) results.push(await gradCheck(runtime, c));
  const byRule = new Map<string, number>();
  for (const r of results) byRule.set(r.rule, Math.max(byRule.get(r.rule) ?? 0, r.worstRelativeError));
  const passed = results.every((r) => r.passed);
  if (values.json) {
    process.stdout.write(JSON.stringify({ tolerance: GRADCHECK_TOLERANCE, passed, rules: Object.fromEntries(byRule), cases: results }) + "\n");
  } else {
    for (const r of results) process.stdout.write(`${r.passed ? "ok  " : "FAIL"}  ${r.worstRelativeError.toExponential(2)}  ${r.rule.padEnd(20)} ${r.name}\n`);
    process.stdout.write(`\nworst relative error per rule (tolerance ${GRADCHECK_TOLERANCE}):\n`);
    for (const [rule, e] of byRule) process.stdout.write(`  ${rule.padEnd(20)} ${e.toExponential(2)}\n`);
  }
  return passed ? 0 : 1;
}
