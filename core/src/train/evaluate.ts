import { encodeModel } from "../onnx/encode.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { withSession } from "../engine/session.js";
import { getSpace } from "../spaces/registry.js";
import type { BuiltNetwork } from "../spaces/search-space.js";
import { countCorrect } from "./trainer.js";

export interface NetworkRef {
  readonly space: string;
  readonly spec: string;
  readonly seed: number;
  readonly overrides?: Readonly<Record<string, number>>;
}

/**
 * The network of a training run rebuilt for another purpose (evaluation with
 * running statistics, scoring with batch statistics), carrying the trained
 * weights. Built without folding, like the training graph, so initializer
 * names match one to one.
 */
export function buildWithWeights(ref: NetworkRef, batchSize: number, weights: ReadonlyMap<string, Float32Array>, batchNormStats: "batch" | "running"): BuiltNetwork {
  const space = getSpace(ref.space);
  const built = space.build(space.parse(ref.spec), { batchSize, seed: ref.seed, overrides: ref.overrides, foldZeros: false, batchNormStats });
  for (const [name, values] of weights) {
    // Running statistics only exist as initializers; scoring graphs normalise with batch statistics.
    built.builder.graph.setInitializer(name, values);
  }
  return built;
}

/** Top-1 accuracy (fraction) of trained weights on labelled images, BatchNorm with running statistics. */
export async function evaluateAccuracy(
  ref: NetworkRef,
  weights: ReadonlyMap<string, Float32Array>,
  images: (start: number, count: number) => { data: Float32Array; onehot: Float32Array },
  total: number,
  runtime: RuntimeConfig,
  batchSize = 500,
): Promise<number> {
  const built = buildWithWeights(ref, batchSize, weights, "running");
  built.builder.graph.output(built.logits);
  let correct = 0;
  let seen = 0;
  await withSession(
    runtime,
    encodeModel(built.builder.graph.build()),
    async (session) => {
      for (let start = 0; start + batchSize <= total; start += batchSize) {
        const { data, onehot } = images(start, batchSize);
        const out = await session.run({ [built.input.name]: new runtime.ort.Tensor("float32", data, [...built.input.shape]) });
        correct += countCorrect(out[built.logits.name].data as Float32Array, onehot, built.logits.shape[1]);
        seen += batchSize;
      }
    },
    { what: "the evaluation graph" },
  );
  return correct / seen;
}
