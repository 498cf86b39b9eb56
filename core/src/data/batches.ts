import type { Rng } from "../util/rng.js";
import { normaliseBatch, type ImageSet } from "./cifar10.js";

export interface LabelledBatch {
  readonly data: Float32Array;
  readonly onehot: Float32Array;
}

/** One-hot rows for the labels of `indices`. */
export function oneHot(set: ImageSet, indices: readonly number[], classes: number): Float32Array {
  const out = new Float32Array(indices.length * classes);
  indices.forEach((idx, i) => (out[i * classes + set.labels[idx]] = 1));
  return out;
}

/** A normalised labelled batch; with `rng`, each image is flipped left-right with probability 1/2. */
export function labelledBatch(set: ImageSet, indices: readonly number[], mean: readonly number[], std: readonly number[], classes: number, rng?: Rng): LabelledBatch {
  const data = normaliseBatch(set, indices, mean, std);
  if (rng) {
    const [c, h, w] = set.shape;
    for (let b = 0; b < indices.length; b++) {
      if (rng.next() < 0.5) continue;
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++) {
          const row = ((b * c + ch) * h + y) * w;
          data.subarray(row, row + w).reverse();
        }
    }
  }
  return { data, onehot: oneHot(set, indices, classes) };
}

/** Epoch-wise shuffled batches of a training set (the last partial batch of an epoch is dropped). */
export class BatchSampler {
  private order: number[] = [];
  private pos = 0;
  epoch = 0;

  constructor(
    private readonly count: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {}

  next(): number[] {
    if (this.pos + this.batchSize > this.order.length) {
      this.order = this.rng.sample(this.count, this.count);
      this.pos = 0;
      this.epoch++;
    }
    const batch = this.order.slice(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return batch;
  }
}

/** Cosine annealing from `lr` to 0 over `steps` (the schedule is driven from the host). */
export function cosineLr(lr: number, step: number, steps: number): number {
  return 0.5 * lr * (1 + Math.cos((Math.PI * step) / steps));
}
