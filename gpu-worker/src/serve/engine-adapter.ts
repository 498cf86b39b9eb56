/**
 * The one module of `das serve` that knows the engine: item validation and
 * ids, score keys (core's protocol and protocolHash), error bodies and the
 * scoring calls. Everything else in src/serve/ goes through `ItemScorer`.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import {
  DAS_PLUS,
  DasError,
  dasPlusUnavailable,
  DATASETS,
  ENGINE_VERSION,
  errorClass,
  isDasError,
  locateScore,
  modelKey,
  PROTOCOL_LIMITS,
  resolveProtocol,
  scoreUploadedModel,
  sha256Hex,
  type ErrorCode,
  type ScoringProtocol,
} from "@das/core";
import { ScoringSession } from "../cli/scoring-session.js";
import { loadScoringImages, resolveDataDir } from "../data/data-dir.js";
import { nodeRuntime } from "../runtime/node-runtime.js";
import { DtbItemBuilder, type DtbItemSpec } from "./dtb-items.js";
import { runModelChild, type ChildLimits } from "./model-process.js";

export type JobItem =
  | { readonly space: "nb201" | "nb101" | "darts"; readonly spec: string; readonly dtb?: DtbItemSpec }
  | { readonly space: "onnx"; readonly model: string; readonly weights?: "init" | "keep"; readonly adapt?: boolean };

/** A DTB item: a DARTS genotype to train under a DTB protocol (dtb-items.ts) rather than to score. */
export const isDtbItem = (item: JobItem): item is { space: "darts"; spec: string; dtb: DtbItemSpec } => item.space === "darts" && item.dtb !== undefined;
export interface JobProtocolInput {
  readonly batchSize?: number;
  readonly seed?: number;
  readonly fastTrainSteps?: number;
}
/** A job's protocol as posted, defaults filled: each item resolves it for its own space (`itemProtocol`). */
export interface JobProtocol {
  readonly dataset: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly fastTrainSteps: number;
}
/** A JSON-ready score record: `das score --json`'s object plus the service's `provenance`. */
export type ScoreRecord = Record<string, unknown>;

export const ITEM_SPACES = ["nb201", "nb101", "darts", "onnx"] as const;
export const JOB_DATASETS = Object.keys(DATASETS) as readonly string[];
/** The reference protocol (DESIGN.md): what a job gets for fields it leaves out. */
export const DEFAULT_JOB_PROTOCOL = { batchSize: 128, seed: 1, fastTrainSteps: 0 } as const;
export const JOB_PROTOCOL_LIMITS = { batchSize: PROTOCOL_LIMITS.batchSize, seed: PROTOCOL_LIMITS.seed, fastTrainSteps: PROTOCOL_LIMITS.fastTrainSteps } as const;

/** HTTP status of a code, from core's error table. */
export const statusOf = (code: ErrorCode): number => errorClass(code).httpStatus;

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Any thrown value as a coded error body; unknown failures are INTERNAL with their message masked. */
export function toErrorBody(e: unknown): ErrorBody {
  if (isDasError(e)) {
    return Object.keys(e.details).length ? { code: e.code, message: e.message, details: e.details } : { code: e.code, message: e.message };
  }
  return { code: "INTERNAL", message: "internal error" };
}

export function jobProtocol(dataset: string, p: JobProtocolInput = {}): JobProtocol {
  return { dataset, batchSize: p.batchSize ?? DEFAULT_JOB_PROTOCOL.batchSize, seed: p.seed ?? DEFAULT_JOB_PROTOCOL.seed, fastTrainSteps: p.fastTrainSteps ?? DEFAULT_JOB_PROTOCOL.fastTrainSteps };
}

/** The job's protocol with the item's own options (an uploaded model's weights and adapt). */
const protocolInput = (p: JobProtocol, item: JobItem) => ({
  dataset: p.dataset,
  batchSize: p.batchSize,
  seed: p.seed,
  fastTrainSteps: p.fastTrainSteps,
  ...(item.space === "onnx" ? { weights: item.weights, adapt: item.adapt } : {}),
});
const itemSpec = (item: JobItem) => (item.space === "onnx" ? item.model : item.spec);

