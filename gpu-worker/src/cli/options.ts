import { DasError, TAP_STRATEGIES, type TapStrategy } from "@das/core";
import type { ProviderChoice } from "../runtime/node-runtime.js";

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
}

/** --width / --depth as the space's size overrides: DARTS channels and cells, NB201 stem and cells per stage, NB101 stem and cells per stack. */
export function sizeOverrides(space: string, width: string | undefined, depth: string | undefined): Record<string, number> {
  const overrides: Record<string, number> = {};
  if ((width !== undefined || depth !== undefined) && !["darts", "nb201", "nb101"].includes(space)) {
    throw new DasError("INVALID_ARGUMENT", `--width/--depth size a search space's network; the ${space} space has none`, { flag: width !== undefined ? "width" : "depth" });
  }
  if (width !== undefined) overrides[space === "darts" ? "channels" : "stemChannels"] = intFlag("width", width, 1, 1024);
  if (depth !== undefined) overrides[space === "darts" ? "layers" : space === "nb201" ? "cellsPerStage" : "cellsPerStack"] = intFlag("depth", depth, 1, 100);
  return overrides;
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
