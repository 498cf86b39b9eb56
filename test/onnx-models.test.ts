import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  attr,
  buildNb201,
  DEFAULT_MODEL_LIMITS,
  encodeModel,
  exportNetwork,
  GraphBuilder,
  parseNb201,
  scoreModel,
  scoreNetwork,
  scoringBatch,
  validateModel,
  checkInformativeWeights,
  type DasError,
  type RuntimeConfig,
} from "../core/src/index.js";
import { ProtoWriter } from "../core/src/onnx/protobuf-writer.js";
import { nodeRuntime } from "../gpu-worker/src/runtime/node-runtime.js";
import { bundledCifar10, dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

/** The options `das score --space onnx` runs with (graph optimisation "all"). */
const runtime: RuntimeConfig = nodeRuntime({ threads: 2 });
const N = 16;
/**
 * Recorded scores of the shared real models: onnxruntime-node 1.30.0 on the CPU, this project's
 * host; identical with optimisation "all" and "disabled". Another CPU's kernels may round a
 * pre-activation near zero to the other sign, which moves D by about N / N_A times the kernel's
 * conditioning per flipped code; 1e-6 relative leaves room for a few on these small networks, while
 * one unit miscounted (N_A + 1) already moves D by 1e-5 relative or more.
 */
const RECORDED_REL_TOLERANCE = 1e-6;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as DasError).code ?? String(e);
  }
  return "ok";
}

async function codeOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as DasError).code ?? String(e);
  }
  return "ok";
}

