import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { das, ROOT, tempDir } from "./helpers/cli.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const SPEC = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const SAMPLE = readFileSync(join(ROOT, "gpu-worker/data/nb201-sample.txt"), "utf8")
  .split("\n")
  .filter((l) => l.startsWith("|"));
/**
 * Recorded with onnxruntime-node 1.30.0 on the CPU, batch 32 of the bundled images, seed 1. On this
 * host every tap strategy and optimisation level gives these exact numbers (test/engine-taps.test.ts);
 * another CPU's float kernels may round a pre-activation near zero to the other sign, and each such
 * flip moves D by about N / N_A times the kernel's conditioning. 1e-6 relative leaves room for a few;
 * a wrong kernel formula, rule, batch or network moves the scores far more. Faults as small as a unit
 * miscounted are the exact tests' job (engine-taps, onnx-models).
 */
const RECORDED = { activationUnits: 471040, wot: 395.66569746795057, distinguishing: -22.34064797469247 };
const REL_TOLERANCE = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Every metric a score record carries, for comparing two runs of the same architecture. */
const METRICS = ["arch", "archId", "activationUnits", "logActivationUnits", "distinguishing", "wot", "das", "singular", "params", "flops", "reluCount"] as const;

describe("das score", () => {
  it("scores one architecture as JSON with the contract's fields and the recorded values, on the bundled data", () => {
    const r = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "32", "--json"]);
    expect(r.status).toBe(0);
    const [s] = r.json();
    for (const k of ["arch", "archId", "activationUnits", "distinguishing", "wot", "das", "singular", "params", "flops", "durationMs", "provider", "engineVersion", "runtime", "tapStrategy", "timings"]) {
      expect(s).toHaveProperty(k);
    }
    expect(s.arch).toBe(SPEC);
    expect(s.archId).toMatch(/^[0-9a-f]{64}$/);
    expect(s.params).toBe(802426);
    expect(s.activationUnits).toBe(RECORDED.activationUnits);
    expect(rel(s.wot, RECORDED.wot)).toBeLessThanOrEqual(REL_TOLERANCE);
    expect(rel(s.distinguishing, RECORDED.distinguishing)).toBeLessThanOrEqual(REL_TOLERANCE);
    // The default DAS rule on NB201 at initialisation is WOT itself (alpha 1).
    expect(s.das).toEqual({ value: s.wot, rule: "linear", parameters: { alpha: 1 } });
    expect(s.singular).toBe(false);
    expect(s.provider).toBe("cpu");
  });

  it("measures the tap strategies once per machine and batch size, then reuses the choice", () => {
    const cacheDir = tempDir("tap-cache");
    const first = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "24", "--json"], { cacheDir });
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/\[tap\] measured gram-int8 [\d.]+ ms, gram-f32 [\d.]+ ms, bits [\d.]+ ms -> /);
    const choice = JSON.parse(readFileSync(join(cacheDir, "tap-choice.json"), "utf8")) as Record<string, { batchSize: number; strategy: string }>;
    const entry = Object.values(choice).find((c) => c.batchSize === 24)!;
    expect(first.json()[0].tapStrategy).toBe(entry.strategy);
    const second = das(["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "24", "--json"], { cacheDir });
    expect(second.stderr).not.toMatch(/\[tap\] measured/);
    expect(second.json()[0].wot).toBe(first.json()[0].wot);
  });

  it("scores a list on worker threads (two of them ran) with the same results, in order, and a bad spec failing alone", () => {
    expect(SAMPLE.length).toBeGreaterThanOrEqual(8);
    const file = join(tempDir("pool"), "archs.txt");
    writeFileSync(file, [...SAMPLE.slice(0, 4), "|nor_conv_3x3~0|+|bogus~0|", ...SAMPLE.slice(4)].join("\n"));
    const args = ["score", "--space", "nb201", "--archs", file, "--batch-size", "16", "--width", "8", "--depth", "1", "--tap", "gram-f32", "--json"];
    const pooled = das([...args, "--workers", "2"]);
    const single = das([...args, "--workers", "1"]);
    expect(pooled.stderr).toMatch(new RegExp(`\\[score\\] ${SAMPLE.length} scored, 1 failed, on 2 worker threads`));
    expect(single.stderr).toMatch(new RegExp(`\\[score\\] ${SAMPLE.length} scored, 1 failed, on 1 thread`));
    expect(pooled.status).toBe(2);
    expect(single.status).toBe(2);
    expect(pooled.lines.length).toBe(SAMPLE.length + 1);
    const [p, q] = [pooled.json(), single.json()];
    expect(p[4].error.code).toBe("INVALID_ARCH_SPEC");
    expect(q[4].error.code).toBe("INVALID_ARCH_SPEC");
    p.forEach((s, i) => {
      if (i === 4) return;
      for (const k of METRICS) expect(s[k], `${k} of line ${i}`).toEqual(q[i][k]);
    });
  });

  it.skipIf(!hasSharedData)(`gives the same scores from the bundled 512 images as from the full train-4000.bin (${hasSharedData ? "shared CIFAR-10" : SKIP_NO_DATA})`, () => {
    const args = ["score", "--space", "nb201", "--arch", SPEC, "--batch-size", "16", "--json"];
    const bundled = das(args);
    const full = das([...args, "--data-dir", dataFile("")]);
    expect(bundled.status).toBe(0);
    expect(full.status).toBe(0);
    for (const k of METRICS) expect(full.json()[0][k]).toEqual(bundled.json()[0][k]);
  });

  it("reports a bad spec as a coded JSON error, goes on with the next input and exits 2", () => {
    const file = join(tempDir("cli"), "archs.txt");
    writeFileSync(file, `# two specs\n|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|\n${SPEC}\n`);
    const r = das(["score", "--space", "nb201", "--archs", file, "--batch-size", "8", "--json", "--quiet"]);
    expect(r.status).toBe(2);
    expect(r.lines).toHaveLength(2);
    const [bad, ok] = r.json();
    expect(bad.error.code).toBe("INVALID_ARCH_SPEC");
    expect(bad.error.message).toContain("bogus");
    expect(ok.arch).toBe(SPEC);
  });

  it("scores an exported NB201 network as an ONNX model exactly as the built network, and reports bad models as coded JSON errors", () => {
    const dir = tempDir("onnx");
    const model = join(dir, "net.onnx");
    const cell = "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|";
    expect(das(["export", "--space", "nb201", "--arch", cell, "--out", model]).status).toBe(0);
    const broken = join(dir, "broken.onnx");
    writeFileSync(broken, readFileSync(model).subarray(0, 100));
    const r = das(["score", "--space", "onnx", "--model", model, broken, "--batch-size", "16", "--json", "--quiet"]);
    expect(r.status).toBe(2);
    const [ok, bad] = r.json();
    const [native] = das(["score", "--space", "nb201", "--arch", cell, "--batch-size", "16", "--json", "--tap", "bits"]).json();
    expect(ok).toMatchObject({ space: "onnx", mode: "batch", dataset: "cifar10", activationUnits: native.activationUnits, reluCount: native.reluCount, params: native.params });
    // The same network with the same weights: its codes, so its kernel, are the same (measured bit-identical;
    // the exported graph is optimised apart from the built one, so a flip within rounding of zero is allowed).
    expect(rel(ok.wot, native.wot)).toBeLessThanOrEqual(REL_TOLERANCE);
    expect(rel(ok.distinguishing, native.distinguishing)).toBeLessThanOrEqual(REL_TOLERANCE);
    expect(bad).toEqual({ model: broken, error: { code: "MODEL_PARSE_ERROR", message: expect.any(String) } });
  });
});

describe.skipIf(!hasSharedData)(`das train (${hasSharedData ? "shared CIFAR-10" : SKIP_NO_DATA})`, () => {
  it("trains a small network and reports test accuracy as JSON", () => {
    const r = das(["train", "--space", "nb201", "--arch", SPEC, "--steps", "4", "--width", "4", "--depth", "1", "--batch-size", "16", "--eval-images", "500", "--data-dir", dataFile(""), "--json"]);
    expect(r.status).toBe(0);
    const final = JSON.parse(r.lines[r.lines.length - 1]);
    expect(final).toMatchObject({ space: "nb201", steps: 4, testImages: 500 });
    // Accuracy on 500 test images is a count of them over 500.
    expect(final.testAccuracy * 500).toBeCloseTo(Math.round(final.testAccuracy * 500), 6);
    expect(final.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(final.testAccuracy).toBeLessThanOrEqual(1);
    expect(final.loss).toBeGreaterThan(0);
  });
});

it("das train without the full CIFAR-10 files says what it needs (INVALID_DATASET, exit 2)", () => {
  const r = das(["train", "--space", "nb201", "--arch", SPEC, "--steps", "2"]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/INVALID_DATASET: training needs/);
});
