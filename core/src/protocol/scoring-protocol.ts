import { DasError } from "../errors.js";
import { getSpace } from "../spaces/registry.js";
import { checkpoints as trajectoryCheckpoints, DEFAULT_FAST_TRAIN, type FastTrainProtocol } from "../train/fast-train.js";
import { sha256Hex } from "../util/hash.js";
import { getDataset, type DatasetName } from "./datasets.js";

/** Fast training before scoring: everything that changes a fast-trained score. */
export interface FastTrainSettings {
  readonly steps: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Cosine annealing to 0 over `steps` when true; constant lr otherwise. */
  readonly cosine: boolean;
  /** Steps scored besides 0 and `steps` (absent: steps/4 and steps/2). */
  readonly checkpoints?: readonly number[];
}

/** How a score is computed, apart from the architecture: what a cached score is keyed by. */
export interface ScoringProtocol {
  readonly dataset: DatasetName;
  /** 2..512, default 128. */
  readonly batchSize: number;
  /** 0..2^32-1, default 1: picks the scoring batch and the initial weights. */
  readonly seed: number;
  /** Network size overrides validated per space ({} = the space's defaults). */
  readonly overrides: Readonly<Record<string, number>>;
  /** Absent (or steps 0): scored at initialisation. */
  readonly fastTrain?: FastTrainSettings;
  /** Uploaded models only: "init" re-draws the weights (the architecture at initialisation), "keep" scores the file's own. */
  readonly weights?: ModelWeights;
  /** Uploaded models only: images resized and channels mapped to the model's input when they differ. */
  readonly adapt?: boolean;
  /** Uploaded models only: SHA-256 of the user's own scoring batch, when not the dataset's. */
  readonly images?: string;
}

export const MODEL_WEIGHTS = ["init", "keep"] as const;
export type ModelWeights = (typeof MODEL_WEIGHTS)[number];

/** A protocol as a request or a command line gives it: every field optional, nothing validated yet. */
export interface ProtocolInput {
  dataset?: string;
  batchSize?: number;
  seed?: number;
  fastTrainSteps?: number;
  lr?: number;
  ftBatchSize?: number;
  ftCheckpoints?: number[];
  width?: number;
  depth?: number;
  weights?: string;
  adapt?: boolean;
  images?: string;
}

/** The space of uploaded ONNX models: no size overrides, no fast training. */
export const UPLOADED_MODEL_SPACE = "onnx";

/** NASWOT's reference protocol: 128 CIFAR-10 images, seed 1, the space's own sizes, at initialisation. */
export const DEFAULT_PROTOCOL: ScoringProtocol = Object.freeze({ dataset: "cifar10", batchSize: 128, seed: 1, overrides: Object.freeze({}) });

/** Limits of each numeric field (inclusive). */
export const PROTOCOL_LIMITS = Object.freeze({
  batchSize: [2, 512],
  seed: [0, 2 ** 32 - 1],
  fastTrainSteps: [0, 100_000],
  ftBatchSize: [2, 1024],
  width: [1, 1024],
  depth: [1, 100],
} as const);

/** --width / --depth as each space's size overrides: DARTS channels and cells, NB201 stem and cells per stage, NB101 stem and cells per stack. */
const SIZE_OVERRIDES: Readonly<Record<string, { readonly width: string; readonly depth: string }>> = {
  darts: { width: "channels", depth: "layers" },
  nb201: { width: "stemChannels", depth: "cellsPerStage" },
  nb101: { width: "stemChannels", depth: "cellsPerStack" },
};

function invalid(field: string, message: string): DasError {
  return new DasError("INVALID_ARGUMENT", `${field} ${message}`, { field });
}

