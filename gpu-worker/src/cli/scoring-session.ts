import {
  BatchSampler,
  DasError,
  DEFAULT_FAST_TRAIN,
  getSpace,
  isDasError,
  labelledBatch,
  Rng,
  scoreArchitecture,
  scoringBatch,
  type ArchitectureScore,
  type FastTrainRequest,
  type RuntimeConfig,
  type TapStrategy,
} from "@das/core";
import { availableParallelism } from "node:os";
import { loadScoringImages, resolveDataDir } from "../data/data-dir.js";
import { nodeRuntime } from "../runtime/node-runtime.js";
import { cachedTapChoice } from "../runtime/tap-choice-cache.js";
import { intFlag, intListFlag, providerFlag, requireFlag, sizeOverrides, tapFlag, type ScoringFlags } from "./options.js";
import { scoreOnWorkers, type ScoreOutcome } from "./scoring-pool.js";

/** From this many architectures up a run uses worker threads (5 NB201 cells ran no faster on 2 workers). */
const POOL_MIN_ARCHS = 8;
const MAX_AUTO_WORKERS = 8;

/**
 * What a scoring command sets up once and reuses for every architecture:
 * the runtime and the normalised scoring batch.
 */
export class ScoringSession {
  readonly space: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly dataset: string;
  tap: TapStrategy;
  readonly runtime: RuntimeConfig;
  /** The normalised scoring batch, shared by every architecture. */
  readonly batch: Float32Array;
  /** Fast training before scoring (`--fast-train K`), from the training images. */
  readonly fastTrain?: Omit<FastTrainRequest, "nextBatch"> & { readonly batches: () => FastTrainRequest["nextBatch"] };
  /** Network size overrides (--width, --depth). */
  readonly overrides: Readonly<Record<string, number>>;
  /** Architectures scored at once by `scoreAll` (`--workers`), each on its own worker thread. */
  readonly workers: number;

  private constructor(
    private readonly flags: ScoringFlags,
    tap: TapStrategy | undefined,
  ) {
    this.space = getSpace(requireFlag("space", flags.space)).name;
    this.batchSize = intFlag("batch-size", flags["batch-size"], 2, 512);
    this.seed = intFlag("seed", flags.seed, 0, 2 ** 32 - 1);
    this.dataset = flags.dataset;
    this.overrides = sizeOverrides(this.space, flags.width, flags.depth);
    this.tap = tap ?? "gram-int8";
    const provider = providerFlag(flags.provider);
    const threads = flags.threads === undefined ? undefined : intFlag("threads", flags.threads, 1, 256);
    this.runtime = nodeRuntime({ provider, threads });
    // Default: on the CPU one worker per core (or per --threads cores), at most 8 (each holds its own
    // session and data); one GPU serves one worker.
    this.workers =
      flags.workers === undefined || flags.workers === "auto"
        ? provider === "cpu"
          ? Math.min(MAX_AUTO_WORKERS, Math.max(1, Math.floor(availableParallelism() / (threads ?? 1))))
          : 1
        : intFlag("workers", flags.workers, 1, 64);
    const { set, mean, std } = loadScoringImages(this.dataset, resolveDataDir(flags["data-dir"]));
    if (this.space !== "onnx" && set.shape[0] !== 3) {
      throw new DasError("INVALID_DATASET", `the ${this.space} networks take 3-channel 32x32 images; use --dataset cifar10`);
    }
    this.batch = scoringBatch(set, this.batchSize, this.seed, mean, std);
    const steps = intFlag("fast-train", flags["fast-train"], 0, 100_000);
    if (steps > 0) {
      const protocol = {
        ...DEFAULT_FAST_TRAIN,
        steps,
        lr: flags.lr === undefined ? DEFAULT_FAST_TRAIN.lr : Number(flags.lr),
        batchSize: flags["ft-batch-size"] === undefined ? DEFAULT_FAST_TRAIN.batchSize : intFlag("ft-batch-size", flags["ft-batch-size"], 2, 1024),
      };
      if (!(protocol.lr > 0 && protocol.lr < 10)) throw new DasError("INVALID_ARGUMENT", `--lr must be in (0, 10), got '${flags.lr}'`);
      // Every architecture trains on the same sequence of batches (seeded), so runs are comparable.
      const batches = () => {
        const rng = new Rng(this.seed + 1);
        const sampler = new BatchSampler(set.count, protocol.batchSize, rng);
        return () => labelledBatch(set, sampler.next(), mean, std, 10, rng);
      };
      const checkpoints = flags["ft-checkpoints"] === undefined ? undefined : intListFlag("ft-checkpoints", flags["ft-checkpoints"], 1, steps);
      this.fastTrain = { protocol, batches, checkpoints };
    }
  }

  /** `--tap auto` (the default) measures the strategies once per machine and batch size. */
  static async open(flags: ScoringFlags): Promise<ScoringSession> {
    const explicit = flags.tap === "auto" ? undefined : tapFlag(flags.tap);
    const session = new ScoringSession(flags, explicit);
    if (!explicit) {
      const log = (s: string) => flags.quiet || process.stderr.write(s + "\n");
      session.tap = (await cachedTapChoice(session.runtime, session.batch, session.batchSize, log)).strategy;
    }
    return session;
  }

  /**
   * Scores every architecture, in input order: on `workers` worker threads
   * with cores / workers intra-op threads each (or --threads), or here
   * when one worker is asked for or there are too few architectures to repay
   * the workers' start (each loads the runtime and the data). A coded error
   * fails only its architecture.
   */
  async *scoreAll(specs: readonly string[]): AsyncGenerator<ScoreOutcome> {
    const workers = this.workersFor(specs.length);
    if (workers > 1) {
      // The tap strategy goes to the workers as chosen here (measured with this runtime's thread count).
      const perWorker = this.flags.threads ?? String(Math.max(1, Math.floor(availableParallelism() / workers)));
      yield* scoreOnWorkers({ ...this.flags, tap: this.tap, threads: perWorker, workers: "1", quiet: true }, specs, workers);
      return;
    }
    for (const spec of specs) {
      try {
        yield { spec, score: await this.score(spec) };
      } catch (e) {
        if (!isDasError(e)) throw e;
        yield { spec, error: e };
      }
    }
  }

  /** Worker threads `scoreAll` uses for this many architectures (1: this thread). */
  workersFor(count: number): number {
    return count >= POOL_MIN_ARCHS ? Math.min(this.workers, count) : 1;
  }

  score(spec: string): Promise<ArchitectureScore> {
    return scoreArchitecture(
      {
        space: this.space,
        spec,
        batchSize: this.batchSize,
        seed: this.seed,
        dataset: this.dataset,
        tapStrategy: this.tap,
        overrides: this.overrides,
        fastTrain: this.fastTrain ? { protocol: this.fastTrain.protocol, nextBatch: this.fastTrain.batches(), checkpoints: this.fastTrain.checkpoints } : undefined,
      },
      this.batch,
      this.runtime,
    );
  }
}
