import { availableParallelism } from "node:os";
import { DAS_PLUS, dasPlusUnavailable, DasError, GRADIENT_PROXIES, isDasError, resolveProtocol, sizeOverridesFor, TAP_STRATEGIES, type ProtocolInput, type ScoringProtocol, type TapStrategy } from "@das/core";
import { resolveDataDir } from "../data/data-dir.js";
import type { ProviderChoice } from "../runtime/node-runtime.js";
import type { ScoringSetup } from "./scoring-session.js";

/** Options every scoring command shares, with the reference protocol's defaults. */
export const SCORING_FLAGS = {
  space: { type: "string" },
  dataset: { type: "string", default: "cifar10" },
  "batch-size": { type: "string", default: "128" },
  seed: { type: "string", default: "1" },
  "data-dir": { type: "string" },
  tap: { type: "string", default: "auto" },
  provider: { type: "string", default: "cpu" },
  threads: { type: "string" },
  workers: { type: "string", default: "auto" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  "fast-train": { type: "string", default: "0" },
  lr: { type: "string" },
  "ft-batch-size": { type: "string" },
  "ft-checkpoints": { type: "string" },
  width: { type: "string" },
  depth: { type: "string" },
  // Zero-cost proxies beside the activation ones: "synflow,snip", "all".
  proxies: { type: "string" },
  // Uploaded models (--space onnx) only.
  weights: { type: "string" },
  "no-adapt": { type: "boolean", default: false },
  images: { type: "string" },
  mean: { type: "string" },
  std: { type: "string" },
} as const;

export interface ScoringFlags {
  space?: string;
  dataset: string;
  "batch-size": string;
  seed: string;
  "data-dir"?: string;
  tap: string;
  provider: string;
  threads?: string;
  workers?: string;
  json: boolean;
  quiet: boolean;
  "fast-train": string;
  lr?: string;
  "ft-batch-size"?: string;
  "ft-checkpoints"?: string;
  width?: string;
  depth?: string;
  proxies?: string;
  weights?: string;
  "no-adapt"?: boolean;
  images?: string;
  mean?: string;
  std?: string;
}

/** The command-line flag of each protocol field, for messages. */
const PROTOCOL_FLAGS: Readonly<Record<keyof ProtocolInput, string>> = {
  dataset: "dataset",
  batchSize: "batch-size",
  seed: "seed",
  fastTrainSteps: "fast-train",
  lr: "lr",
  ftBatchSize: "ft-batch-size",
  ftCheckpoints: "ft-checkpoints",
  width: "width",
  depth: "depth",
  weights: "weights",
  adapt: "no-adapt",
  images: "images",
};

/** A number flag as given, for core to validate; text that is no number is refused here, naming the flag. */
function numberFlag(field: keyof ProtocolInput, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new DasError("INVALID_ARGUMENT", `--${PROTOCOL_FLAGS[field]} must be a number, got '${value}'`, { field, flag: PROTOCOL_FLAGS[field] });
  return n;
}

/** The protocol fields of the scoring flags, as numbers, not yet validated. */
export function protocolInput(flags: Partial<Pick<ScoringFlags, "dataset" | "batch-size" | "seed" | "fast-train" | "lr" | "ft-batch-size" | "ft-checkpoints" | "width" | "depth" | "weights" | "no-adapt">>): ProtocolInput {
  return {
    dataset: flags.dataset,
    batchSize: numberFlag("batchSize", flags["batch-size"]),
    seed: numberFlag("seed", flags.seed),
    fastTrainSteps: numberFlag("fastTrainSteps", flags["fast-train"]),
    lr: numberFlag("lr", flags.lr),
    ftBatchSize: numberFlag("ftBatchSize", flags["ft-batch-size"]),
    ftCheckpoints: flags["ft-checkpoints"]?.split(",").map((v) => numberFlag("ftCheckpoints", v.trim())!),
    width: numberFlag("width", flags.width),
    depth: numberFlag("depth", flags.depth),
    // Only when given: the search spaces refuse them, uploaded models take init and adaptation by default.
    weights: flags.weights,
    adapt: flags["no-adapt"] ? false : undefined,
  };
}

/** Runs a core validation, naming the command-line flag instead of the protocol field in its errors ("--batch-size must be ..."). */
export function asFlags<T>(validate: () => T): T {
  try {
    return validate();
  } catch (e) {
    const field = isDasError(e) ? e.details.field : undefined;
    if (!isDasError(e) || typeof field !== "string" || !Object.hasOwn(PROTOCOL_FLAGS, field)) throw e;
    const flag = PROTOCOL_FLAGS[field as keyof ProtocolInput];
    const message = e.message.startsWith(`${field} `) ? `--${flag}${e.message.slice(field.length)}` : e.message;
    throw new DasError(e.code, message, { ...e.details, flag }, { cause: e });
  }
}

/** The scoring protocol the flags ask for, validated by core for the space. */
export function protocolFromFlags(space: string, flags: ScoringFlags): ScoringProtocol {
  return asFlags(() => resolveProtocol(space, protocolInput(flags)));
}

/** --width / --depth as the space's size overrides: DARTS channels and cells, NB201 stem and cells per stage, NB101 stem and cells per stack. */
export function sizeOverrides(space: string, width: string | undefined, depth: string | undefined): Record<string, number> {
  return asFlags(() => sizeOverridesFor(space, numberFlag("width", width), numberFlag("depth", depth)));
}

/** The activation proxies every score has (`das eval` reports them all). */
export const ACTIVATION_PROXIES = ["wot", "das", "activation_units", "distinguishing", "params", "flops"] as const;

/**
 * --proxies LIST: the gradient proxies asked for beside the activation ones, and das_plus. "all":
 * every gradient proxy, and DAS+ where the space has a rule for this protocol.
 */
export function proxiesFlag(raw: string | undefined, space: string, protocol: ScoringProtocol): string[] {
  if (raw === undefined) return [];
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.includes("all")) return [...GRADIENT_PROXIES.map((p) => p.name), ...(dasPlusUnavailable(space, protocol) ? [] : [DAS_PLUS])];
  const known = [...ACTIVATION_PROXIES, ...GRADIENT_PROXIES.map((p) => p.name), DAS_PLUS];
  const unknown = names.find((n) => !known.includes(n));
  if (unknown) throw new DasError("INVALID_ARGUMENT", `--proxies: unknown proxy '${unknown}'; known: ${known.join(", ")}, all`, { field: "proxies", flag: "proxies" });
  return names.filter((n) => !(ACTIVATION_PROXIES as readonly string[]).includes(n));
}

