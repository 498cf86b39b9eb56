/**
 * Uploaded models as people export them: a fixed batch other than 1 (run in chunks, the kernel
 * still over all N images), free spatial sizes, another size or channel count (images adapted),
 * architecture-only scoring (`weights: "init"`: PyTorch's default initialisation from the seed,
 * BatchNorm on batch statistics) against the file's own weights, and the user's own images.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  attr,
  decodeModel,
  encodeModel,
  exportNetwork,
  GraphBuilder,
  initialiseWeights,
  resolveModelProtocol,
  scoreUploadedModel,
  validateModel,
  type RuntimeConfig,
} from "../core/src/index.js";
import { das, tempDir } from "./helpers/cli.js";
import { bundledCifar10, bundledMnist, dataFile, hasSharedData } from "./shared-data.js";
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|";
const SMALL = { stemChannels: 8, cellsPerStage: 1 };
const N = 32;

const score = (bytes: Uint8Array, input: Parameters<typeof resolveModelProtocol>[0] = {}) =>
  scoreUploadedModel({ bytes, protocol: resolveModelProtocol({ batchSize: N, ...input }), images: (d) => (d.name === "mnist" ? bundledMnist() : bundledCifar10()), runtime });

/** A conv net on a [batch, C, H, W] input whose dims may be symbolic: Conv-Relu-Conv-Relu-GlobalAveragePool. */
function tinyNet(inputDims: (number | string)[], seed = 3): Uint8Array {
  const g = new GraphBuilder("tiny");
  const c = inputDims[1] as number;
  // Shapes here only annotate the graph; the input's declared dims (symbolic ones included) are set below.
  const x = g.input("x", [1, c, 8, 8]);
  const w1 = g.initializer("w1", [6, c, 3, 3], Float32Array.from({ length: 6 * c * 9 }, (_, i) => Math.sin(i * 1.7 + seed)));
  const w2 = g.initializer("w2", [8, 6, 3, 3], Float32Array.from({ length: 8 * 6 * 9 }, (_, i) => Math.cos(i * 0.9 + seed)));
  const h1 = g.op("Relu", [g.op("Conv", [x, w1], [1, 6, 8, 8], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })], [1, 6, 8, 8]);
  const h2 = g.op("Relu", [g.op("Conv", [h1, w2], [1, 8, 3, 3], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) })], [1, 8, 3, 3]);
  g.output(g.op("GlobalAveragePool", [h2], [1, 8, 1, 1]));
  const model = g.build(13);
  return encodeModel({ ...model, graph: { ...model.graph, inputs: [{ ...model.graph.inputs[0], shape: inputDims }], outputs: model.graph.outputs.map((o) => ({ ...o, shape: ["n", 8, 1, 1] })) } });
}

describe("a fixed batch other than 1", () => {
  it("is run in chunks of its batch (the last padded, the padding dropped) and scores as the free-batch export", async () => {
    // BatchNorm as a model in eval mode exports it: each image's activations do not depend on the others.
    const as = (batch?: number) => exportNetwork("nb201", CELL, 7, SMALL, { batch, batchNormStats: "running" });
    const free = await score(as(), { weights: "keep" });
    const one = await score(as(1), { weights: "keep" });
    const ten = await score(as(10), { weights: "keep" });
    expect([free.mode, one.mode, ten.mode, ten.chunk]).toEqual(["batch", "per-image", "chunked", 10]);
    for (const s of [one, ten]) {
      expect(s.activationUnits).toBe(free.activationUnits);
      expect(s.wot).toBe(free.wot);
      expect(s.distinguishing).toBe(free.distinguishing);
      expect(s.flops).toBe(free.flops);
    }
  });
});

