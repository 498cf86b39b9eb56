// `npm run onnx:corpus`: scores every real export (../shared/data/onnx and test/fixtures/onnx-corpus)
// with `das score --space onnx` and the defaults (weights init, images adapted, batch 128, seed 1),
// one markdown row per model: the table of docs/benchmarks.md, section 4. Extra arguments go to
// `das score` (e.g. --weights keep).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const dirs = [resolve(ROOT, "../shared/data/onnx"), join(ROOT, "test/fixtures/onnx-corpus")].filter((d) => existsSync(d));
const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".onnx")).sort().map((f) => join(d, f)));
const fixed = (v) => (v === null ? "-inf" : v.toFixed(1));
console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; das score --space onnx ${process.argv.slice(2).join(" ")}\n`);
console.log("| model | outcome | mode (layout) | data | adapted | N_A | D | WOT | params | flops | time (ms) |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const f of files) {
  const r = spawnSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), "score", "--space", "onnx", "--model", f, "--json", "--quiet", ...process.argv.slice(2)], { encoding: "utf8" });
  const j = JSON.parse(r.stdout.trim().split("\n").at(-1));
  const name = f.split("/").at(-1).replace(".onnx", "");
  if (j.error) {
    console.log(`| ${name} | \`${j.error.code}\` | | | | | | | | | |`);
    continue;
  }
  const a = j.inputAdaptation;
  const adapted = a ? `${a.from.join("x")} -> ${a.to.join("x")}${a.channels !== "none" ? ` (${a.channels})` : ""}` : "";
  const mode = j.mode === "chunked" ? `chunked ${j.chunk}` : j.mode;
  console.log(`| ${name} | scored | ${mode} (${j.layout}) | ${j.dataset} | ${adapted} | ${j.activationUnits} | ${fixed(j.distinguishing)} | ${fixed(j.wot)} | ${j.params} | ${j.flops} | ${Math.round(j.durationMs)} |`);
}
