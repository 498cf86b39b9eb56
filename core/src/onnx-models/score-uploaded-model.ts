import { scoringBatch, type ImageSet } from "../data/cifar10.js";
import { ENGINE_VERSION, dasValue, runtimeDevice, type DasValue, type ScoreProvenance } from "../engine/score-architecture.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { DasError } from "../errors.js";
import { datasetForShape, getDataset, type DatasetInfo, type DatasetName } from "../protocol/datasets.js";
import { protocolHash, resolveProtocol, UPLOADED_MODEL_SPACE, type ProtocolInput, type ScoringProtocol } from "../protocol/scoring-protocol.js";
import { defaultDasRule } from "../scoring/das-defaults.js";
import type { DasRule } from "../scoring/das-rules.js";
import { sha256Hex } from "../util/hash.js";
import { DEFAULT_MODEL_LIMITS, type ModelLimits } from "./limits.js";
import { scoreModel, type ModelScore } from "./score-model.js";
import { validateModel } from "./validate.js";

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
  readonly layout: ModelScore["layout"];
  readonly opset: number;
  readonly tapStrategy: "bits";
}

/** The data set a model is scored on: the protocol's, else the one its input shape matches; refused when they disagree. */
function datasetOf(protocol: UploadedModelProtocol, channels: number, height: number, width: number): DatasetInfo {
  const shape = `${channels}x${height}x${width}`;
  if (protocol.dataset === undefined) {
    const found = datasetForShape(channels, height, width);
    if (!found) throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${shape} images; no data set matches (cifar10 is 3x32x32, mnist 1x28x28)`);
    return found;
  }
  const info = getDataset(protocol.dataset);
  if (info.channels !== channels || info.height !== height || info.width !== width) {
    throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${shape} images but ${info.name} has ${info.channels}x${info.height}x${info.width}`);
  }
  return info;
}

/**
 * Validates, taps and scores an uploaded ONNX model, and assembles its score
 * record: what `das score --space onnx` prints and the service stores.
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
  const { channels, height, width } = plan.input;
  const info = datasetOf(req.protocol, channels, height, width);
  const { dataset: _, ...rest } = req.protocol;
  const protocol: ScoringProtocol = { dataset: info.name, ...rest };
  const set = await req.images(info);
  if (set.shape.join("x") !== `${info.channels}x${info.height}x${info.width}`) {
    throw new DasError("INVALID_DATASET", `the ${info.name} images loaded are ${set.shape.join("x")}, not ${info.channels}x${info.height}x${info.width}`);
  }
  const images = scoringBatch(set, protocol.batchSize, protocol.seed, info.mean, info.std);
  const s = await scoreModel(bytes, plan, images, protocol.batchSize, runtime, limits.timeoutMs);
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
    params: s.params,
    flops: s.flops,
    reluCount: s.reluCount,
    mode: s.mode,
    layout: s.layout,
    opset: plan.opset,
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
