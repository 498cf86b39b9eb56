// `npm run bench:proxies [-- --limit 20 --batch-size 64]` (`-- --each`: per proxy and space, bench-proxies-each.mjs): the cost of the gradient-proxy suite
// (grad_norm, snip, synflow, jacov, zico, passes shared) against WOT alone, measured side by side
// on the same architectures of the NB201 sample in one run, one thread of work at a time.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const { GRADIENT_PROXIES } = await import(join(ROOT, "core/dist/index.js"));
const { ScoringSession } = await import(join(ROOT, "gpu-worker/dist/cli/scoring-session.js"));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const limit = Number(arg("limit", "20"));
const batchSize = Number(arg("batch-size", "64"));
if (process.argv.includes("--each")) {
  const { benchEach } = await import("./bench-proxies-each.mjs");
  await benchEach({ limit: Number(arg("limit", "5")), batchSize: Number(arg("batch-size", "32")) });
  process.exit(0);
}
const specs = readFileSync(join(ROOT, "gpu-worker/data/nb201-sample.txt"), "utf8").split("\n").filter((l) => l.startsWith("|")).slice(0, limit);
const setup = (proxies) => ({ space: "nb201", protocol: { dataset: "cifar10", batchSize, seed: 1, overrides: {} }, tap: "auto", provider: "cpu", workers: 1, dataDir: join(ROOT, "gpu-worker/data"), quiet: true, proxies });
const wotOnly = await ScoringSession.create(setup([]));
const names = GRADIENT_PROXIES.map((p) => p.name);
const withSuite = await ScoringSession.create(setup(names));
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const wot = [];
const suite = [];
for (const spec of specs) {
  let t = performance.now();
  await wotOnly.score(spec);
  wot.push(performance.now() - t);
  t = performance.now();
  await withSuite.score(spec); // WOT and the whole gradient suite
  suite.push(performance.now() - t);
}
const sum = (v) => v.reduce((a, b) => a + b, 0);
console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; NB201 sample, first ${specs.length} cells, batch ${batchSize}, onnxruntime CPU`);
console.log(`WOT alone:            median ${median(wot).toFixed(0)} ms/arch, total ${(sum(wot) / 1000).toFixed(1)} s`);
console.log(`WOT + ${names.join(", ")}: median ${median(suite).toFixed(0)} ms/arch, total ${(sum(suite) / 1000).toFixed(1)} s`);
console.log(`ratio (suite incl. WOT / WOT): median ${(median(suite.map((s, i) => s / wot[i]))).toFixed(1)}x, totals ${(sum(suite) / sum(wot)).toFixed(1)}x`);
