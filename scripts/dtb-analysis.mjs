// The paper's DTB experiment at small scale, on the shipped DTB-mini records: Kendall tau against
// the final test accuracy of WOT, DAS (the rule in force, and one calibrated on a half), the atomic
// metrics and params at initialisation and at each recorded state; and how mini's final accuracy
// ranks like NB301's cifar10_val_acc for the same genotypes. Usage:
//   npm run dtb:analysis [-- --dir gpu-worker/data/dtb-mini --truth ../shared/data/nb301/accuracy-dev.csv]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { applyDasRule, calibrateDasRule, describeRule, dtbArchitecture, kendallTauB, parseCsv, parseDtbRecord } from "../core/dist/index.js";

const { values } = parseArgs({ options: { dir: { type: "string", default: "gpu-worker/data/dtb-mini" }, truth: { type: "string", default: "../shared/data/nb301/accuracy-dev.csv" } } });
const records = readdirSync(values.dir)
  .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
  .map((f) => parseDtbRecord(JSON.parse(readFileSync(join(values.dir, f), "utf8"))));
if (records.length < 4) throw new Error(`only ${records.length} records in ${values.dir}`);

// Records in the order of the truth file (the order they were built in), which fixes the halves.
const order = new Map();
const nb301 = new Map();
if (existsSync(values.truth)) {
  const table = parseCsv(readFileSync(values.truth, "utf8"), values.truth);
  for (const [i, row] of table.rows.entries()) {
    const { archId } = await dtbArchitecture(row.genotype);
    if (!order.has(archId)) order.set(archId, i);
    nb301.set(archId, Number(row.cifar10_val_acc));
  }
}
records.sort((a, b) => (order.get(a.architecture.archId) ?? 1e9) - (order.get(b.architecture.archId) ?? 1e9));
const final = records.map((r) => r.finalTestAccuracy);
const steps = records[0].states.map((s) => s.step);
const tau = (xs) => {
  const keep = xs.map((x, i) => [x, final[i]]).filter(([x]) => x !== null && Number.isFinite(x));
  return kendallTauB(keep.map((p) => p[0]), keep.map((p) => p[1]));
};
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

console.log(`DTB-mini: ${records.length} records, protocol ${records[0].protocol.name} (${records[0].protocol.hash.slice(0, 12)}), states at steps ${steps.join(", ")}`);
console.log(`final test accuracy: min ${f3(Math.min(...final))}, median ${f3([...final].sort((a, b) => a - b)[final.length >> 1])}, max ${f3(Math.max(...final))}\n`);
console.log("Kendall tau against the final test accuracy (all records):\n");
console.log("| state (step) | WOT | DAS (rule in force) | log N_A | D | params | test accuracy at the state |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [k, step] of steps.entries()) {
  const at = records.map((r) => r.states[k]);
  console.log(`| ${step} | ${f3(tau(at.map((s) => s.wot)))} | ${f3(tau(at.map((s) => s.das)))} | ${f3(tau(at.map((s) => s.logActivationUnits)))} | ${f3(tau(at.map((s) => s.distinguishing)))} | ${f3(tau(records.map((r) => r.params)))} | ${step === steps.at(-1) ? "1 (itself)" : f3(tau(at.map((s) => s.testAccuracy)))} |`);
}

// DAS calibrated at initialisation on the first half (even positions in truth-file order), evaluated on the second.
const fitIdx = records.map((_, i) => i).filter((i) => i % 2 === 0);
const testIdx = records.map((_, i) => i).filter((i) => i % 2 === 1);
const pair = (r) => ({ batchSize: r.protocol.scoringBatch, distinguishing: r.states[0].distinguishing ?? -Infinity, logActivationUnits: r.states[0].logActivationUnits });
const usable = (i) => records[i].states[0].distinguishing !== null;
const fit = calibrateDasRule(fitIdx.filter(usable).map((i) => pair(records[i])), fitIdx.filter(usable).map((i) => final[i]));
const held = testIdx.filter(usable);
const heldTau = (rule) => kendallTauB(held.map((i) => applyDasRule(rule, pair(records[i]))), held.map((i) => final[i]));
console.log(`\nDAS calibrated at initialisation on the even-position half (${fitIdx.length} records): ${describeRule(fit.rule)}`);
console.log(`held-out half (${held.length} records): Kendall tau DAS ${f3(heldTau(fit.rule))}, WOT ${f3(heldTau({ kind: "linear", alpha: 1 }))}`);

const both = records.filter((r) => nb301.has(r.architecture.archId));
if (both.length) {
  const t = kendallTauB(both.map((r) => r.finalTestAccuracy), both.map((r) => nb301.get(r.architecture.archId)));
  console.log(`\nmini's final test accuracy against NB301 cifar10_val_acc (${both.length} genotypes): Kendall tau ${f3(t)}`);
}