/** A small valid CNN: Conv -> Relu -> GlobalAveragePool, with knobs to break it. */
function tinyModel(o: { opset?: number; op?: string; inputShape?: number[]; relu?: boolean; cycle?: boolean; dangling?: boolean; reshapeTo?: number[] } = {}): Uint8Array {
  const g = new GraphBuilder("tiny");
  const x = g.input("x", o.inputShape ?? [1, 3, 32, 32]);
  const w = g.initializer("w", [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
  let y = g.op(o.op ?? "Conv", [x, w], [1, 4, 30, 30], { kernel_shape: attr.ints([3, 3]) });
  if (o.relu !== false) y = g.op("Relu", [y], y.shape);
  if (o.reshapeTo) y = g.op("Reshape", [y, g.int64s("shape", o.reshapeTo)], o.reshapeTo);
  else y = g.op("GlobalAveragePool", [y], [1, 4, 1, 1]);
  g.output(y);
  const model = g.build(o.opset ?? 13);
  const nodes = [...model.graph.nodes];
  if (o.cycle) nodes[0] = { ...nodes[0], inputs: [nodes[1].outputs[0], nodes[0].inputs[1]] };
  if (o.dangling) nodes[1] = { ...nodes[1], inputs: ["nowhere"] };
  return encodeModel({ ...model, graph: { ...model.graph, nodes } });
}

describe("ONNX model validation: a corpus of broken files, each with its code", () => {
  const valid = tinyModel();

  it("accepts the valid tiny model", () => {
    expect(codeOf(() => validateModel(valid))).toBe("ok");
  });

  it.each([
    ["empty file", () => new Uint8Array(0), "MODEL_PARSE_ERROR"],
    ["truncated in half", () => valid.subarray(0, valid.length >> 1), "MODEL_PARSE_ERROR"],
    ["random bytes", () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24), "MODEL_PARSE_ERROR"],
    ["a PNG header", () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), "MODEL_PARSE_ERROR"],
    ["opset 3", () => tinyModel({ opset: 3 }), "UNSUPPORTED_OPSET"],
    ["opset 99", () => tinyModel({ opset: 99 }), "UNSUPPORTED_OPSET"],
    ["an unknown op", () => tinyModel({ op: "FancyConv" }), "UNSUPPORTED_OP"],
    ["control flow (Loop)", () => tinyModel({ op: "Loop" }), "UNSUPPORTED_OP"],
    ["a cycle", () => tinyModel({ cycle: true }), "INVALID_MODEL_GRAPH"],
    ["a tensor nothing defines", () => tinyModel({ dangling: true }), "INVALID_MODEL_GRAPH"],
    ["huge input dims", () => tinyModel({ inputShape: [1, 3, 100000, 100000] }), "INVALID_MODEL_INPUT"],
    ["a fixed batch too large for one run", () => tinyModel({ inputShape: [5000, 3, 512, 512] }), "INVALID_MODEL_INPUT"],
    ["a text-like 2-D input", () => tinyModel({ inputShape: [1, 512] }), "INVALID_MODEL_INPUT"],
    ["no Relu", () => tinyModel({ relu: false }), "NO_RELU"],
  ])("%s -> %s", (_, make, code) => {
    expect(codeOf(() => validateModel(make()))).toBe(code);
  });

  it("refuses a model with two image inputs", () => {
    const g = new GraphBuilder("two");
    const a = g.input("a", [1, 3, 32, 32]);
    const b = g.input("b", [1, 3, 32, 32]);
    const w = g.initializer("w", [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
    g.output(g.op("Relu", [g.op("Conv", [g.op("Add", [a, b], [1, 3, 32, 32]), w], [1, 4, 30, 30], { kernel_shape: attr.ints([3, 3]) })], [1, 4, 30, 30]));
    expect(codeOf(() => validateModel(encodeModel(g.build(13))))).toBe("INVALID_MODEL_INPUT");
  });

  it("refuses an image input that is not float32", () => {
    const g = new GraphBuilder("u8");
    const x = g.input("x", [1, 3, 32, 32], "uint8");
    const w = g.initializer("w", [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
    const xf = g.op("Cast", [x], [1, 3, 32, 32], { to: attr.int(1) });
    g.output(g.op("Relu", [g.op("Conv", [xf, w], [1, 4, 30, 30], { kernel_shape: attr.ints([3, 3]) })], [1, 4, 30, 30]));
    const bytes = encodeModel(g.build(13));
    expect(() => validateModel(bytes)).toThrow(/must be float32 or float64/);
    expect(codeOf(() => validateModel(bytes))).toBe("INVALID_MODEL_INPUT");
  });

  it("refuses weights kept in an external data file", () => {
    // A TensorProto with data_location EXTERNAL (14) and an external_data entry (13) naming the file,
    // appended to the valid model's graph (protobuf merges repeated fields by appending).
    const w = new ProtoWriter();
    w.message(7, (graph) =>
      graph.message(5, (t) => {
        t.packedInts(1, [4, 3, 3, 3]);
        t.int(2, 1);
        t.string(8, "external_w");
        t.message(13, (e) => e.string(1, "location").string(2, "weights.bin"));
        t.int(14, 1);
      }),
    );
    const ext = w.finish();
    const bytes = new Uint8Array(valid.length + ext.length);
    bytes.set(valid);
    bytes.set(ext, valid.length);
    expect(() => validateModel(bytes)).toThrow(/external file/);
    expect(codeOf(() => validateModel(bytes))).toBe("INVALID_MODEL_GRAPH");
  });

  it("refuses a model over the size limit before parsing it", () => {
    expect(codeOf(() => validateModel(valid, { ...DEFAULT_MODEL_LIMITS, maxBytes: 100 }))).toBe("MODEL_TOO_LARGE");
  });

  it("refuses initializers that declare more parameters than the limit", () => {
    const g = new GraphBuilder("huge");
    const x = g.input("x", [1, 3, 32, 32]);
    const w = g.initializer("w", [4, 3, 3, 3], new Float32Array(108).fill(0.5).map((v, i) => v + i));
    g.output(g.op("Relu", [g.op("Conv", [x, w], [1, 4, 30, 30])], [1, 4, 30, 30]));
    const m = g.build(13);
    const bytes = encodeModel({ ...m, graph: { ...m.graph, initializers: [...m.graph.initializers, { name: "big", dtype: "float32", dims: [100000, 100000], values: new Float32Array(0) }] } });
    expect(codeOf(() => validateModel(bytes))).toBe("MODEL_TOO_LARGE");
  });

  it("refuses dimensions whose product overflows (a NaN must not slip past the parameter limit)", () => {
    const m = new GraphBuilder("nan");
    const x = m.input("x", [1, 3, 32, 32]);
    const w = m.initializer("w", [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
    m.output(m.op("Relu", [m.op("Conv", [x, w], [1, 4, 30, 30])], [1, 4, 30, 30]));
    const spec = m.build(13);
    const bogus = { name: "b", dtype: "float32" as const, dims: [2 ** 52, 0], values: new Float32Array(0) };
    const later = { name: "c", dtype: "float32" as const, dims: [1e15], values: new Float32Array(0) };
    expect(codeOf(() => validateModel(encodeModel({ ...spec, graph: { ...spec.graph, initializers: [...spec.graph.initializers, bogus, later] } })))).toBe("MODEL_TOO_LARGE");
  });

  it("does not mistake omitted optional outputs (empty names) for a cycle", () => {
    const g = new GraphBuilder("opt");
    const x = g.input("x", [1, 3, 32, 32]);
    const w = g.initializer("w", [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
    const y = g.op("Relu", [g.op("Conv", [x, w], [1, 4, 30, 30])], [1, 4, 30, 30]);
    g.output(y);
    const spec = g.build(13);
    const nodes = [
      ...spec.graph.nodes,
      { op: "Dropout", inputs: [y.name], outputs: ["d1", ""], name: "drop1" },
      { op: "Dropout", inputs: ["d1", ""], outputs: ["d2", ""], name: "drop2" },
    ];
    expect(codeOf(() => validateModel(encodeModel({ ...spec, graph: { ...spec.graph, nodes } })))).toBe("ok");
  });

  it("refuses BatchNormalization in training mode (onnxruntime computes it differently per optimisation level)", () => {
    const g = new GraphBuilder("bn");
    const x = g.input("x", [1, 3, 8, 8]);
    const c = (n: string, v: number) => g.initializer(n, [3], new Float32Array(3).fill(v));
    const y = g.op("Relu", [g.op("BatchNormalization", [x, c("s", 1), c("b", 0), c("m", 0), c("v", 1)], [1, 3, 8, 8])], [1, 3, 8, 8]);
    g.output(y);
    const spec = g.build(15);
    const asTraining = spec.graph.nodes.map((n) => (n.op === "BatchNormalization" ? { ...n, attrs: { training_mode: attr.int(1) } } : n));
    expect(codeOf(() => validateModel(encodeModel(spec)))).toBe("ok");
    expect(codeOf(() => validateModel(encodeModel({ ...spec, graph: { ...spec.graph, nodes: asTraining } })))).toBe("UNSUPPORTED_OP");
  });

  it("turns a model that fails inside the runtime into a coded error, not a crash", async () => {
    // Reshape of 3600 values to [7, 11] passes validation and fails only when run.
    const bytes = tinyModel({ reshapeTo: [7, 11] });
    const plan = validateModel(bytes);
    const images = new Float32Array(N * 3 * 32 * 32);
    expect(await codeOfAsync(() => scoreModel(bytes, plan, images, N, runtime, 30_000))).toBe("INVALID_MODEL_GRAPH");
  });

  it("stops a run that outlasts the time limit with TIMEOUT", async () => {
    const plan = validateModel(valid);
    expect(await codeOfAsync(() => scoreModel(valid, plan, new Float32Array(N * 3 * 32 * 32), N, runtime, 0))).toBe("TIMEOUT");
  });
});

describe("scoring exported networks like built ones", () => {
  let images: Float32Array;
  beforeAll(() => {
    images = scoringBatch(bundledCifar10(), N, 1);
  });

  it.each([
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
  ])("an NB201 network exported to ONNX scores as the built network: %s", async (spec) => {
    const overrides = { stemChannels: 8, cellsPerStage: 2 };
    const bytes = exportNetwork("nb201", spec, 5, overrides);
    const built0 = buildNb201(parseNb201(spec), { batchSize: 1, seed: 5, overrides });
    const plan = validateModel(bytes);
    expect(plan.input.batch).toBe("dynamic");
    const fromOnnx = await scoreModel(bytes, plan, images, N, runtime, 60_000);
    const built = await scoreNetwork(buildNb201(parseNb201(spec), { batchSize: N, seed: 5, overrides }), images, runtime);
    expect(fromOnnx.mode).toBe("batch");
    expect(plan.params).toBe(built0.builder.params);
    expect(fromOnnx.activationUnits).toBe(built.activationUnits);
    expect(fromOnnx.reluCount).toBe(built.reluCount);
    expect(fromOnnx.wot).toBe(built.wot);
    expect(fromOnnx.distinguishing).toBe(built.distinguishing);
  });
});

describe.skipIf(!hasSharedData)(`real exported models (${hasSharedData ? "shared/data/onnx" : SKIP_NO_DATA})`, () => {
  it.each([
    ["cntk_mnist8_opset8.onnx", { mode: "per-image", channels: 1, units: 9408, wot: 98.27236296490105, distinguishing: -48.116687757313485 }],
    ["pytorch2.0_burn_mnist_opset16.onnx", { mode: "per-image", channels: 1, units: 26272, wot: 116.02919254749179, distinguishing: -46.79095164854268 }],
    ["pytorch1.13_tiny_mnist_pool_dynbatch_opset13.onnx", { mode: "batch", channels: 1, units: 10816, wot: 106.51117071556948, distinguishing: -42.10933805695444 }],
    ["pytorch1.7_lenet5_opset10.onnx", { mode: "per-image", channels: 1, units: 8064, wot: 97.16508441140289, distinguishing: -46.757555433575504 }],
    ["pytorch1.6_resnet20_cifar_opset9.onnx", { mode: "per-image", channels: 3, units: 188416, wot: 163.3486756798966, distinguishing: -30.993845331438415 }],
    ["tf2onnx1.6_cifar_cnn_nhwc_opset8.onnx", { mode: "batch", channels: 3, layout: "NHWC", units: 40704, wot: 137.65554111386263, distinguishing: -32.169765233334076 }],
  ])("%s scores as recorded", async (file, expected) => {
    const bytes = new Uint8Array(readFileSync(dataFile(`onnx/${file}`)));
    const plan = validateModel(bytes);
    expect(plan.input.channels).toBe(expected.channels);
    expect(plan.input.layout).toBe("layout" in expected ? expected.layout : "NCHW");
    const c = plan.input.channels;
    const images = Float32Array.from({ length: N * c * (plan.input.height as number) * (plan.input.width as number) }, (_, i) => Math.sin(i * 0.37));
    const s = await scoreModel(bytes, plan, images, N, runtime, 60_000);
    expect(s.mode).toBe(expected.mode);
    expect(s.activationUnits).toBe(expected.units);
    expect(Math.abs(s.wot - expected.wot) / Math.abs(expected.wot)).toBeLessThanOrEqual(RECORDED_REL_TOLERANCE);
    expect(Math.abs(s.distinguishing - expected.distinguishing) / Math.abs(expected.distinguishing)).toBeLessThanOrEqual(RECORDED_REL_TOLERANCE);
    expect(s.params).toBeGreaterThan(1000);
  });

  it("refuses a model without Relu with NO_RELU", () => {
    expect(codeOf(() => validateModel(new Uint8Array(readFileSync(dataFile("onnx/pytorch1.13_cifar100_selu_NO_RELU_opset14.onnx")))))).toBe("NO_RELU");
  });

  it("refuses a structural export's constant-filled weights with DEGENERATE_WEIGHTS when they are to be kept", () => {
    const plan = validateModel(new Uint8Array(readFileSync(dataFile("onnx/caffe2_light_squeezenet_opset9.onnx"))));
    expect(codeOf(() => checkInformativeWeights(plan))).toBe("DEGENERATE_WEIGHTS");
  });
});