describe("free spatial sizes and adapted images", () => {
  it("runs free height and width at the dataset's size, with nothing adapted", async () => {
    const s = await score(tinyNet(["batch", 3, "height", "width"]), { weights: "keep" });
    expect(s.dataset).toBe("cifar10");
    expect(s).not.toHaveProperty("inputAdaptation");
    expect(s.activationUnits).toBe(6 * 32 * 32 + 8 * 15 * 15);
  });

  it("resizes CIFAR-10 to a 64x64 input and maps channels for a 1-channel input, recording what it did", async () => {
    const big = await score(tinyNet([1, 3, 64, 64]), { weights: "keep" });
    expect(big.inputAdaptation).toEqual({ from: [3, 32, 32], to: [3, 64, 64], resize: "bilinear", channels: "none" });
    expect(big.activationUnits).toBe(6 * 64 * 64 + 8 * 31 * 31);
    const gray = await score(tinyNet(["n", 1, 32, 32]), { weights: "keep", dataset: "cifar10" });
    expect(gray.inputAdaptation).toEqual({ from: [3, 32, 32], to: [1, 32, 32], resize: "none", channels: "luma" });
    await expect(score(tinyNet([1, 3, 64, 64]), { adapt: false })).rejects.toMatchObject({ code: "INPUT_SHAPE_MISMATCH" });
  });
});

describe("architecture-only scoring (weights: init)", () => {
  it("re-draws Conv weights with PyTorch's default bounds, 1/sqrt(fan_in), from the seed", () => {
    const bytes = exportNetwork("nb201", CELL, 7, SMALL, { batchNormStats: "running" });
    const plan = validateModel(bytes);
    const a = initialiseWeights(bytes, plan.model, 11, plan.opset);
    const b = initialiseWeights(bytes, plan.model, 11, plan.opset);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const drawn = decodeModel(a.bytes);
    const convs = drawn.nodes.filter((n) => n.op === "Conv");
    expect(a.redrawn).toBe(new Set(convs.map((n) => n.inputs[1])).size + drawn.nodes.filter((n) => n.op === "Gemm").length);
    const byName = new Map(drawn.initializers.map((i) => [i.name, i]));
    for (const n of convs) {
      const w = byName.get(n.inputs[1])!;
      const fanIn = w.dims.slice(1).reduce((x, y) => x * y, 1);
      const bound = 1 / Math.sqrt(fanIn);
      const v = Array.from(w.floats!);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      if (v.length >= 500) {
        // U(-b, b): mean 0, variance b^2 / 3, and values near both ends.
        const mean = v.reduce((x, y) => x + y, 0) / v.length;
        const variance = v.reduce((x, y) => x + (y - mean) ** 2, 0) / v.length;
        expect(Math.abs(mean)).toBeLessThan(0.1 * bound);
        expect(variance / (bound * bound / 3)).toBeGreaterThan(0.85);
        expect(variance / (bound * bound / 3)).toBeLessThan(1.15);
        expect(Math.max(...v)).toBeGreaterThan(0.95 * bound);
      }
    }
    expect(a.batchNorms).toBeGreaterThan(0);
    // BatchNorm: gamma 1, beta 0.
    const bn = drawn.nodes.find((n) => n.op === "BatchNormalization")!;
    expect(Array.from(byName.get(bn.inputs[1])!.floats!).every((x) => x === 1)).toBe(true);
    expect(Array.from(byName.get(bn.inputs[2])!.floats!).every((x) => x === 0)).toBe(true);
  });

  it("gives identical scores for one seed, and another score for another seed", async () => {
    const bytes = exportNetwork("nb201", CELL, 7, SMALL, { batchNormStats: "running" });
    const [a, b, c] = await Promise.all([score(bytes, { seed: 4 }), score(bytes, { seed: 4 }), score(bytes, { seed: 5 })]);
    expect(a.weights).toMatchObject({ mode: "init", kept: [] });
    expect(b.wot).toBe(a.wot);
    expect(b.distinguishing).toBe(a.distinguishing);
    expect(c.wot).not.toBe(a.wot);
  });

  it.skipIf(!hasSharedData)("differs from the trained weights of a real model (keep), which it can score when they are constant fills", async () => {
    const resnet = new Uint8Array(readFileSync(dataFile("onnx/pytorch1.6_resnet20_cifar_opset9.onnx")));
    const [init, keep] = await Promise.all([score(resnet), score(resnet, { weights: "keep" })]);
    expect(init.protocolHash).not.toBe(keep.protocolHash);
    expect(Math.abs(init.wot - keep.wot)).toBeGreaterThan(1);
    expect(init.weights).toMatchObject({ mode: "init", redrawn: 22, batchNorms: 21 });
    const squeeze = new Uint8Array(readFileSync(dataFile("onnx/caffe2_light_squeezenet_opset9.onnx")));
    await expect(score(squeeze, { weights: "keep" })).rejects.toMatchObject({ code: "DEGENERATE_WEIGHTS" });
    const s = await score(squeeze);
    // SqueezeNet 1.1: 1,235,496 parameters, its weights drawn into new initializers.
    expect(s.params).toBe(1_235_496);
    expect(s.inputAdaptation).toMatchObject({ to: [3, 224, 224], resize: "bilinear" });
  });
});

