import { getSpace, scoreArchitecture, scoringBatch, type ArchitectureScore, type RuntimeConfig, type TapStrategy } from "@das/core";
import { loadScoringImages, resolveDataDir } from "../data/data-dir.js";
import { nodeRuntime } from "../runtime/node-runtime.js";
import { intFlag, providerFlag, requireFlag, tapFlag, type ScoringFlags } from "./options.js";

/**
 * What a scoring command sets up once and reuses for every architecture:
 * the runtime and the normalised scoring batch.
 */
export class ScoringSession {
  readonly space: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly dataset: string;
  readonly tap: TapStrategy;
  readonly runtime: RuntimeConfig;
  /** The normalised scoring batch, shared by every architecture. */
  readonly batch: Float32Array;

  constructor(flags: ScoringFlags) {
    this.space = getSpace(requireFlag("space", flags.space)).name;
    this.batchSize = intFlag("batch-size", flags["batch-size"], 2, 512);
    this.seed = intFlag("seed", flags.seed, 0, 2 ** 32 - 1);
    this.dataset = flags.dataset;
    this.tap = tapFlag(flags.tap);
    this.runtime = nodeRuntime({
      provider: providerFlag(flags.provider),
      threads: flags.threads === undefined ? undefined : intFlag("threads", flags.threads, 1, 256),
    });
    const set = loadScoringImages(this.dataset, resolveDataDir(flags["data-dir"]));
    this.batch = scoringBatch(set, this.batchSize, this.seed);
  }

  score(spec: string): Promise<ArchitectureScore> {
    return scoreArchitecture(
      { space: this.space, spec, batchSize: this.batchSize, seed: this.seed, dataset: this.dataset, tapStrategy: this.tap },
      this.batch,
      this.runtime,
    );
  }
}