/** From this many threads' worth of cores, one worker each: at most 8 (each holds its own session and data). */
const MAX_AUTO_WORKERS = 8;

/** A scoring command's flags as the typed request a ScoringSession (or a worker thread's) is opened with. */
export function scoringSetup(flags: ScoringFlags): ScoringSetup {
  const space = requireFlag("space", flags.space);
  const protocol = protocolFromFlags(space, flags);
  const provider = providerFlag(flags.provider);
  const threads = flags.threads === undefined ? undefined : intFlag("threads", flags.threads, 1, 256);
  // Default: on the CPU one worker per core (or per --threads cores); one GPU serves one worker.
  const workers =
    flags.workers === undefined || flags.workers === "auto"
      ? provider === "cpu"
        ? Math.min(MAX_AUTO_WORKERS, Math.max(1, Math.floor(availableParallelism() / (threads ?? 1))))
        : 1
      : intFlag("workers", flags.workers, 1, 64);
  const tap = flags.tap === "auto" ? "auto" : tapFlag(flags.tap);
  return { space, protocol, tap, provider, threads, workers, dataDir: resolveDataDir(flags["data-dir"]), quiet: flags.quiet, proxies: proxiesFlag(flags.proxies, space, protocol) };
}

/** A comma-separated list of integers in min..max, e.g. --ft-checkpoints 10,50. */
export function intListFlag(name: string, value: string, min: number, max: number): number[] {
  return value.split(",").map((v) => intFlag(name, v.trim(), min, max));
}

export function intFlag(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new DasError("INVALID_ARGUMENT", `--${name} must be an integer in ${min}..${max}, got '${value}'`, { flag: name });
  }
  return n;
}

export function requireFlag(name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new DasError("INVALID_ARGUMENT", `--${name} is required`, { flag: name });
  return value;
}

export function tapFlag(value: string): TapStrategy {
  if (!(TAP_STRATEGIES as readonly string[]).includes(value)) {
    throw new DasError("INVALID_ARGUMENT", `--tap must be auto or one of ${TAP_STRATEGIES.join(", ")}, got '${value}'`, { flag: "tap" });
  }
  return value as TapStrategy;
}

export function providerFlag(value: string): ProviderChoice {
  if (value !== "cpu" && value !== "cuda") {
    throw new DasError("INVALID_ARGUMENT", `--provider must be cpu or cuda, got '${value}'`, { flag: "provider" });
  }
  return value;
}