describe("the user's own images (das score --images)", () => {
  it("scores on a .npy batch, records its checksum, and refuses --mean with a .npy", () => {
    const dir = tempDir("own-images");
    const [n, c, h, w] = [N, 3, 32, 32];
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${c}, ${h}, ${w}), }`.padEnd(118, " ") + "\n";
    const data = Buffer.alloc(n * c * h * w * 4);
    for (let i = 0; i < n * c * h * w; i++) data.writeFloatLE(Math.sin(i * 0.013) * 1.5, i * 4);
    const npy = Buffer.concat([Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0]), Buffer.from([header.length & 0xff, header.length >> 8]), Buffer.from(header, "latin1"), data]);
    writeFileSync(join(dir, "batch.npy"), npy);
    writeFileSync(join(dir, "net.onnx"), tinyNet(["n", 3, 32, 32]));
    const r = das(["score", "--space", "onnx", "--model", join(dir, "net.onnx"), "--batch-size", String(N), "--images", join(dir, "batch.npy"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = r.json()[0];
    expect(rec.images.source).toBe("custom");
    expect(rec.images.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.protocol.images).toBe(rec.images.sha256);
    const other = das(["score", "--space", "onnx", "--model", join(dir, "net.onnx"), "--batch-size", String(N), "--json"]).json()[0];
    expect(other.images.source).toBe("cifar10");
    expect(other.wot).not.toBe(rec.wot);
    const bad = das(["score", "--space", "onnx", "--model", join(dir, "net.onnx"), "--images", join(dir, "batch.npy"), "--mean", "0.5", "--std", "0.5"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--mean and --std apply to a folder/);
  });

  it("scores on a folder of PNG files normalised with --mean/--std (one value: grayscale), adapted to the model", () => {
    const dir = tempDir("own-png");
    for (let k = 0; k < N; k++) {
      const png = new PNG({ width: 20, height: 20 });
      for (let i = 0; i < 400; i++) png.data.set([(i * 7 + k * 13) % 256, (i * 3 + k) % 256, (i + k * 29) % 256, 255], i * 4);
      writeFileSync(join(dir, `img-${String(k).padStart(3, "0")}.png`), PNG.sync.write(png));
    }
    writeFileSync(join(dir, "net.onnx"), tinyNet(["n", 1, 28, 28]));
    const args = ["score", "--space", "onnx", "--model", join(dir, "net.onnx"), "--batch-size", String(N), "--images", dir, "--json"];
    const r = das([...args, "--mean", "0.5", "--std", "0.25"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = r.json()[0];
    expect(rec.images.source).toBe("custom");
    expect(rec.inputAdaptation).toEqual({ from: [1, 20, 20], to: [1, 28, 28], resize: "bilinear", channels: "none" });
    expect(das([...args, "--mean", "0.5"]).stderr).toMatch(/--mean has 1 values and --std|needs --mean and --std/);
  });
});