function int(field: keyof typeof PROTOCOL_LIMITS | "ftCheckpoints", value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer in ${min}..${max}, got '${String(value)}'`);
  }
  return value;
}

const bounded = (field: keyof typeof PROTOCOL_LIMITS, value: unknown) => int(field, value, PROTOCOL_LIMITS[field][0], PROTOCOL_LIMITS[field][1]);

/** Size overrides of a space from width and depth; refused for a space without them (the onnx space). */
export function sizeOverridesFor(space: string, width: number | undefined, depth: number | undefined): Record<string, number> {
  const names = Object.hasOwn(SIZE_OVERRIDES, space) ? SIZE_OVERRIDES[space] : undefined;
  const overrides: Record<string, number> = {};
  if (width === undefined && depth === undefined) return overrides;
  if (!names) {
    const field = width !== undefined ? "width" : "depth";
    throw invalid(field, `sizes a search space's network; the ${space} space has none`);
  }
  if (width !== undefined) overrides[names.width] = bounded("width", width);
  if (depth !== undefined) overrides[names.depth] = bounded("depth", depth);
  return overrides;
}

function resolveFastTrain(space: string, input: ProtocolInput): FastTrainSettings | undefined {
  const steps = input.fastTrainSteps === undefined ? 0 : bounded("fastTrainSteps", input.fastTrainSteps);
  if (steps === 0) return undefined;
  if (space === UPLOADED_MODEL_SPACE) throw invalid("fastTrainSteps", `must be 0 for the ${space} space: uploaded models are scored at initialisation only`);
  const lr = input.lr ?? DEFAULT_FAST_TRAIN.lr;
  if (typeof lr !== "number" || !(lr > 0 && lr < 10)) throw invalid("lr", `must be in (0, 10), got '${String(input.lr)}'`);
  const batchSize = input.ftBatchSize === undefined ? DEFAULT_FAST_TRAIN.batchSize : bounded("ftBatchSize", input.ftBatchSize);
  if (input.ftCheckpoints !== undefined && !Array.isArray(input.ftCheckpoints)) throw invalid("ftCheckpoints", "must be a list of steps");
  const checkpoints = input.ftCheckpoints?.map((s) => int("ftCheckpoints", s, 1, steps));
  // Same key order as the engine's protocol has always had, so saved scores' protocols compare equal.
  return { ...DEFAULT_FAST_TRAIN, steps, lr, batchSize, ...(checkpoints ? { checkpoints } : {}) };
}

/**
 * Validates a protocol for a space ("nb201", "nb101", "darts" or "onnx") and
 * fills the defaults. Refusals are DasErrors (INVALID_ARGUMENT,
 * INVALID_DATASET, UNKNOWN_SEARCH_SPACE) whose `details.field` names the
 * input field and whose message starts with it.
 *
 * @example resolveProtocol("darts", { width: 16, depth: 5 }).overrides // { channels: 16, layers: 5 }
 */
export function resolveProtocol(space: string, input: ProtocolInput): ScoringProtocol {
  if (space !== UPLOADED_MODEL_SPACE) getSpace(space);
  const info = getDataset(input.dataset ?? DEFAULT_PROTOCOL.dataset);
  // The search spaces' networks take CIFAR-shaped images; uploaded models take what their input says.
  if (space !== UPLOADED_MODEL_SPACE && (info.channels !== 3 || info.height !== 32 || info.width !== 32)) {
    throw new DasError("INVALID_DATASET", `dataset ${info.name} has ${info.channels}x${info.height}x${info.width} images; the ${space} networks take 3-channel 32x32 images: use dataset cifar10`, { field: "dataset" });
  }
  const batchSize = input.batchSize === undefined ? DEFAULT_PROTOCOL.batchSize : bounded("batchSize", input.batchSize);
  const seed = input.seed === undefined ? DEFAULT_PROTOCOL.seed : bounded("seed", input.seed);
  const overrides = sizeOverridesFor(space, input.width, input.depth);
  const fastTrain = resolveFastTrain(space, input);
  return { dataset: info.name, batchSize, seed, overrides, ...(fastTrain ? { fastTrain } : {}), ...modelOptions(space, input) };
}

