import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";
import type { RuntimeConfig } from "@das/core";

export type ProviderChoice = "cpu" | "cuda";

export interface NodeRuntimeOptions {
  readonly provider?: ProviderChoice;
  /** Intra-op threads; defaults to the cores available (2 on the reference machine). */
  readonly threads?: number;
}

const ortVersion = (createRequire(import.meta.url)("onnxruntime-node/package.json") as { version: string }).version;

/** onnxruntime-node as the engine's runtime: the CPU provider, or CUDA where the GPU libraries are installed. */
export function nodeRuntime(o: NodeRuntimeOptions = {}): RuntimeConfig {
  const provider = o.provider ?? "cpu";
  const threads = o.threads ?? availableParallelism();
  return {
    ort,
    provider,
    runtime: `onnxruntime-node ${ortVersion}`,
    sessionOptions: {
      executionProviders: [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      // Warnings (e.g. old exporters' initializers listed as inputs) would flood stderr; errors still surface as exceptions.
      logSeverityLevel: 3,
    },
  };
}
