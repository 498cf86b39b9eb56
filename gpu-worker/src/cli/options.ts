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
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  "fast-train": { type: "string", default: "0" },
  lr: { type: "string" },
  "ft-batch-size": { type: "string" },
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
  json: boolean;
  quiet: boolean;
  "fast-train": string;
  lr?: string;
  "ft-batch-size"?: string;
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