/** weights, adapt and images: defaults for uploaded models (init, adapt), refused for the search spaces. */
function modelOptions(space: string, input: ProtocolInput): Pick<ScoringProtocol, "weights" | "adapt" | "images"> {
  if (space !== UPLOADED_MODEL_SPACE) {
    const given = (["weights", "adapt", "images"] as const).find((k) => input[k] !== undefined);
    if (given) throw invalid(given, `applies to uploaded models only; the ${space} networks are built at initialisation from the seed`);
    return {};
  }
  const weights = input.weights ?? "init";
  if (!(MODEL_WEIGHTS as readonly string[]).includes(weights)) throw invalid("weights", `must be one of ${MODEL_WEIGHTS.join(", ")}, got '${String(input.weights)}'`);
  if (input.adapt !== undefined && typeof input.adapt !== "boolean") throw invalid("adapt", `must be true or false, got '${String(input.adapt)}'`);
  if (input.images !== undefined && !/^[0-9a-f]{64}$/.test(input.images)) throw invalid("images", "must be the SHA-256 (hex) of the scoring batch");
  return { weights: weights as ModelWeights, adapt: input.adapt ?? true, ...(input.images ? { images: input.images } : {}) };
}

/** The engine's fast-training protocol (without checkpoints) of a protocol, if it trains. */
export function fastTrainProtocol(p: ScoringProtocol): FastTrainProtocol | undefined {
  if (!p.fastTrain || p.fastTrain.steps === 0) return undefined;
  const { steps, lr, batchSize, momentum, weightDecay, cosine } = p.fastTrain;
  return { batchSize, lr, momentum, weightDecay, cosine, steps };
}

/** JSON with object keys sorted at every level, so equal values serialise equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The protocol in its canonical form: every field present with defaults
 * filled (overrides {}), fast training omitted when it has no steps and
 * otherwise complete, its checkpoints the steps actually scored strictly
 * between 0 and `steps` (sorted, deduplicated; default steps/4 and steps/2).
 */
export function canonicalProtocol(p: ScoringProtocol): Record<string, unknown> {
  const base = {
    dataset: p.dataset ?? DEFAULT_PROTOCOL.dataset,
    batchSize: p.batchSize ?? DEFAULT_PROTOCOL.batchSize,
    seed: p.seed ?? DEFAULT_PROTOCOL.seed,
    overrides: p.overrides ?? {},
    // Uploaded models' options; absent for the search spaces, whose hashes stay as they were.
    ...(p.weights !== undefined ? { weights: p.weights } : {}),
    ...(p.adapt !== undefined ? { adapt: p.adapt } : {}),
    ...(p.images !== undefined ? { images: p.images } : {}),
  };
  const ft = p.fastTrain;
  if (!ft || !ft.steps) return base;
  const marks = trajectoryCheckpoints(ft.steps, ft.checkpoints).filter((s) => s > 0 && s < ft.steps);
  return {
    ...base,
    fastTrain: {
      steps: ft.steps,
      lr: ft.lr ?? DEFAULT_FAST_TRAIN.lr,
      batchSize: ft.batchSize ?? DEFAULT_FAST_TRAIN.batchSize,
      momentum: ft.momentum ?? DEFAULT_FAST_TRAIN.momentum,
      weightDecay: ft.weightDecay ?? DEFAULT_FAST_TRAIN.weightDecay,
      cosine: ft.cosine ?? DEFAULT_FAST_TRAIN.cosine,
      checkpoints: marks,
    },
  };
}

/**
 * Lowercase hex SHA-256 of the canonical JSON (sorted keys) of
 * `canonicalProtocol(p)`: dataset, batchSize, seed, overrides and, when it
 * trains, fastTrain {steps, lr, batchSize, momentum, weightDecay, cosine,
 * checkpoints}. The space and the engine version are not in it: they are in
 * the score key beside it.
 *
 * @example await protocolHash(DEFAULT_PROTOCOL) // "…64 hex digits…"
 */
export function protocolHash(p: ScoringProtocol): Promise<string> {
  return sha256Hex(canonicalJson(canonicalProtocol(p)));
}

/** Where a score lives in the store: `scores/{engineVersion}/{dataset}/{protocolHash}/{archId}.json`. */
export function scoreKey(engineVersion: string, p: ScoringProtocol, hash: string, archId: string): string {
  return `${scorePrefix(engineVersion, p, hash)}${archId}.json`;
}

/** The prefix every score of one protocol shares (every space's: the space is not in the key): `scores/{engineVersion}/{dataset}/{protocolHash}/`. */
export function scorePrefix(engineVersion: string, p: Pick<ScoringProtocol, "dataset">, hash: string): string {
  return `scores/${engineVersion}/${p.dataset}/${hash}/`;
}
