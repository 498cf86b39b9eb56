// `npm run proxies:table [-- --scores-dir DIR]`: every proxy on every dev set of ../shared/data,
// the tables of docs/proxies.md. Two scoring runs per space, kept in DIR and reused when present:
//   {space}-b128.jsonl  the default protocol (batch 128) with synflow: WOT, DAS, the atomic
//                       metrics, params, flops, DAS+;
//   {space}-b32.jsonl   batch 32, as the reference proxies were computed: every gradient proxy.
// Then Kendall tau-b and Spearman of each against each target, and the 2-fold out-of-fold check
// of DAS and DAS+ (fit on even rows, score odd rows, and back) against every single proxy judged
// on the same halves.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const DATA = resolve(ROOT, "../shared/data");
const core = await import(join(ROOT, "core/dist/index.js"));
const { kendallTauB, spearmanRho, reviveScore, calibrateDasPlus, applyDasPlusRule, dasPlusFeatures, parseCsv, DAS_PLUS_FEATURES } = core;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const dir = resolve(arg("scores-dir", join(ROOT, ".data/proxies-table")));
mkdirSync(dir, { recursive: true });
const GRADIENT = ["grad_norm", "snip", "jacov", "zico"];
// Rows scored at batch 32 for the gradient proxies (they cost 10-30x WOT here): every row, or the
// first N of each CSV with --nb201-rows N (--nb101-rows, --darts-rows) for a quicker table.
const B32_ROWS = { nb201: Number(arg("nb201-rows", "Infinity")), nb101: Number(arg("nb101-rows", "Infinity")), darts: Number(arg("darts-rows", "Infinity")) };
const SPACES = [
  { space: "nb201", csv: "nb201/accuracy-dev.csv", targets: ["cifar10_test_acc", "cifar100_test_acc", "imagenet16_120_test_acc"] },
  { space: "nb101", csv: "nb101/accuracy-dev.csv", targets: ["cifar10_val_acc"] },
  { space: "darts", csv: "nb301/accuracy-dev.csv", targets: ["cifar10_val_acc"] },
].filter((s) => !arg("space") || s.space === arg("space"));
const das = (args) => {
  const r = spawnSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), ...args, "--json", "--quiet"], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`das ${args.slice(0, 3).join(" ")} failed (exit ${r.status})`);
  return JSON.parse(r.stdout);
};
const readScores = (file) => readFileSync(file, "utf8").trim().split("\n").map((l) => reviveScore(JSON.parse(l)));
const f3 = (x) => (Number.isNaN(x) ? "n/a" : x.toFixed(3));
const mean2 = (v) => (v[0] + v[1]) / 2;

