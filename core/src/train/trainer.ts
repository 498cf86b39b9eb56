import { DasError } from "../errors.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { nchwcBlockSize } from "../engine/nchwc-probe.js";
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { buildTrainingStep, type TrainingGraph, type TrainingGraphOptions } from "./training-step.js";

export interface SgdSettings {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

export interface StepResult {
  readonly loss: number;
  /** Correct top-1 predictions in the batch. */
  readonly correct: number;
}

/**
 * Runs training-step graphs. The state (parameters, momentum buffers,
 * running statistics) lives in runtime tensors: each step's outputs are the
 * next step's inputs, with no copies through JavaScript arrays.
 */
export class Trainer {
  private state: Map<string, Tensor>;

  private constructor(
    readonly graph: TrainingGraph,
    private readonly session: InferenceSession,
    private readonly runtime: RuntimeConfig,
  ) {
    const T = runtime.ort.Tensor;
    this.state = new Map<string, Tensor>();
    graph.params.forEach((p, i) => {
      this.state.set(p.name, new T("float32", p.initial.slice(), [...p.shape]));
      this.state.set(graph.velocities[i], new T("float32", new Float32Array(p.initial.length), [...p.shape]));
    });
    for (const s of graph.stats) this.state.set(s.name, new T("float32", s.initial.slice(), [...s.shape]));
  }

  static async create(runtime: RuntimeConfig, options: TrainingGraphOptions): Promise<Trainer> {
    const graph = buildTrainingStep({ ...options, nchwcBlockSize: options.nchwcBlockSize ?? (await nchwcBlockSize(runtime)) });
    let session: InferenceSession;
    try {
      session = await runtime.ort.InferenceSession.create(graph.model, runtime.sessionOptions);
    } catch (e) {
      throw new DasError("RUNTIME_FAILURE", `onnxruntime rejected the training graph: ${(e as Error).message}`, {}, { cause: e });
    }
    return new Trainer(graph, session, runtime);
  }

  async step(images: Float32Array, onehot: Float32Array, sgd: SgdSettings): Promise<StepResult> {
    const g = this.graph;
    const T = this.runtime.ort.Tensor;
    const scalar = (v: number) => new T("float32", Float32Array.of(v), []);
    const feeds: Record<string, Tensor> = {
      [g.images.name]: new T("float32", images, [...g.images.shape]),
      [g.onehot.name]: new T("float32", onehot, [...g.onehot.shape]),
      [g.hyper.lr]: scalar(sgd.lr),
      [g.hyper.momentum]: scalar(sgd.momentum),
      [g.hyper.weightDecay]: scalar(sgd.weightDecay),
    };
    for (const [k, v] of this.state) feeds[k] = v;
    const out = await this.session.run(feeds);
    const inputsOf = [...g.params.map((p) => p.name), ...g.velocities, ...g.stats.map((s) => s.name)];
    const outputsOf = [...g.outputs.params, ...g.outputs.velocities, ...g.outputs.stats];
    inputsOf.forEach((name, i) => this.state.set(name, out[outputsOf[i]]));
    const loss = Number((out[g.outputs.loss].data as Float32Array)[0]);
    if (!Number.isFinite(loss)) throw new DasError("RUNTIME_FAILURE", `training diverged: loss is ${loss}; lower the learning rate`);
    return { loss, correct: countCorrect(out[g.outputs.logits].data as Float32Array, onehot, g.onehot.shape[1]) };
  }

  /** Current values of the parameters and running statistics, by initializer name. */
  weights(): Map<string, Float32Array> {
    const names = [...this.graph.params.map((p) => p.name), ...this.graph.stats.map((s) => s.name)];
    return new Map(names.map((n) => [n, this.state.get(n)!.data as Float32Array]));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function countCorrect(logits: Float32Array, onehot: Float32Array, classes: number): number {
  let correct = 0;
  for (let i = 0; i < logits.length / classes; i++) {
    let best = 0;
    let label = 0;
    for (let c = 0; c < classes; c++) {
      if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      if (onehot[i * classes + c] === 1) label = c;
    }
    if (best === label) correct++;
  }
  return correct;
}
