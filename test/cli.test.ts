import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../gpu-worker/dist/cli/main.js");
const SPEC = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

const cacheDir = mkdtempSync(join(tmpdir(), "das-cache-"));

function das(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, DAS_CACHE_DIR: cacheDir, ...env },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trim().split("\n").filter(Boolean) };
}

describe("das CLI", () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
  });

  it("scores one architecture as JSON with the contract's fields, on the bundled data", () => {
    const r = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "32", "--json"], { DAS_DATA_DIR: "" });
    expect(r.status).toBe(0);
    const s = JSON.parse(r.lines[0]);
    for (const k of ["arch", "archId", "activationUnits", "distinguishing", "wot", "das", "singular", "params", "flops", "durationMs", "provider"]) {
      expect(s).toHaveProperty(k);
    }
    expect(s.arch).toBe(SPEC);
    expect(s.params).toBe(802426);
    expect(s.das).toEqual({ value: expect.any(Number), rule: expect.any(String), parameters: expect.any(Object) });
    expect(s.wot).toBeCloseTo(32 * Math.log(s.activationUnits) + s.distinguishing, 9);
    expect(s.provider).toBe("cpu");
  });

  it("measures the tap strategies once per machine and batch size, then reuses the choice", () => {
    const first = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "24", "--json"]);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/\[tap\] measured gram-int8 [\d.]+ ms, gram-f32 [\d.]+ ms, bits [\d.]+ ms -> /);
    const choice = JSON.parse(readFileSync(join(cacheDir, "tap-choice.json"), "utf8"));
    const entry = Object.values(choice).find((c) => (c as { batchSize: number }).batchSize === 24) as { strategy: string };
    expect(JSON.parse(first.lines[0]).tapStrategy).toBe(entry.strategy);
    const second = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "24", "--json"]);
    expect(second.stderr).not.toMatch(/\[tap\] measured/);
    expect(JSON.parse(second.lines[0]).wot).toBe(JSON.parse(first.lines[0]).wot);
  });

  it("scores a list on worker threads with the same results, in order, and a bad spec failing alone", () => {
    const specs = readFileSync(resolve(dirname(CLI), "../../data/nb201-sample.txt"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("|"));
    expect(specs.length).toBeGreaterThanOrEqual(8);
    const file = join(mkdtempSync(join(tmpdir(), "das-pool-")), "archs.txt");
    writeFileSync(file, [...specs.slice(0, 4), "|nor_conv_3x3~0|+|bogus~0|", ...specs.slice(4)].join("\n"));
    const args = ["score", "--space", "nb201", "--archs", file, "--batch-size", "16", "--width", "8", "--depth", "1", "--tap", "gram-f32", "--json", "--quiet"];
    const pooled = das([...args, "--workers", "2"]);
    const single = das([...args, "--workers", "1"]);
    expect(pooled.status).toBe(2);
    expect(single.status).toBe(2);
    expect(pooled.lines.length).toBe(specs.length + 1);
    const bad = JSON.parse(pooled.lines[4]);
    expect(bad.error.code).toBe("INVALID_ARCH_SPEC");
    pooled.lines.forEach((line, i) => {
      const p = JSON.parse(line);
      const q = JSON.parse(single.lines[i]);
      if (i === 4) return expect(q.error.code).toBe(p.error.code);
      expect(p.arch).toBe(q.arch);
      expect(p.wot).toBe(q.wot);
      expect(p.activationUnits).toBe(q.activationUnits);
    });
  });

  it("gives the same scores from the bundled 512 images as from the full train-4000.bin", () => {
    const bundled = JSON.parse(das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "16", "--json"]).lines[0]);
    if (!hasSharedData) return console.warn(SKIP_NO_DATA);
    const full = JSON.parse(das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "16", "--json", "--data-dir", dataFile("")]).lines[0]);
    expect(full.wot).toBe(bundled.wot);
  });

  it("reports a bad spec as a coded JSON error, goes on with the next input and exits 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "das-cli-"));
    const file = join(dir, "archs.txt");
    writeFileSync(file, `# two specs\n|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|\n${SPEC}\n`);
    const r = das(["score", "--space", "nb201", "--archs", file, "--batch-size", "8", "--json", "--quiet"]);
    expect(r.status).toBe(2);
    expect(r.lines).toHaveLength(2);
    const bad = JSON.parse(r.lines[0]);
    expect(bad.error.code).toBe("INVALID_ARCH_SPEC");
    expect(bad.error.message).toContain("bogus");
    expect(JSON.parse(r.lines[1]).arch).toBe(SPEC);
  });

  it("rejects bad flags with INVALID_ARGUMENT and exit 2", () => {
    const r = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT: --batch-size/);
    expect(das(["score", "--space", "nb999", "--arch", SPEC]).stderr).toMatch(/UNKNOWN_SEARCH_SPACE/);
    expect(das(["score", "--space", "nb201", "--arch", SPEC, "--frobnicate"]).status).toBe(2);
  });

  it("scores an exported NB201 network as an ONNX model, and reports bad models as coded JSON errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "das-onnx-"));
    const model = join(dir, "net.onnx");
    const cell = "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|";
    expect(das(["export", "--space", "nb201", "--arch", cell, "--out", model]).status).toBe(0);
    const broken = join(dir, "broken.onnx");
    writeFileSync(broken, readFileSync(model).subarray(0, 100));
    const r = das(["score", "--space", "onnx", "--model", model, broken, "--batch-size", "16", "--json", "--quiet"]);
    expect(r.status).toBe(2);
    const [ok, bad] = r.lines.map((l) => JSON.parse(l));
    const native = JSON.parse(das(["score", "--space", "nb201", "--arch", cell, "--batch-size", "16", "--json", "--tap", "bits"]).lines[0]);
    expect(ok).toMatchObject({ space: "onnx", mode: "batch", dataset: "cifar10", activationUnits: native.activationUnits, reluCount: native.reluCount });
    expect(ok.wot).toBeCloseTo(native.wot, 0); // same network; optimised graphs differ in float rounding only
    expect(bad).toEqual({ model: broken, error: { code: "MODEL_PARSE_ERROR", message: expect.any(String) } });
  });

  it.skipIf(!hasSharedData)(`trains a small network and reports test accuracy as JSON (${hasSharedData ? "shared CIFAR-10" : SKIP_NO_DATA})`, () => {
    const r = das(["train", "--space", "nb201", "--arch", SPEC, "--steps", "4", "--width", "4", "--depth", "1", "--batch-size", "16", "--eval-images", "500", "--data-dir", dataFile(""), "--json"]);
    expect(r.status).toBe(0);
    const final = JSON.parse(r.lines[r.lines.length - 1]);
    expect(final).toMatchObject({ space: "nb201", steps: 4, testImages: 500 });
    expect(final.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(final.testAccuracy).toBeLessThanOrEqual(1);
    expect(final.loss).toBeGreaterThan(0);
    expect(das(["train", "--space", "nb201", "--arch", SPEC, "--steps", "2"], { DAS_DATA_DIR: "" }).stderr).toMatch(/INVALID_DATASET: training needs/);
  });

  it.skipIf(!hasSharedData)(`evaluates proxies against ground truth (${hasSharedData ? "first 40 dev architectures" : SKIP_NO_DATA})`, () => {
    const r = das(["eval", "--space", "nb201", "--truth", dataFile("nb201/accuracy-dev.csv"), "--target", "cifar10_test_acc", "--limit", "40", "--batch-size", "32", "--json", "--quiet"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.lines[0]);
    expect(report).toMatchObject({ space: "nb201", n: 40, target: "cifar10_test_acc" });
    for (const p of ["wot", "das", "activation_units", "distinguishing", "params", "flops"]) {
      expect(report.proxies[p].kendall).toBeGreaterThanOrEqual(-1);
      expect(report.proxies[p].kendall).toBeLessThanOrEqual(1);
    }
    // WOT ranks NB201 well even on 40 architectures (0.574 published on the whole space).
    expect(report.proxies.wot.kendall).toBeGreaterThan(0.35);
  });
});
