import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attr, encodeModel, GraphBuilder, reviveScore } from "../core/src/index.js";
import { das, tempDir } from "./helpers/cli.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const NB201_DISCONNECTED = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
const NB101 = '{"adjacency": [[0,1,1,0,1],[0,0,0,1,0],[0,0,0,1,0],[0,0,0,0,1],[0,0,0,0,0]], "ops": ["input","conv3x3-bn-relu","maxpool3x3","conv1x1-bn-relu","output"]}';
const DARTS =
  "Genotype(normal=[('sep_conv_3x3', 0), ('none', 1), ('dil_conv_5x5', 0), ('skip_connect', 1), ('max_pool_3x3', 2), ('avg_pool_3x3', 3), ('skip_connect', 0), ('sep_conv_5x5', 4)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('none', 1), ('dil_conv_3x3', 2), ('max_pool_3x3', 1), ('none', 0), ('none', 1), ('sep_conv_3x3', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
/** Recorded scores (batch 16 of the bundled images, seed 1); tolerance as in test/cli.test.ts. */
const RECORDED = {
  nb101: { params: 12962698, activationUnits: 3571712, wot: 232.16290223681418, distinguishing: -9.25398721323899 },
  darts: { params: 736234, activationUnits: 2056192, wot: 221.69923781070088, distinguishing: -10.882622771876314 },
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
/** DAS under a linear rule: D + alpha * N log N_A (WOT at alpha = 1). */
const linearDas = (s: { distinguishing: number; logActivationUnits: number; batchSize: number }, alpha: number) => s.distinguishing + alpha * s.batchSize * s.logActivationUnits;

/** A small 1x28x28 CNN (Conv, Relu, pool, Gemm) as an MNIST model would be exported. */
function mnistModel(): Uint8Array {
  const g = new GraphBuilder("mnist");
  const x = g.input("x", [1, 1, 28, 28]);
  const w = g.initializer("w", [4, 1, 3, 3], Float32Array.from({ length: 36 }, (_, i) => Math.sin(1.3 * i)));
  const y = g.op("Relu", [g.op("Conv", [x, w], [1, 4, 26, 26], { kernel_shape: attr.ints([3, 3]) })], [1, 4, 26, 26]);
  const p = g.op("Flatten", [g.op("GlobalAveragePool", [y], [1, 4, 1, 1])], [1, 4], { axis: attr.int(1) });
  const fc = g.initializer("fc", [4, 10], Float32Array.from({ length: 40 }, (_, i) => Math.cos(0.7 * i)));
  g.output(g.op("MatMul", [p, fc], [1, 10]));
  return encodeModel(g.build(13));
}

describe("the search spaces through the CLI", () => {
  it("scores an NB101 cell and a DARTS genotype with their recorded values and each space's default DAS rule", () => {
    for (const [space, spec] of [["nb101", NB101], ["darts", DARTS]] as const) {
      const r = das(["score", "--space", space, "--arch", spec, "--batch-size", "16", "--tap", "gram-int8", "--json"]);
      expect(r.status).toBe(0);
      const [s] = r.json();
      expect(s.space).toBe(space);
      expect(s.params).toBe(RECORDED[space].params);
      expect(s.activationUnits).toBe(RECORDED[space].activationUnits);
      expect(rel(s.wot, RECORDED[space].wot)).toBeLessThanOrEqual(1e-6);
      expect(rel(s.distinguishing, RECORDED[space].distinguishing)).toBeLessThanOrEqual(1e-6);
      expect(s.das.rule).toBe("linear");
      expect(s.das.value).toBeCloseTo(linearDas(s, s.das.parameters.alpha), 9);
    }
  });

  it("reads --archs as a CSV with the space's spec column (quoted, beside other columns)", () => {
    const file = join(tempDir("csv"), "archs.csv");
    writeFileSync(file, `index,arch,accuracy\n0,"${NB201}",93.66\n1,${NB201_DISCONNECTED},10.0\n`);
    const r = das(["score", "--space", "nb201", "--archs", file, "--batch-size", "8", "--tap", "gram-int8", "--json"]);
    expect(r.status).toBe(0);
    expect(r.json().map((s) => s.arch)).toEqual([NB201, NB201_DISCONNECTED]);
  });

  it.skipIf(!hasSharedData)(`reads NB101 adjacency and ops columns from a CSV and matches the benchmark's parameter counts (${hasSharedData ? "shared NB101 dev rows" : SKIP_NO_DATA})`, () => {
    const lines = readFileSync(dataFile("nb101/accuracy-dev.csv"), "utf8").split("\n");
    const file = join(tempDir("csv101"), "nb101.csv");
    writeFileSync(file, lines.slice(0, 4).join("\n") + "\n");
    const r = das(["score", "--space", "nb101", "--archs", file, "--batch-size", "8", "--width", "16", "--depth", "1", "--tap", "gram-int8", "--json", "--quiet"]);
    expect(r.status).toBe(0);
    expect(r.json()).toHaveLength(3);
    // Sized down for speed: the spec and id are the benchmark's, the sizes are recorded in the score.
    for (const s of r.json()) expect(s.overrides).toEqual({ stemChannels: 16, cellsPerStack: 1 });
    const full = das(["score", "--space", "nb101", "--archs", file, "--batch-size", "8", "--tap", "gram-int8", "--json", "--quiet"]).json();
    const params = lines.slice(1, 4).map((l) => Math.round(Number(l.split(",").at(-1)) * 1e6));
    expect(full.map((s) => s.params)).toEqual(params);
  });

  it("prints a singular kernel as wot: null with singular: true, and reviveScore restores -Infinity", () => {
    const r = das(["score", "--space", "nb201", "--arch", NB201_DISCONNECTED, "--batch-size", "16", "--tap", "gram-int8", "--json"]);
    expect(r.status).toBe(0);
    const [raw] = r.json();
    expect(raw).toMatchObject({ singular: true, wot: null, distinguishing: null, das: { value: null } });
    expect(raw.activationUnits).toBeGreaterThan(0);
    const revived = reviveScore(raw);
    expect(revived.wot).toBe(-Infinity);
    expect(revived.distinguishing).toBe(-Infinity);
    expect(revived.das.value).toBe(-Infinity);
    expect(revived.activationUnits).toBe(raw.activationUnits);
  });
});

describe("MNIST", () => {
  it("scores a 1x28x28 ONNX model on the bundled MNIST images, with or without --dataset mnist; on CIFAR-10 adapted (luma, 32 -> 28) or, with --no-adapt, refused", () => {
    const model = join(tempDir("mnist"), "mnist.onnx");
    writeFileSync(model, mnistModel());
    const explicit = das(["score", "--space", "onnx", "--model", model, "--dataset", "mnist", "--batch-size", "16", "--json"]);
    expect(explicit.status).toBe(0);
    const [s] = explicit.json();
    expect(s).toMatchObject({ space: "onnx", dataset: "mnist", mode: "per-image", activationUnits: 4 * 26 * 26, singular: false });
    expect(Number.isFinite(s.wot)).toBe(true);
    const inferred = das(["score", "--space", "onnx", "--model", model, "--batch-size", "16", "--json"]).json()[0];
    expect(inferred.dataset).toBe("mnist");
    expect(inferred.wot).toBe(s.wot);
    const adapted = das(["score", "--space", "onnx", "--model", model, "--dataset", "cifar10", "--batch-size", "16", "--json"]);
    expect(adapted.status, adapted.stderr).toBe(0);
    expect(adapted.json()[0].inputAdaptation).toEqual({ from: [3, 32, 32], to: [1, 28, 28], resize: "bilinear", channels: "luma" });
    expect(adapted.stderr).toMatch(/images adapted 3x32x32 -> 1x28x28 \(resize bilinear, channels luma\)/);
    const wrong = das(["score", "--space", "onnx", "--model", model, "--dataset", "cifar10", "--batch-size", "16", "--no-adapt", "--json"]);
    expect(wrong.status).toBe(2);
    expect(wrong.json()[0].error.code).toBe("INPUT_SHAPE_MISMATCH");
  });

  it("refuses MNIST for the 3-channel search spaces", () => {
    const r = das(["score", "--space", "nb201", "--arch", NB201, "--dataset", "mnist"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_DATASET/);
  });
});

describe("exit statuses", () => {
  it.each([
    { name: "help", args: ["help"], status: 0, message: /das score/ },
    { name: "no command", args: [], status: 2, message: /das score/ },
    { name: "an unknown command", args: ["frobnicate"], status: 2, message: /unknown command 'frobnicate'/ },
    { name: "an unknown flag (INVALID_ARGUMENT)", args: ["score", "--space", "nb201", "--arch", NB201, "--frobnicate"], status: 2, message: /INVALID_ARGUMENT/ },
    { name: "a flag out of range (INVALID_ARGUMENT)", args: ["score", "--space", "nb201", "--arch", NB201, "--batch-size", "1"], status: 2, message: /INVALID_ARGUMENT: --batch-size/ },
    { name: "an unknown space (UNKNOWN_SEARCH_SPACE)", args: ["score", "--space", "nb999", "--arch", NB201], status: 2, message: /UNKNOWN_SEARCH_SPACE/ },
    { name: "an unknown data set (INVALID_DATASET)", args: ["score", "--space", "nb201", "--arch", NB201, "--dataset", "imagenet"], status: 2, message: /INVALID_DATASET/ },
    { name: "a missing --archs file (INVALID_ARGUMENT)", args: ["score", "--space", "nb201", "--archs", "/nonexistent/archs.txt"], status: 2, message: /INVALID_ARGUMENT: cannot read/ },
    { name: "a truth CSV without the target column (INVALID_CSV)", args: ["eval", "--space", "nb201", "--truth", "gpu-worker/data/nb201-sample.txt", "--target", "acc"], status: 2, message: /INVALID_CSV/ },
  ])("$name exits $status", ({ args, status, message }) => {
    const r = das(args);
    expect(r.status).toBe(status);
    expect(r.stdout + r.stderr).toMatch(message);
  });

  it("an invalid spec in a list fails its own line (INVALID_ARCH_SPEC) and the run exits 2", () => {
    const r = das(["score", "--space", "nb201", "--arch", NB201, "--arch", "|bogus~0|", "--batch-size", "8", "--tap", "gram-int8", "--json"]);
    expect(r.status).toBe(2);
    expect(r.json().map((s) => s.error?.code ?? "ok")).toEqual(["ok", "INVALID_ARCH_SPEC"]);
  });

  it("a failure that is not the input's fault (the runtime cannot start its CUDA provider) exits 1", (ctx) => {
    const r = das(["score", "--space", "nb201", "--arch", NB201, "--provider", "cuda", "--tap", "gram-int8", "--batch-size", "8", "--json"]);
    if (r.status === 0) ctx.skip("this machine has a working CUDA provider, so nothing fails");
    expect(r.json()[0].error.code).toBe("RUNTIME_FAILURE");
    expect(r.status).toBe(1);
  });
});

describe("tools", () => {
  it("das gradcheck passes every rule and exits 0, printing each rule's worst error as JSON", () => {
    const r = das(["gradcheck", "--json"]);
    expect(r.status).toBe(0);
    const [report] = r.json();
    expect(report.passed).toBe(true);
    expect(report.tolerance).toBe(0.01);
    for (const rule of ["Conv", "BatchNormalization", "Relu", "Add", "Concat", "Gemm"]) {
      if (!(rule in report.rules)) continue;
      expect(report.rules[rule]).toBeGreaterThanOrEqual(0);
      expect(report.rules[rule]).toBeLessThan(0.01);
    }
    expect(Object.keys(report.rules).length).toBeGreaterThanOrEqual(10);
  });

  it("das bench --json reports scoring against the forward pass side by side, with the machine", () => {
    const file = join(tempDir("bench"), "archs.txt");
    writeFileSync(file, `${NB201}\n|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|\n`);
    const r = das(["bench", "--archs", file, "--batch-size", "16", "--width", "4", "--depth", "1", "--repeats", "1", "--train-archs", "0", "--tap", "gram-int8", "--json"]);
    expect(r.status).toBe(0);
    const [b] = r.json();
    expect(b).toMatchObject({ space: "nb201", batchSize: 16, archs: 2, tapStrategy: "gram-int8", provider: "cpu", workers: expect.any(Number) });
    expect(b.machine).toMatch(/cores/);
    for (const k of ["scoringOverForward", "medianSecondsPerArch", "pooledSecondsPerArch", "medianForwardMs", "medianScoringMs", "gemmGflops"]) expect(b[k], k).toBeGreaterThan(0);
    expect(b.rows).toHaveLength(2);
    // The ratio is what its name says, per row: taps and kernel over the plain forward run.
    for (const row of b.rows) expect(row.ratio).toBeCloseTo((row.tapsRunMs + row.kernelMs) / row.forwardMs, 6);
  });
});
