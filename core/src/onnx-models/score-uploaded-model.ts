import { scoringBatch, type ImageSet } from "../data/cifar10.js";
import { ENGINE_VERSION, dasValue, runtimeDevice, type DasValue, type ScoreProvenance } from "../engine/score-architecture.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { DasError } from "../errors.js";
import { DATASET_NAMES, datasetForShape, getDataset, type DatasetInfo, type DatasetName } from "../protocol/datasets.js";
import { protocolHash, resolveProtocol, UPLOADED_MODEL_SPACE, type ProtocolInput, type ScoringProtocol } from "../protocol/scoring-protocol.js";
import { defaultDasRule } from "../scoring/das-defaults.js";
import type { DasRule } from "../scoring/das-rules.js";
import { sha256Hex } from "../util/hash.js";
import { DEFAULT_MODEL_LIMITS, type ModelLimits } from "./limits.js";
import { adaptImages, type ImageShape, type InputAdaptation } from "../data/adapt-images.js";
import { decodeModel } from "../onnx/decode.js";
import { initialiseWeights } from "./init-weights.js";
import { scoreModel, type ModelScore } from "./score-model.js";
import { checkInformativeWeights, validateModel, type ImageInput } from "./validate.js";

/** A protocol for uploaded models: without a dataset, the one matching the model's input shape is used. */
export type UploadedModelProtocol = Omit<ScoringProtocol, "dataset"> & { readonly dataset?: DatasetName };

/** `resolveProtocol("onnx", input)`, leaving the dataset open when the input names none. */
export function resolveModelProtocol(input: ProtocolInput): UploadedModelProtocol {
  const { dataset, ...rest } = resolveProtocol(UPLOADED_MODEL_SPACE, input);
  return input.dataset === undefined ? rest : { dataset, ...rest };
}

export interface UploadedModelRequest {
  /** The model file as uploaded. */
  readonly bytes: Uint8Array;
  readonly protocol: UploadedModelProtocol;
  /** The adapter's loader: the image set of a data set (the first 512 images are enough; scoring batches come from those). */
  readonly images: (dataset: DatasetInfo) => ImageSet | Promise<ImageSet>;
  readonly runtime: RuntimeConfig;
  /** A name for people (a file name), recorded as `model`. */
  readonly name?: string;
  readonly limits?: ModelLimits;
  readonly dasRule?: DasRule;
  /** The user's own scoring batch (normalised NCHW float32, at least batchSize images); protocol.images is its SHA-256. */
  readonly customImages?: { readonly images: Float32Array; readonly shape: ImageShape; readonly sha256: string };
  /** Told what adaptation was applied (the CLI announces it on stderr). */
  readonly onAdapt?: (a: InputAdaptation) => void;
}

/** The score record of an uploaded model: the metrics of a search-space score, `arch` and `archId` its sha256. */
export interface UploadedModelScore extends ScoreProvenance {
  readonly space: typeof UPLOADED_MODEL_SPACE;
  readonly model?: string;
  readonly arch: string;
  readonly archId: string;
  readonly dataset: DatasetName;
  readonly batchSize: number;
  readonly seed: number;
  readonly activationUnits: number;
  readonly logActivationUnits: number;
  readonly distinguishing: number;
  readonly wot: number;
  readonly das: DasValue;
  readonly singular: boolean;
  readonly params: number;
  readonly flops: number;
  readonly reluCount: number;
  readonly mode: ModelScore["mode"];
  readonly chunk: number;
  readonly layout: ModelScore["layout"];
  readonly opset: number;
  /** What the weights were: re-drawn (how many, which were kept, BatchNorms switched to batch statistics) or the file's. */
  readonly weights:
    | { readonly mode: "keep" }
    | {
        readonly mode: "init";
        readonly redrawn: number;
        readonly kept: readonly string[];
        readonly batchNorms: number;
        /** Images each BatchNorm took its statistics over: the batch, or a fixed-batch model's run of B (its last run padded with repeats). */
        readonly batchStatisticsOver?: number;
      };
  /** The scoring batch: the dataset it came from ("custom" for --images) and the SHA-256 of its float32 values. */
  readonly images: { readonly source: string; readonly sha256: string };
  /** Present when the images were resized or their channels mapped to the model's input. */
  readonly inputAdaptation?: InputAdaptation;
  readonly tapStrategy: "bits";
}

