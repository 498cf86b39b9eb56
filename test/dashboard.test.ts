/**
 * The dashboard (dashboard/, served by the Worker as static assets) in headless Debian Chromium,
 * against the real local stack of `npm start` on free ports: every page loads without console
 * errors; a batch submitted from the Batch page reaches 100% on its progress bar and its points
 * appear on the Scores page; the Model page scores an ONNX file in the browser (onnxruntime-web)
 * with the WOT of `das score --space onnx` for the same file, and no request carries the model's
 * bytes. Screenshots of each page go to test-results/screenshots/ (not committed).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";
import { hasChromium, launchChromium, SKIP_NO_CHROMIUM, watchedPage, type WatchedPage } from "./helpers/browser.js";
import { startLocalStack, type LocalStack } from "./helpers/local-stack.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const SCREENSHOTS = join(ROOT, "test-results/screenshots");
const MODEL = dataFile("onnx/pytorch1.6_resnet20_cifar_opset9.onnx");
/**
 * Browser and CLI run the same core code on onnxruntime's CPU kernels (WebAssembly vs native), so
 * only float32 rounding in the convolutions may flip a unit's code near zero: WOT within 1e-4
 * relative (about 0.15 for this model's 1447), N_A exactly.
 */
const WOT_RELATIVE_TOLERANCE = 1e-4;
/** Small NB201 cells of the benchmark's dev sample, scored at batch 16: quick on a CPU. */
const SPECS = [
  "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
  "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
  "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|",
  "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
];
const BATCH_SIZE = 16;

let stack: LocalStack;
let browser: Browser;

