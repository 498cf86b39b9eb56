import {
  batchesNeeded,
  dasPlusFeatures,
  dasPlusProxies,
  dasPlusValue,
  defaultDasPlusRule,
  DAS_PLUS,
  type DasPlusRule,
  BatchSampler,
  SCORING_POOL_SIZE,
  scoreProxies,
  scoringBatchIndices,
  fastTrainProtocol,
  getDataset,
  getSpace,
  isDasError,
  labelledBatch,
  protocolHash,
  Rng,
  scoreArchitecture,
  scoringBatch,
  type ArchitectureScore,
  type FastTrainProtocol,
  type ImageSet,
  type LabelledBatch,
  type RuntimeConfig,
  type ScoringProtocol,
  type TapStrategy,
} from "@das/core";
import { availableParallelism } from "node:os";
import { loadScoringImages } from "../data/data-dir.js";
import { nodeRuntime, type ProviderChoice } from "../runtime/node-runtime.js";
import { cachedTapChoice } from "../runtime/tap-choice-cache.js";
import { scoringSetup, type ScoringFlags } from "./options.js";
import { scoreOnWorkers, type ScoreOutcome } from "./scoring-pool.js";

/** From this many architectures up a run uses worker threads (5 NB201 cells ran no faster on 2 workers). */
const POOL_MIN_ARCHS = 8;

/**
 * What a scoring session is opened with: typed, validated, no command-line
 * strings. The CLI builds it from its flags (`scoringSetup`); worker threads
 * receive it as is.
 */
export interface ScoringSetup {
  readonly space: string;
  readonly protocol: ScoringProtocol;
  /** "auto": measured once per machine and batch size (`open` only; a worker gets the chosen strategy). */
  readonly tap: TapStrategy | "auto";
  readonly provider: ProviderChoice;
  /** Intra-op threads (default: every core). */
  readonly threads?: number;
  /** Worker threads `scoreAll` may use. */
  readonly workers: number;
  readonly dataDir: string;
  readonly quiet: boolean;
  /** The device recorded in scores (e.g. a CUDA device's name); default: the provider. */
  readonly device?: string;
  /**
   * Gradient proxies (core/src/proxies) computed beside the activation scores, as `proxies` in each
   * record, and "das_plus" for DAS+ (which adds the proxies its rule weighs).
   */
  readonly proxies?: readonly string[];
}

/**
 * What a scoring command sets up once and reuses for every architecture:
 * the runtime and the normalised scoring batch.
 */
export class ScoringSession {
  readonly space: string;
  readonly protocol: ScoringProtocol;
  tap: TapStrategy;
  readonly runtime: RuntimeConfig;
  /** The normalised scoring batch, shared by every architecture. */
  readonly batch: Float32Array;
  /** Architectures scored at once by `scoreAll` (`--workers`), each on its own worker thread. */
  readonly workers: number;
  /** The space's DAS+ rule, when DAS+ is asked for (refused up front where the protocol has none). */
  readonly dasPlusRule?: DasPlusRule;
  private readonly set: ImageSet;
  private hash?: Promise<string>;

  constructor(private readonly setup: ScoringSetup) {
    this.space = getSpace(setup.space).name;
    this.protocol = setup.protocol;
    this.tap = setup.tap === "auto" ? "gram-int8" : setup.tap;
    this.runtime = { ...nodeRuntime({ provider: setup.provider, threads: setup.threads }), ...(setup.device ? { device: setup.device } : {}) };
    this.workers = setup.workers;
    const info = getDataset(this.protocol.dataset);
    this.set = loadScoringImages(info.name, setup.dataDir);
    this.batch = scoringBatch(this.set, this.protocol.batchSize, this.protocol.seed, info.mean, info.std);
    if (setup.proxies?.includes(DAS_PLUS)) this.dasPlusRule = defaultDasPlusRule(this.space, this.protocol);
  }

