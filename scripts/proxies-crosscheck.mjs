// `npm run proxies:crosscheck [-- --limit N]`: our gradient proxies against the reference values of
// ../shared/data (NASLib / zero-cost-nas computations): Spearman across architectures, per space and
// proxy, with the cost per architecture. Runs `das eval --proxies ... --scores-out` per space, then
// correlates the saved scores with the reference columns row by row (eval keeps the CSV's order).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const DATA = resolve(ROOT, "../shared/data");
const { parseCsv, spearmanRho, kendallTauB } = await import(join(ROOT, "core/dist/index.js"));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const limit = Number(arg("limit", "100"));
const batch = arg("batch-size", "32");
const only = arg("space");
const SPACES = [
  { space: "nb201", csv: "nb201/proxies-reference-dev.csv", target: "cifar10_test_acc", proxies: ["grad_norm", "snip", "synflow", "jacov"] },
  { space: "nb101", csv: "nb101/accuracy-dev.csv", target: "cifar10_val_acc", proxies: ["synflow", "snip"] },
  { space: "darts", csv: "nb301/accuracy-dev.csv", target: "cifar10_val_acc", proxies: ["synflow", "snip"] },
].filter((s) => !only || s.space === only);

console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; first ${limit} rows, batch ${batch}, seed 1\n`);
console.log("| space | proxy | n | Spearman vs reference | Kendall vs reference | ours vs accuracy (Spearman) | reference vs accuracy (Spearman) | s/arch (eval, all proxies + WOT) |");
console.log("|---|---|---|---|---|---|---|---|");
for (const s of SPACES) {
  const out = join(mkdtempSync(join(tmpdir(), "das-crosscheck-")), "scores.jsonl");
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), "eval", "--space", s.space, "--truth", join(DATA, s.csv), "--target", s.target, "--limit", String(limit), "--batch-size", batch, "--proxies", s.proxies.join(","), "--scores-out", out, "--json", "--quiet"], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`das eval ${s.space} failed: ${r.stderr}`);
  const perArch = (performance.now() - t0) / 1000 / limit;
  const scores = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const rows = parseCsv(readFileSync(join(DATA, s.csv), "utf8"), s.csv).rows.slice(0, scores.length);
  const acc = rows.map((row) => Number(row[s.target]));
  for (const p of s.proxies) {
    // JSON writes an overflowed synflow (+Infinity) as null.
    const ours = scores.map((x) => x.proxies[p] ?? Infinity);
    const ref = rows.map((row) => Number(row[p]));
    const f = (v) => v.toFixed(3);
    const inf = ours.filter((v) => v === Infinity).length;
    console.log(`| ${s.space} | ${p}${inf ? ` (${inf} overflowed)` : ""} | ${ours.length} | ${f(spearmanRho(ours, ref))} | ${f(kendallTauB(ours, ref))} | ${f(spearmanRho(ours, acc))} | ${f(spearmanRho(ref, acc))} | ${perArch.toFixed(2)} |`);
  }
}
