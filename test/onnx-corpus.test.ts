/**
 * Every real export we have, as a user would score it with the defaults (weights re-drawn, images
 * adapted): the 14 of test/fixtures/onnx-corpus (PROVENANCE.md there) and the 8 of
 * ../shared/data/onnx. Each is scored, with what was done recorded, or refused with its code;
 * docs/onnx.md explains each outcome.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { resolveModelProtocol, scoreUploadedModel, type RuntimeConfig } from "../core/src/index.js";
import { ROOT } from "./helpers/cli.js";
import { bundledCifar10, bundledMnist, dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const N = 16;

type Expected =
  | { readonly code: string }
  | { readonly dataset: "cifar10" | "mnist"; readonly mode: "batch" | "per-image" | "chunked"; readonly to?: readonly [number, number, number]; readonly layout?: "NHWC" };

const CORPUS: Record<string, Expected> = {
  "caffe2_light_shufflenet_3x224x224_opset9.onnx": { dataset: "cifar10", mode: "per-image", to: [3, 224, 224] },
  "chainer5.4_mnist_RGB_3x28x28_opset9.onnx": { dataset: "cifar10", mode: "per-image", to: [3, 28, 28] },
  "djl-enpasos_mnist_1x28x28_dup_output_opset15.onnx": { dataset: "mnist", mode: "per-image" },
  "keras2onnx1.5_mnist_NHWC_28x28x1_dynbatch_opset10.onnx": { dataset: "mnist", mode: "batch", layout: "NHWC" },
  "matlab19.1_objrec_3x150x150_opset8.onnx": { dataset: "cifar10", mode: "per-image", to: [3, 150, 150] },
  "matlab20.2_trafficlight_3x50x20_dynbatch_opset8.onnx": { dataset: "cifar10", mode: "batch", to: [3, 50, 20] },
  "pytorch0.3_mnist_cnn_batch64_opset6.onnx": { code: "UNSUPPORTED_OPSET" },
  "pytorch1.11_fall_cnn_1x28x28_batch17370_2outputs_opset9.onnx": { dataset: "mnist", mode: "chunked" },
  "pytorch2.0_armor_gray_1x50x50_dynbatch_opset14.onnx": { dataset: "mnist", mode: "batch", to: [1, 50, 50] },
  "pytorch2.1_defect_3x100x100_sigmoid1_opset17.onnx": { dataset: "cifar10", mode: "per-image", to: [3, 100, 100] },
  "pytorch2.4_gtsrb_3x32x32_43cls_opset11.onnx": { dataset: "cifar10", mode: "per-image" },
  "pytorch2.7_cnn_3x224x224_dynbatch_opset17.onnx": { dataset: "cifar10", mode: "batch", to: [3, 224, 224] },
  "tf2onnx1.12_mathsym_NHWC_64x64x3_DOUBLE_dynbatch_opset17.onnx": { dataset: "cifar10", mode: "batch", to: [3, 64, 64], layout: "NHWC" },
  "tf2onnx1.16_braintumor_NHWC_224x224x3_dynbatch_opset15.onnx": { dataset: "cifar10", mode: "batch", to: [3, 224, 224], layout: "NHWC" },
};

const SHARED: Record<string, Expected> = {
  "caffe2_light_squeezenet_opset9.onnx": { dataset: "cifar10", mode: "per-image", to: [3, 224, 224] },
  "cntk_mnist8_opset8.onnx": { dataset: "mnist", mode: "per-image" },
  "pytorch1.13_cifar100_selu_NO_RELU_opset14.onnx": { code: "NO_RELU" },
  "pytorch1.13_tiny_mnist_pool_dynbatch_opset13.onnx": { dataset: "mnist", mode: "batch" },
  "pytorch1.6_resnet20_cifar_opset9.onnx": { dataset: "cifar10", mode: "per-image" },
  "pytorch1.7_lenet5_opset10.onnx": { dataset: "mnist", mode: "per-image" },
  "pytorch2.0_burn_mnist_opset16.onnx": { dataset: "mnist", mode: "per-image" },
  "tf2onnx1.6_cifar_cnn_nhwc_opset8.onnx": { dataset: "cifar10", mode: "batch", layout: "NHWC" },
};

async function check(bytes: Uint8Array, expected: Expected) {
  const run = scoreUploadedModel({ bytes, protocol: resolveModelProtocol({ batchSize: N }), images: (d) => (d.name === "mnist" ? bundledMnist() : bundledCifar10()), runtime });
  if ("code" in expected) {
    await expect(run).rejects.toMatchObject({ code: expected.code });
    return;
  }
  const s = await run;
  expect(s.dataset).toBe(expected.dataset);
  expect(s.mode).toBe(expected.mode);
  expect(s.layout).toBe(expected.layout ?? "NCHW");
  expect(s.weights.mode).toBe("init");
  if (expected.to) expect(s.inputAdaptation?.to).toEqual(expected.to);
  else expect(s).not.toHaveProperty("inputAdaptation");
  expect(Number.isFinite(s.wot) && Number.isFinite(s.distinguishing)).toBe(true);
  expect(s.activationUnits).toBeGreaterThan(0);
  expect(s.params).toBeGreaterThan(0);
}

describe("the gathered corpus of real exports (test/fixtures/onnx-corpus)", () => {
  it.each(Object.entries(CORPUS))("%s", async (file, expected) => {
    await check(new Uint8Array(readFileSync(join(ROOT, "test/fixtures/onnx-corpus", file))), expected);
  });
});

describe.skipIf(!hasSharedData)(`the shared real exports (${hasSharedData ? "../shared/data/onnx" : SKIP_NO_DATA})`, () => {
  it.each(Object.entries(SHARED))("%s", async (file, expected) => {
    await check(new Uint8Array(readFileSync(dataFile(`onnx/${file}`))), expected);
  });
});
