/**
 * What a proxy is computed from: the architecture, the protocol, a labelled batch (and a second
 * one for proxies that compare batches), and the passes already run, shared between proxies (one
 * cross-entropy pass gives grad_norm, snip and ZiCo's first batch).
 */
import type { RuntimeConfig } from "../engine/ort.js";
import { SYNFLOW_INPUT_SCALE } from "./synflow.js";
import { gradientPasses, type GradientPass, type GradientPassRequest } from "./gradient-pass.js";

export interface LabelledImages {
  readonly images: Float32Array;
  readonly onehot: Float32Array;
}

export interface ProxyInput {
  readonly space: string;
  readonly spec: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly overrides?: Readonly<Record<string, number>>;
  /** Image shape [C, H, W] of the batches. */
  readonly imageShape: readonly [number, number, number];
  /** The scoring batch with its labels, then further batches (ZiCo needs at least two). */
  readonly batches: readonly LabelledImages[];
}

type PassKind = "ce" | "sum-ones" | "sum-input";

export class ProxyContext {
  private readonly passes = new Map<PassKind, Promise<GradientPass[]>>();

  constructor(
    readonly input: ProxyInput,
    readonly runtime: RuntimeConfig,
  ) {}

  /**
   * A pass, run once per context: "ce" (mean cross-entropy on labelled batch `b`, BatchNorm on
   * batch statistics; every batch through one session), "sum-input" (sum of logits on batch 0,
   * the input gradient only: jacov), "sum-ones" (synflow: |weights|, one all-ones image,
   * BatchNorm at its running statistics).
   */
  async pass(kind: PassKind, b = 0): Promise<GradientPass> {
    let p = this.passes.get(kind);
    if (!p) {
      const { space, spec, batchSize, seed, overrides, imageShape, batches } = this.input;
      const base = { space, spec, seed, overrides };
      let req: GradientPassRequest;
      if (kind === "ce") req = { ...base, batchSize, runs: batches, loss: "ce", batchNorm: "batch" };
      else if (kind === "sum-input") req = { ...base, batchSize, runs: [{ images: batches[0].images }], loss: "sum", batchNorm: "batch", weightGradients: false, inputGradient: true };
      else req = { ...base, batchSize: 1, runs: [{ images: new Float32Array(imageShape[0] * imageShape[1] * imageShape[2]).fill(SYNFLOW_INPUT_SCALE) }], loss: "sum", batchNorm: "running", weightTransform: (w) => w.map(Math.abs) };
      p = gradientPasses(req, this.runtime);
      this.passes.set(kind, p);
    }
    return (await p)[b];
  }
}
