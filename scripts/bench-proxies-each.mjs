// `npm run bench:proxies -- --each [--limit 5]`: what each proxy adds to WOT, per space, in ms per
// architecture: WOT alone, then WOT with one proxy, side by side on the same architectures (the
// first rows of each dev CSV), batch 32 as the reference proxies were computed, one at a time.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const DATA = resolve(ROOT, "../shared/data");
const { GRADIENT_PROXIES, getSpace, parseCsv, specOfRow } = await import(join(ROOT, "core/dist/index.js"));
const { ScoringSession } = await import(join(ROOT, "gpu-worker/dist/cli/scoring-session.js"));

export async function benchEach({ limit, batchSize }) {
  const spaces = [
    ["nb201", "nb201/accuracy-dev.csv"],
    ["nb101", "nb101/accuracy-dev.csv"],
    ["darts", "nb301/accuracy-dev.csv"],
  ];
  const names = GRADIENT_PROXIES.map((p) => p.name);
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; first ${limit} dev rows per space, batch ${batchSize}, onnxruntime CPU`);
  console.log("median ms per architecture: WOT alone, and what each proxy adds to it (WOT + proxy, minus WOT alone)\n");
  console.log(`| space | WOT | ${names.map((n) => `+ ${n}`).join(" | ")} | + all (shared passes) |`);
  console.log(`|---|---|${names.map(() => "---|").join("")}---|`);
  for (const [space, csv] of spaces) {
    const rows = parseCsv(readFileSync(join(DATA, csv), "utf8"), csv).rows.slice(0, limit);
    const specs = rows.map((r) => specOfRow(getSpace(space), r));
    const setup = (proxies) => ({ space, protocol: { dataset: "cifar10", batchSize, seed: 1, overrides: {} }, tap: "auto", provider: "cpu", workers: 1, dataDir: join(ROOT, "gpu-worker/data"), quiet: true, proxies });
    const sessions = [[], ...names.map((n) => [n]), names].map((p) => ScoringSession.create(setup(p)));
    const opened = await Promise.all(sessions);
    const times = opened.map(() => []);
    for (const spec of specs) {
      // Interleaved per architecture, so drift in the machine's speed hits every column alike.
      for (const [k, s] of opened.entries()) {
        const t = performance.now();
        await s.score(spec);
        times[k].push(performance.now() - t);
      }
    }
    const wot = median(times[0]);
    const added = times.slice(1).map((t) => median(t.map((v, i) => v - times[0][i])));
    console.log(`| ${space} | ${wot.toFixed(0)} | ${added.map((a) => a.toFixed(0)).join(" | ")} |`);
  }
}
