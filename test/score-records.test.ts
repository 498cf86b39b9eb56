import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  DATASETS,
  DEFAULT_PROTOCOL,
  exportNetwork,
  protocolHash,
  resolveModelProtocol,
  resolveProtocol,
  scoreArchitecture,
  scoreModel,
  scoreUploadedModel,
  scoringBatch,
  sha256Hex,
  validateModel,
  type RuntimeConfig,
} from "../core/src/index.js";
import { bundledCifar10, bundledMnist } from "./shared-data.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } };
const CELL = "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|";
const N = 16;

describe("score records", () => {
  it("a search-space score carries its protocol, protocol hash, device and time", async () => {
    const protocol = resolveProtocol("nb201", { batchSize: N, width: 4, depth: 1 });
    const images = scoringBatch(bundledCifar10(), N, protocol.seed, DATASETS.cifar10.mean, DATASETS.cifar10.std);
    const s = await scoreArchitecture({ space: "nb201", spec: CELL, protocol }, images, runtime);
    expect(s).toMatchObject({ dataset: "cifar10", batchSize: N, seed: 1, overrides: { stemChannels: 4, cellsPerStage: 1 }, protocol, device: "cpu" });
    expect(s.protocolHash).toBe(await protocolHash(protocol));
    expect(Date.parse(s.computedAt)).not.toBeNaN();
  });

  it("an uploaded model's record is assembled in core: same metrics as scoreModel, sha256 as its id, the dataset from its input", async () => {
    const bytes = exportNetwork("nb201", CELL, 1);
    // Weights kept: the record must equal scoreModel on the file as it is.
    const protocol = resolveModelProtocol({ batchSize: N, weights: "keep" });
    expect(protocol).not.toHaveProperty("dataset");
    const loaded: string[] = [];
    const record = await scoreUploadedModel({
      bytes,
      protocol,
      images: (d) => {
        loaded.push(d.name);
        return bundledCifar10();
      },
      runtime,
      name: "net.onnx",
    });
    expect(loaded).toEqual(["cifar10"]);
    const sha = await sha256Hex(bytes);
    const images = scoringBatch(bundledCifar10(), N, 1, DATASETS.cifar10.mean, DATASETS.cifar10.std);
    const direct = await scoreModel(bytes, validateModel(bytes), images, N, runtime, 60_000);
    expect(record).toMatchObject({
      space: "onnx",
      model: "net.onnx",
      arch: sha,
      archId: sha,
      dataset: "cifar10",
      protocol: { ...DEFAULT_PROTOCOL, batchSize: N, weights: "keep", adapt: true },
      weights: { mode: "keep" },
      images: { source: "cifar10", sha256: await sha256Hex(new Uint8Array(images.buffer)) },
      wot: direct.wot,
      activationUnits: direct.activationUnits,
      params: direct.params,
      device: "cpu",
    });
    expect(record.protocolHash).toBe(await protocolHash({ ...DEFAULT_PROTOCOL, batchSize: N, weights: "keep", adapt: true }));
    expect(record).not.toHaveProperty("inputAdaptation");
  });

  it("adapts a dataset that does not fit the model's input, or refuses it with adaptation off", async () => {
    const bytes = exportNetwork("nb201", CELL, 1);
    const mnist = () => bundledMnist();
    const on = await scoreUploadedModel({ bytes, protocol: resolveModelProtocol({ batchSize: N, dataset: "mnist" }), images: mnist, runtime });
    expect(on.inputAdaptation).toEqual({ from: [1, 28, 28], to: [3, 32, 32], resize: "bilinear", channels: "repeat" });
    expect(on.images.source).toBe("mnist");
    expect(Number.isFinite(on.wot)).toBe(true);
    const off = resolveModelProtocol({ batchSize: N, dataset: "mnist", adapt: false });
    await expect(scoreUploadedModel({ bytes, protocol: off, images: mnist, runtime })).rejects.toMatchObject({ code: "INPUT_SHAPE_MISMATCH" });
    expect(() => resolveProtocol("nb201", { weights: "init" })).toThrow(/uploaded models only/);
    expect(() => resolveModelProtocol({ weights: "random" })).toThrow(/weights must be one of init, keep/);
  });
});