  /**
   * Labelled batches for the gradient proxies: the scoring batch itself (same images), then
   * batches drawn with the following seeds from the same pool (ZiCo compares two).
   */
  private proxyBatches(count: number): { images: Float32Array; onehot: Float32Array }[] {
    const info = getDataset(this.protocol.dataset);
    const pool = Math.min(this.set.count, SCORING_POOL_SIZE);
    return Array.from({ length: count }, (_, k) => {
      const b = labelledBatch(this.set, scoringBatchIndices(pool, this.batchSize, this.seed + k), info.mean, info.std, info.classes);
      return { images: b.data, onehot: b.onehot };
    });
  }

  /** Opens a session for a command's flags; `--tap auto` (the default) measures the strategies once per machine and batch size. */
  static open(flags: ScoringFlags): Promise<ScoringSession> {
    return ScoringSession.create(scoringSetup(flags));
  }

  /** Opens a session for a typed setup (`das serve`); tap "auto" is measured once per machine and batch size. */
  static async create(setup: ScoringSetup): Promise<ScoringSession> {
    const session = new ScoringSession(setup);
    if (setup.tap === "auto") {
      const log = (s: string) => setup.quiet || process.stderr.write(s + "\n");
      session.tap = (await cachedTapChoice(session.runtime, session.batch, session.batchSize, log)).strategy;
    }
    return session;
  }

  /** The gradient proxies each score carries: those asked for, then those DAS+ needs. */
  get proxyNames(): readonly string[] {
    const asked = (this.setup.proxies ?? []).filter((p) => p !== DAS_PLUS);
    const forDasPlus = this.dasPlusRule ? dasPlusProxies(this.dasPlusRule) : [];
    return [...asked, ...forDasPlus.filter((p) => !asked.includes(p))];
  }

  get batchSize(): number {
    return this.protocol.batchSize;
  }

  get seed(): number {
    return this.protocol.seed;
  }

  get dataset(): string {
    return this.protocol.dataset;
  }

  /** Network size overrides (--width, --depth). */
  get overrides(): Readonly<Record<string, number>> {
    return this.protocol.overrides;
  }

  /** Fast training before scoring (`--fast-train K`): the engine's protocol and the checkpoints asked for. */
  get fastTrain(): { readonly protocol: FastTrainProtocol; readonly checkpoints?: readonly number[] } | undefined {
    const protocol = fastTrainProtocol(this.protocol);
    return protocol && { protocol, checkpoints: this.protocol.fastTrain?.checkpoints };
  }

  /** Training batches for one architecture: every architecture trains on the same seeded sequence, so runs are comparable. */
  private trainingBatches = (): (() => LabelledBatch) => {
    const info = getDataset(this.protocol.dataset);
    const rng = new Rng(this.protocol.seed + 1);
    const sampler = new BatchSampler(this.set.count, this.protocol.fastTrain!.batchSize, rng);
    return () => labelledBatch(this.set, sampler.next(), info.mean, info.std, info.classes, rng);
  };

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
      const threads = this.setup.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));
      yield* scoreOnWorkers({ ...this.setup, tap: this.tap, threads, workers: 1, quiet: true }, specs, workers);
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

  async score(spec: string): Promise<ArchitectureScore> {
    this.hash ??= protocolHash(this.protocol);
    const score = await scoreArchitecture(
      {
        space: this.space,
        spec,
        protocol: this.protocol,
        protocolHash: await this.hash,
        tapStrategy: this.tap,
        trainingBatches: this.protocol.fastTrain ? this.trainingBatches : undefined,
      },
      this.batch,
      this.runtime,
    );
    const names = this.proxyNames;
    const [c, h, w] = this.set.shape;
    const proxies = names.length
      ? await scoreProxies(
          names,
          { space: this.space, spec, batchSize: this.batchSize, seed: this.seed, overrides: this.overrides, imageShape: [c, h, w], batches: this.proxyBatches(batchesNeeded(names)) },
          this.runtime,
        )
      : undefined;
    return this.withDasPlus(proxies ? { ...score, proxies } : score);
  }

  /** The score with DAS+ by today's rule, when asked for (also for a score read back from a file). */
  withDasPlus(score: ArchitectureScore): ArchitectureScore {
    return this.dasPlusRule ? { ...score, dasPlus: dasPlusValue(this.dasPlusRule, dasPlusFeatures(score)) } : score;
  }
}