/** The data set a model is scored on: the protocol's, else the one its input matches, else (adapting) the one with its channel count. */
function datasetOf(protocol: UploadedModelProtocol, input: ImageInput): DatasetInfo {
  if (protocol.dataset !== undefined) return getDataset(protocol.dataset);
  const { channels, height, width } = input;
  const exact = height !== "dynamic" && width !== "dynamic" ? datasetForShape(channels, height, width) : DATASET_NAMES.map(getDataset).find((d) => d.channels === channels);
  if (exact) return exact;
  if (protocol.adapt !== false) return getDataset(channels === 1 ? "mnist" : "cifar10");
  throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${channels}x${height}x${width} images; no data set matches (cifar10 is 3x32x32, mnist 1x28x28): score it without --no-adapt, or with --images`);
}

/** The shape the model is run on: its own, the images' height and width where it leaves them free. */
function targetShape(input: ImageInput, source: ImageShape): ImageShape {
  return { channels: input.channels, height: input.height === "dynamic" ? source.height : input.height, width: input.width === "dynamic" ? source.width : input.width };
}

/**
 * Validates, taps and scores an uploaded ONNX model, and assembles its score
 * record: what `das score --space onnx` prints and the service stores. Under
 * `weights: "init"` (the default) the weights are re-drawn first (init-weights.ts);
 * images of another size or channel count are adapted unless `adapt` is false.
 *
 * @example
 * const record = await scoreUploadedModel({ bytes, protocol: resolveModelProtocol({ batchSize: 64 }), images: loadSet, runtime });
 */
export async function scoreUploadedModel(req: UploadedModelRequest): Promise<UploadedModelScore> {
  const started = performance.now();
  const limits = req.limits ?? DEFAULT_MODEL_LIMITS;
  const { bytes, runtime } = req;
  if (bytes.length > limits.maxBytes) throw new DasError("MODEL_TOO_LARGE", `model is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  const plan = validateModel(bytes, limits);
  const weightsMode = req.protocol.weights ?? "init";
  if (weightsMode === "keep") checkInformativeWeights(plan);
  const info = datasetOf(req.protocol, plan.input);
  const { dataset: _, ...rest } = req.protocol;
  const protocol: ScoringProtocol = { dataset: info.name, ...rest };

  // The scoring batch: the user's own images, or the dataset's, normalised as the dataset is.
  let source: { images: Float32Array; shape: ImageShape; sha256: string; origin: string };
  if ((req.customImages?.sha256 ?? undefined) !== protocol.images) {
    throw new DasError("INVALID_ARGUMENT", "protocol.images must be the SHA-256 of the custom images given, and only given with them", { field: "images" });
  }
  if (req.customImages) {
    const c = req.customImages;
    if (c.images.length < protocol.batchSize * c.shape.channels * c.shape.height * c.shape.width) {
      throw new DasError("INVALID_DATASET", `the scoring batch needs ${protocol.batchSize} images; the images given hold ${c.images.length / (c.shape.channels * c.shape.height * c.shape.width)}`);
    }
    source = { images: c.images.subarray(0, protocol.batchSize * c.shape.channels * c.shape.height * c.shape.width), shape: c.shape, sha256: c.sha256, origin: "custom" };
  } else {
    const set = await req.images(info);
    if (set.shape.join("x") !== `${info.channels}x${info.height}x${info.width}`) {
      throw new DasError("INVALID_DATASET", `the ${info.name} images loaded are ${set.shape.join("x")}, not ${info.channels}x${info.height}x${info.width}`);
    }
    const images = scoringBatch(set, protocol.batchSize, protocol.seed, info.mean, info.std);
    source = { images, shape: { channels: info.channels, height: info.height, width: info.width }, sha256: await sha256Hex(new Uint8Array(images.buffer, images.byteOffset, images.byteLength)), origin: info.name };
  }
  const target = targetShape(plan.input, source.shape);
  let images = source.images;
  let inputAdaptation: InputAdaptation | undefined;
  if (target.channels !== source.shape.channels || target.height !== source.shape.height || target.width !== source.shape.width) {
    const shape = (s: ImageShape) => `${s.channels}x${s.height}x${s.width}`;
    if (protocol.adapt === false) throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${shape(target)} images but the ${source.origin} images are ${shape(source.shape)} (adaptation is off)`);
    ({ images, adaptation: inputAdaptation } = adaptImages(source.images, protocol.batchSize, source.shape, target));
    req.onAdapt?.(inputAdaptation);
  }

  let scored = { bytes, plan };
  let params = plan.params;
  let weights: UploadedModelScore["weights"] = { mode: "keep" };
  if (weightsMode === "init") {
    const init = initialiseWeights(bytes, plan.model, protocol.seed, plan.opset);
    scored = { bytes: init.bytes, plan: { ...plan, model: decodeModel(init.bytes) } };
    weights = { mode: "init", redrawn: init.redrawn, kept: init.kept, batchNorms: init.batchNorms };
    params += init.addedParams;
  }
  const s = await scoreModel(scored.bytes, scored.plan, images, protocol.batchSize, runtime, limits.timeoutMs, target);
  if (weights.mode === "init" && weights.batchNorms > 0) weights = { ...weights, batchStatisticsOver: s.chunk };
  const sha = await sha256Hex(bytes);
  return {
    space: UPLOADED_MODEL_SPACE,
    ...(req.name !== undefined ? { model: req.name } : {}),
    arch: sha,
    archId: sha,
    dataset: info.name,
    batchSize: protocol.batchSize,
    seed: protocol.seed,
    activationUnits: s.activationUnits,
    logActivationUnits: s.logActivationUnits,
    distinguishing: s.distinguishing,
    wot: s.wot,
    das: dasValue(req.dasRule ?? defaultDasRule(UPLOADED_MODEL_SPACE), s),
    singular: s.singular,
    params,
    flops: s.flops,
    reluCount: s.reluCount,
    mode: s.mode,
    chunk: s.chunk,
    layout: s.layout,
    opset: plan.opset,
    weights,
    images: { source: source.origin, sha256: source.sha256 },
    ...(inputAdaptation ? { inputAdaptation } : {}),
    durationMs: performance.now() - started,
    provider: runtime.provider,
    runtime: runtime.runtime,
    engineVersion: ENGINE_VERSION,
    tapStrategy: "bits",
    protocol,
    protocolHash: await protocolHash(protocol),
    device: runtimeDevice(runtime),
    computedAt: new Date().toISOString(),
  };
}