/** The scoring protocol of one item: core validates it for the item's space (e.g. no fast training for uploaded models). */
export function itemProtocol(item: JobItem, p: JobProtocol): ScoringProtocol {
  return resolveProtocol(item.space, protocolInput(p, item));
}

// ---- the runtime ------------------------------------------------------------------------------
export interface EngineInfo {
  readonly engineVersion: string;
  readonly runtime: string;
  readonly executionProvider: "cuda" | "cpu";
  readonly device: string;
}

/** CUDA when asked, or when unset and both onnxruntime-node's CUDA provider library and a GPU (nvidia-smi) are present. */
export function resolveProvider(choice: "cuda" | "cpu" | "auto"): "cuda" | "cpu" {
  if (choice !== "auto") return choice;
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
    const lib = join(pkg, "bin", "napi-v6", process.platform, process.arch, "libonnxruntime_providers_cuda.so");
    if (!existsSync(lib)) return "cpu";
    execFileSync("nvidia-smi", ["-L"], { stdio: "ignore", timeout: 5000 });
    return "cuda";
  } catch {
    return "cpu";
  }
}

function deviceName(provider: "cuda" | "cpu"): string {
  if (provider === "cuda") {
    try {
      return execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8", timeout: 5000 }).split("\n")[0].trim() || "cuda";
    } catch {
      return "cuda";
    }
  }
  return `${cpus()[0]?.model ?? "cpu"} (${availableParallelism()} cores)`;
}

export function engineInfo(provider: "cuda" | "cpu"): EngineInfo {
  return { engineVersion: ENGINE_VERSION, runtime: nodeRuntime({ provider }).runtime, executionProvider: provider, device: deviceName(provider) };
}

// ---- scoring ----------------------------------------------------------------------------------
export interface ScoreOptions {
  /** Wall-clock limit for the item. */
  readonly timeoutMs: number;
}

export interface ItemScorer {
  /** Validates and canonicalises an item; returns its archId and the S3 key of its score (or DTB record). Throws a coded error for invalid specs. */
  keyFor(item: JobItem, protocol: JobProtocol): Promise<{ archId: string; key: string }>;
  score(item: JobItem, protocol: JobProtocol, options: ScoreOptions): Promise<ScoreRecord>;
  readonly info: EngineInfo;
}

