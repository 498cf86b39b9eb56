// `npm run bench:browser [-- --repeats 3 --model FILE]`: the dashboard's in-browser scoring of an ONNX
// model (core's uploaded-model path on onnxruntime-web, WebAssembly, in headless Debian Chromium)
// beside `das score --space onnx` (onnxruntime-node) on the same file, interleaved, with the WOT of
// each. Serves dashboard/dist itself (with its cross-origin isolation headers) on a free loopback
// port; no API is needed for scoring (the page's percentile lookup just finds no server).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const repeats = Number(arg("repeats", "3"));
const model = resolve(arg("model", join(ROOT, "../shared/data/onnx/pytorch1.6_resnet20_cifar_opset9.onnx")));
const CHROMIUM = process.env.DAS_CHROMIUM ?? "/usr/bin/chromium";
const DIST = join(ROOT, "dashboard/dist");
for (const [what, path] of [["the model", model], ["Chromium", CHROMIUM], ["the dashboard's build (npm run build)", join(DIST, "index.html")]]) {
  if (!existsSync(path)) throw new Error(`${what} is missing: ${path}`);
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".bin": "application/octet-stream", ".gz": "application/gzip" };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(DIST, path === "/" ? "index.html" : path);
  if (!file.startsWith(DIST) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
  res.end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/#/model`;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });

async function inBrowser() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.setInputFiles("#model-file", model);
  await page.waitForSelector("#model-score:not([disabled])");
  await page.click("#model-score");
  await page.waitForSelector("#model-metrics, #model-result .note.error", { timeout: 600_000 });
  const m = await page.$eval("#model-metrics", (t) => ({ ...t.dataset }));
  await context.close();
  return { wot: Number(m.wot), ms: Number(m.scoreMs), loadMs: Number(m.loadMs) };
}

function inNode() {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [join(ROOT, "gpu-worker/dist/cli/main.js"), "score", "--space", "onnx", "--model", model, "--json"], { encoding: "utf8" });
  const r = JSON.parse(out.trim().split("\n").pop());
  return { wot: r.wot, ms: r.durationMs, wallMs: performance.now() - t0 };
}

const runs = [];
for (let i = 0; i < repeats; i++) runs.push({ browser: await inBrowser(), node: inNode() });
const version = browser.version();
await browser.close();
server.close();
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const b = median(runs.map((r) => r.browser.ms));
const n = median(runs.map((r) => r.node.ms));
console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; ${model.split("/").pop()}, batch 128, default protocol; ${repeats} interleaved runs`);
console.log(`browser (Chromium ${version}, onnxruntime-web wasm): ${runs.map((r) => r.browser.ms.toFixed(0)).join(" / ")} ms scoring (+ ${median(runs.map((r) => r.browser.loadMs)).toFixed(0)} ms loading the runtime), WOT ${runs[0].browser.wot.toFixed(4)}`);
console.log(`node (das score, onnxruntime-node): ${runs.map((r) => r.node.ms.toFixed(0)).join(" / ")} ms scoring (${median(runs.map((r) => r.node.wallMs)).toFixed(0)} ms for the whole process), WOT ${runs[0].node.wot.toFixed(4)}`);
console.log(`median browser / node: ${(b / n).toFixed(1)}x; |WOT difference| ${Math.abs(runs[0].browser.wot - runs[0].node.wot).toExponential(2)}`);