console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; scores in ${dir}\n`);
const oof = [];
for (const s of SPACES) {
  const truth = join(DATA, s.csv);
  const file = (b) => join(dir, `${s.space}-b${b}.jsonl`);
  // Scoring (or reusing) both runs; eval keeps the CSV's row order and saves each row's targets.
  const runs = [
    ["128", "das_plus,synflow", []], // synflow on every row: a DAS+ feature in every space's fit
    ["32", ["synflow", ...GRADIENT].join(","), Number.isFinite(B32_ROWS[s.space]) ? ["--limit", String(B32_ROWS[s.space])] : []],
  ];
  for (const [b, proxies, limit] of runs) {
    const reuse = existsSync(file(b)) ? ["--scores-in", file(b)] : [];
    das(["eval", "--space", s.space, "--truth", truth, "--target", s.targets[0], "--batch-size", b, "--proxies", proxies, ...limit, ...reuse, "--scores-out", file(b)]);
  }
  const b128 = readScores(file(128));
  const b32 = readScores(file(32));
  const k = b32.length;
  // [name, batch it was scored at, values in CSV row order (the first k rows for batch 32)]
  const full = [
    ["wot", 128, b128.map((x) => x.wot)],
    ["das", 128, b128.map((x) => x.das.value)],
    ["activation_units", 128, b128.map((x) => x.activationUnits)],
    ["distinguishing", 128, b128.map((x) => x.distinguishing)],
    ["params", "-", b128.map((x) => x.params)],
    ["flops", "-", b128.map((x) => x.flops)],
    ["synflow", "1 (ones)", b128.map((x) => x.proxies.synflow)],
  ];
  const partial = GRADIENT.map((p) => [p, 32, b32.map((x) => x.proxies[p])]);
  const shipped = b128.map((x) => x.dasPlus.value);
  const features = b128.map((x) => dasPlusFeatures(x));
  for (const target of s.targets) {
    // Eval saves one target per score; the others come from the CSV, whose row order the scores keep.
    const acc = parseCsv(readFileSync(truth, "utf8"), truth).rows.map((r) => Number(r[target]));
    if (acc.length !== b128.length || acc.some(Number.isNaN)) throw new Error(`${s.space}: ${target} is not numeric on every row`);
    const corr = (v) => `${f3(kendallTauB(v, acc.slice(0, v.length)))} | ${f3(spearmanRho(v, acc.slice(0, v.length)))}`;
    console.log(`### ${s.space}, ${target}\n`);
    console.log("| proxy | batch | n | Kendall tau-b | Spearman rho |\n|---|---|---|---|---|");
    for (const [name, batch, v] of [...full, ...partial]) console.log(`| ${String(name)} | ${String(batch)} | ${v.length} | ${corr(v)} |`);
    console.log(`| das_plus (shipped rule, in sample${s.targets[0] === target ? "" : `: fitted on ${s.targets[0]}`}) | 128 | ${shipped.length} | ${corr(shipped)} |\n`);
    // 2-fold: fit on even rows, Kendall on odd rows, and back (as das calibrate). DAS (its own rule
    // family, das calibrate) and DAS+ (the same fit as das calibrate --das-plus) against every single
    // proxy judged on the same held-out rows: all rows, then the first k (where the batch-32 proxies are).
    const dasFolds = das(["calibrate", "--space", s.space, "--truth", truth, "--target", target, "--scores-in", file(128)]).folds;
    const where = { space: s.space, dataset: "cifar10", batchSize: 128, target };
    const rowsOf = (parity, limit) => acc.map((_, i) => i).filter((i) => i % 2 === parity && i < limit);
    const plusFit = [0, 1].map((p) => calibrateDasPlus(rowsOf(p, Infinity).map((i) => features[i]), rowsOf(p, Infinity).map((i) => acc[i]), where, DAS_PLUS_FEATURES).rule);
    const heldOut = (limit, valueAt) => [0, 1].map((p) => { const test = rowsOf(1 - p, limit); return kendallTauB(test.map((i) => valueAt(i, p)), test.map((i) => acc[i])); });
    // With the batch-32 proxies on every row, one check over all rows with every proxy.
    const checks = k >= acc.length ? [["all", Infinity, [...full, ...partial]]] : [["all", Infinity, full], [`first ${k}`, k, [...full, ...partial]]];
    for (const [label, limit, singles] of checks) {
      const plus = heldOut(limit, (i, p) => applyDasPlusRule(plusFit[p], features[i]));
      const ranked = singles.map(([name, , v]) => ({ name, folds: heldOut(limit, (i) => v[i]) })).sort((a, b) => mean2(b.folds) - mean2(a.folds));
      oof.push({ where: `${s.space} ${target}`, rows: label === "all" ? acc.length : k, das: label === "all" ? dasFolds.map((f) => f.heldOutDas) : undefined, plus, best: ranked[0], second: ranked[1] });
    }
  }
}
console.log("### Out of fold: Kendall tau-b on held-out halves (fit on even rows, judged on odd rows, and back)\n");
console.log("| space, target | rows | DAS (2-fold fit) | DAS+ (2-fold fit) | DAS+ mean | best single proxy | its mean | runner-up |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of oof) {
  console.log(`| ${r.where} | ${r.rows} | ${r.das ? `${r.das.map(f3).join(" / ")} (mean ${f3(mean2(r.das))})` : "-"} | ${r.plus.map(f3).join(" / ")} | **${f3(mean2(r.plus))}** | ${r.best.name} (${r.best.folds.map(f3).join(" / ")}) | ${f3(mean2(r.best.folds))} | ${r.second.name} ${f3(mean2(r.second.folds))} |`);
}