export interface EngineScorerOptions {
  readonly provider: "cuda" | "cpu";
  /** Items scored at once: each gets cores / concurrency intra-op threads on the CPU. */
  readonly concurrency: number;
  /** An uploaded model's bytes, or undefined when none is stored under that hash. */
  readonly fetchModel: (key: string) => Promise<Uint8Array | undefined>;
  readonly childLimits: ChildLimits;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DasError("TIMEOUT", `${what} took longer than the ${ms} ms item limit`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Search-space items run here, on the same ScoringSession `das score` uses
 * (same batch, same default tap choice, so the same numbers); uploaded
 * models in a killable child process with capped memory.
 */
export class EngineScorer implements ItemScorer {
  readonly info: EngineInfo;
  private readonly sessions = new Map<string, Promise<ScoringSession>>();
  private readonly threads: number;
  private readonly dtb: DtbItemBuilder;

  constructor(private readonly o: EngineScorerOptions) {
    this.info = engineInfo(o.provider);
    this.threads = Math.max(1, Math.floor(availableParallelism() / o.concurrency));
    this.dtb = new DtbItemBuilder({ provider: o.provider, threads: this.threads, info: this.info, dataDir: resolveDataDir() });
  }

  /** The same location the edge computes (core's locateScore); a DTB item's record key. */
  async keyFor(item: JobItem, job: JobProtocol): Promise<{ archId: string; key: string }> {
    if (isDtbItem(item)) return this.dtb.keyFor(item.spec, item.dtb);
    const { archId, key } = await locateScore(item.space, itemSpec(item), protocolInput(job, item));
    return { archId, key };
  }

  async score(item: JobItem, job: JobProtocol, options: ScoreOptions): Promise<ScoreRecord> {
    // A DTB record carries its own build provenance (engine, runtime, provider, device, wall time).
    if (isDtbItem(item)) return { ...(await withTimeout(this.dtb.build(item.spec, item.dtb), options.timeoutMs, "building the DTB record")) };
    const started = performance.now();
    const protocol = itemProtocol(item, job);
    let record: Record<string, unknown>;
    if (item.space === "onnx") {
      const bytes = await this.o.fetchModel(modelKey(item.model));
      if (!bytes) throw new DasError("MODEL_NOT_FOUND", `no model at ${modelKey(item.model)}: upload it before scoring`);
      const actual = await sha256Hex(bytes);
      if (actual !== item.model) throw new DasError("INVALID_ARGUMENT", `the model stored at ${modelKey(item.model)} hashes to ${actual}: re-upload it under its own SHA-256`, { expected: item.model, actual });
      const msg: ModelChildRequest = { bytes, protocol, provider: this.o.provider, threads: this.threads, device: this.info.device };
      const reply = await runModelChild<ModelChildRequest, ModelChildReply>(msg, { ...this.o.childLimits, timeoutMs: options.timeoutMs, provider: this.o.provider });
      if ("error" in reply) throw new DasError(reply.error.code, reply.error.message);
      record = { ...reply.record };
    } else {
      const session = await this.session(item.space, protocol);
      record = { ...(await withTimeout(session.score(item.spec), options.timeoutMs, "scoring the architecture")) };
    }
    return {
      ...record,
      provenance: {
        engineVersion: ENGINE_VERSION,
        runtime: this.info.runtime,
        executionProvider: this.info.executionProvider,
        device: this.info.device,
        tapStrategy: record.tapStrategy,
        durationMs: performance.now() - started,
        computedAt: record.computedAt,
      },
    };
  }

  /**
   * One ScoringSession per space and protocol, opened as `das score` opens its own; with DAS+
   * wherever the protocol is the one its rule was calibrated at (`das score --proxies das_plus`),
   * so cached records carry it and the features it weighs (synflow on NB201: one image, a small
   * share of a batch-128 score).
   */
  private session(space: string, protocol: ScoringProtocol): Promise<ScoringSession> {
    const id = JSON.stringify([space, protocol]);
    let s = this.sessions.get(id);
    if (!s) {
      const proxies = dasPlusUnavailable(space, protocol) ? [] : [DAS_PLUS];
      s = ScoringSession.create({ space, protocol, tap: "auto", provider: this.o.provider, threads: this.threads, workers: 1, dataDir: resolveDataDir(), quiet: true, device: this.info.device, proxies });
      s.catch(() => this.sessions.delete(id));
      this.sessions.set(id, s);
    }
    return s;
  }
}

// ---- the model child's side -------------------------------------------------------------------
export interface ModelChildRequest {
  readonly bytes: Uint8Array;
  readonly protocol: ScoringProtocol;
  readonly provider: "cuda" | "cpu";
  readonly threads: number;
  readonly device: string;
}
export type ModelChildReply = { readonly record: Record<string, unknown> } | { readonly error: ErrorBody };

const MEMORY_FAILURE = /alloc|out of memory|bad_alloc|memory/i;

/** Runs in model-child.js: the `das score --space onnx` path (core's scoreUploadedModel) on bytes already hash-checked. */
export async function scoreModelInChild(req: ModelChildRequest): Promise<ModelChildReply> {
  try {
    const runtime = { ...nodeRuntime({ provider: req.provider, threads: req.threads }), device: req.device };
    const dataDir = resolveDataDir();
    const record = await scoreUploadedModel({ bytes: req.bytes, protocol: req.protocol, images: (info) => loadScoringImages(info.name, dataDir), runtime });
    return { record: { ...record } };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // onnxruntime reports an exhausted allocation as a failed run; the model, not its input, is at fault.
    if (MEMORY_FAILURE.test(message) && (!isDasError(e) || e.code === "INVALID_MODEL_GRAPH")) {
      return { error: { code: "MODEL_CRASHED", message: `the model exhausted its process's memory cap: ${message.split("\n")[0]}` } };
    }
    if (isDasError(e)) return { error: { code: e.code, message: e.message } };
    return { error: { code: "MODEL_CRASHED", message: `the model's scoring process failed: ${message.split("\n")[0]}` } };
  }
}