async function gql(query: string): Promise<any> {
  const r = await fetch(`${stack.edge}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const body = (await r.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

async function open(route: string, ready: string): Promise<WatchedPage> {
  const w = await watchedPage(browser);
  await w.page.goto(`${stack.edge}/#/${route}`);
  await w.page.waitForSelector(ready, { timeout: 60_000 });
  return w;
}

const shot = (w: WatchedPage, name: string) => w.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!hasChromium)(`the dashboard in headless Chromium (${hasChromium ? "Debian chromium, playwright-core" : SKIP_NO_CHROMIUM})`, () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startLocalStack();
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 120_000);

  it("serves the dashboard at / and keeps the API, health and unknown paths on the Worker", async () => {
    const index = await fetch(`${stack.edge}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    // Cross-origin isolation (dashboard/public/_headers) lets onnxruntime-web use threads.
    expect(index.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(await index.text()).toContain("DAS dashboard");
    expect((await fetch(`${stack.edge}/ort/ort-wasm-simd-threaded.wasm`)).headers.get("content-type")).toBe("application/wasm");
    expect((await fetch(`${stack.edge}/healthz`)).status).toBe(200);
    expect((await gql("{ __typename }")).__typename).toBe("Query");
    expect((await fetch(`${stack.edge}/no-such-page`)).status).toBe(404);
  });

  it("loads each page without console errors", async () => {
    const pages: [route: string, ready: string][] = [
      ["scores", "#scores-status .note, #scores-stats .stat"],
      ["batch", "#batch-submit"],
      ["model", "#model-drop"],
      ["dtb", "#dtb-records tbody tr"],
    ];
    for (const [route, ready] of pages) {
      const w = await open(route, ready);
      await w.page.waitForTimeout(500);
      await shot(w, route);
      expect(w.errors, `${route}: ${w.errors.join("; ")}`).toEqual([]);
      await w.page.context().close();
    }
  });

  it("submits a batch from the Batch page: the progress bar reaches 100% and the results fill in; the Scores page plots them", async () => {
    const w = await open("batch", "#batch-submit");
    await w.page.fill("#api-key", stack.apiKey);
    await w.page.press("#api-key", "Tab");
    await w.page.fill("textarea[name=specs]", SPECS.join("\n"));
    await w.page.fill("input[name=batchSize]", String(BATCH_SIZE));
    await w.page.click("#batch-submit");
    await w.page.waitForFunction(() => document.querySelector<HTMLElement>("#batch-percent")?.dataset.percent === "100", null, { timeout: 180_000 });
    const bar = await w.page.$eval("#batch-progress", (p) => ({ value: (p as HTMLProgressElement).value, max: (p as HTMLProgressElement).max }));
    expect(bar).toEqual({ value: SPECS.length, max: SPECS.length });
    await w.page.waitForFunction((n) => document.querySelectorAll(".item-scored").length === n, SPECS.length, { timeout: 30_000 });
    await shot(w, "batch");
    expect(w.errors).toEqual([]);
    await w.page.context().close();

    // The benchmark accuracies: npm start loads them from ../shared/data; without them there is nothing to plot.
    if (!hasSharedData) return console.warn(`Scores page with points: ${SKIP_NO_DATA}`);
    const { benchmarkTargets } = await gql("{ benchmarkTargets { space target count } }");
    if (!benchmarkTargets.some((t: any) => t.space === "NB201" && t.target === "cifar10_test_acc")) {
      execFileSync(process.execPath, [CLI, "truth", "push", "--space", "nb201", "--csv", dataFile("nb201/accuracy-dev.csv"), "--target", "cifar10_test_acc", "--endpoint", stack.s3], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      });
    }
    const s = await open("scores", "#scores-stats .stat, #scores-status .note");
    await s.page.selectOption("select[name=space]", "NB201");
    await s.page.selectOption("select[name=target]", "cifar10_test_acc");
    await s.page.fill("input[name=batchSize]", String(BATCH_SIZE));
    await s.page.press("input[name=batchSize]", "Tab");
    await s.page.waitForFunction((n) => document.querySelector("#stat-n b")?.textContent === String(n), SPECS.length, { timeout: 60_000 });
    expect(await s.page.locator("#scores-chart svg circle").count()).toBe(SPECS.length);
    expect(await s.page.textContent("#stat-kendall")).toMatch(/Kendall τ-b -?\d\.\d{3}/);
    expect(await s.page.locator(".data-table tbody tr").count()).toBe(SPECS.length);
    await shot(s, "scores");
    expect(s.errors).toEqual([]);
    await s.page.context().close();
  });

  it.skipIf(!hasSharedData)(`scores ${hasSharedData ? "pytorch1.6_resnet20_cifar_opset9.onnx" : SKIP_NO_DATA} in the browser with das score's WOT, sending none of its bytes until "Score on the server"`, async () => {
    const model = readFileSync(MODEL);
    const w = await open("model", "#model-drop");
    // At the batch test's protocol, so the percentile's population (its NB201 cells) is not empty.
    await w.page.fill("input[name=batchSize]", String(BATCH_SIZE));
    await w.page.setInputFiles("#model-file", MODEL);
    await w.page.waitForSelector("#model-score:not([disabled])");
    await w.page.click("#model-score");
    await w.page.waitForSelector("#model-metrics, #model-result .note.error", { timeout: 300_000 });
    const metrics = await w.page.$eval("#model-metrics", (t) => {
      const { wot, scoreMs, loadMs } = (t as HTMLElement).dataset;
      return { wot, scoreMs, loadMs, na: t.querySelector("[data-metric=N_A]")?.textContent };
    });
    await w.page.waitForSelector("#model-percentile .note");

    const t0 = performance.now();
    const out = execFileSync(process.execPath, [CLI, "score", "--space", "onnx", "--model", MODEL, "--batch-size", String(BATCH_SIZE), "--json"], { encoding: "utf8" });
    const cliWallMs = performance.now() - t0;
    const cli = JSON.parse(out.trim().split("\n").pop()!);
    const browserWot = Number(metrics.wot);
    console.log(
      `[dashboard] ${MODEL.split("/").pop()}: WOT browser ${browserWot.toFixed(4)} vs CLI ${cli.wot.toFixed(4)} (|diff| ${Math.abs(browserWot - cli.wot).toExponential(2)}); ` +
        `scoring time browser (onnxruntime-web, wasm) ${Number(metrics.scoreMs).toFixed(0)} ms (+ ${Number(metrics.loadMs).toFixed(0)} ms loading the runtime) vs CLI (onnxruntime-node) ${cli.durationMs.toFixed(0)} ms (${cliWallMs.toFixed(0)} ms for the whole process)`,
    );
    expect(Math.abs(browserWot - cli.wot)).toBeLessThanOrEqual(WOT_RELATIVE_TOLERANCE * Math.abs(cli.wot));
    expect(metrics.na).toBe(cli.activationUnits.toLocaleString("en-US"));

    // The WOT percentile among the NB201 cells the batch test cached at this protocol, by hand.
    const cached = await gql(`{ scores(input: {space: NB201, specs: ${JSON.stringify(SPECS)}, protocol: {batchSize: ${BATCH_SIZE}}}) { wot } }`);
    const wots = (cached.scores as { wot: number }[]).map((x) => x.wot);
    expect(wots).toHaveLength(SPECS.length);
    const below = wots.filter((v) => v < browserWot).length + wots.filter((v) => v === browserWot).length / 2;
    await w.page.waitForSelector("#model-percentile-value, #model-percentile .note.error", { timeout: 30_000 });
    const shown = (await w.page.textContent("#model-percentile")) ?? "";
    const [, percentile, size] = /WOT percentile ([\d.]+) among (\d+) NB201 cached scores/.exec(shown) ?? [];
    expect(Number(size), shown).toBe(SPECS.length);
    expect(Number(percentile), shown).toBeCloseTo((100 * below) / wots.length, 1);

    // No request carries the model: nothing but small bodies, no upload, and no 64-byte run of the file in any body.
    const probes = [0.25, 0.5, 0.75].map((f) => model.subarray(Math.floor(f * model.length), Math.floor(f * model.length) + 64));
    for (const r of w.requests) {
      expect(r.method, r.url).not.toBe("PUT");
      expect(r.body?.length ?? 0, r.url).toBeLessThan(16_384);
      for (const p of probes) expect(r.body?.includes(p) ?? false, r.url).toBe(false);
      if (/^https?:/.test(r.url)) expect(new URL(r.url).origin, r.url).toBe(stack.edge);
    }
    expect(w.requests.some((r) => r.url.endsWith("/data/cifar10/train-512.bin"))).toBe(true);

    // Only "Score on the server" sends it: a presigned PUT of the file, then das serve's score (onnxruntime-node, as the CLI).
    await w.page.fill("#api-key", stack.apiKey);
    await w.page.press("#api-key", "Tab");
    await w.page.click("#model-server");
    await w.page.waitForSelector("#model-server-metrics, #model-server-result .note.error", { timeout: 180_000 });
    expect(await w.page.textContent("#model-server-result")).not.toMatch(/error|refused/i);
    const serverWot = Number(await w.page.$eval("#model-server-metrics", (t) => (t as HTMLElement).dataset.wot));
    expect(Math.abs(serverWot - cli.wot)).toBeLessThanOrEqual(WOT_RELATIVE_TOLERANCE * Math.abs(cli.wot));
    expect(w.requests.filter((r) => r.method === "PUT" && r.body?.equals(model))).toHaveLength(1);
    await shot(w, "model");
    expect(w.errors).toEqual([]);
    await w.page.context().close();
  });
  // Each test may wait minutes on a slow machine (the model's scoring, das serve's queue): above the project's 120 s.
}, 400_000);
