import { DasError } from "../errors.js";
import { DATASETS } from "../protocol/datasets.js";
import { Rng } from "../util/rng.js";

/** CIFAR-10 binary format: <1 byte label><1024 R><1024 G><1024 B>, planes 32x32 row-major. */
export const CIFAR10_RECORD_BYTES = 3073;
/** NASWOT's CIFAR normalisation, from the dataset registry (`DATASETS.cifar10`). */
export const CIFAR10_MEAN: readonly number[] = DATASETS.cifar10.mean;
export const CIFAR10_STD: readonly number[] = DATASETS.cifar10.std;
/**
 * Scoring batches are drawn from the first 512 training records only, so the
 * bundled 512-image file and the full data set give identical scores.
 */
export const SCORING_POOL_SIZE = 512;

export interface ImageSet {
  readonly count: number;
  readonly labels: Uint8Array;
  /** Channel-major uint8 pixels, `count` records of C*H*W. */
  readonly pixels: Uint8Array;
  readonly shape: readonly [number, number, number];
}

export function parseCifar10(bytes: Uint8Array, name = "cifar10"): ImageSet {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new DasError(
      "INVALID_DATASET",
      `${name}: ${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * 3072);
  for (let r = 0; r < count; r++) {
    const o = r * CIFAR10_RECORD_BYTES;
    labels[r] = bytes[o];
    if (labels[r] > 9) throw new DasError("INVALID_DATASET", `${name}: record ${r} has label ${labels[r]} (expected 0..9)`);
    pixels.set(bytes.subarray(o + 1, o + CIFAR10_RECORD_BYTES), r * 3072);
  }
  return { count, labels, pixels, shape: [3, 32, 32] };
}

/** Normalised float32 batch [n, C, H, W] of the given records: (x/255 - mean) / std per channel. */
export function normaliseBatch(
  set: ImageSet,
  indices: readonly number[],
  mean: readonly number[] = CIFAR10_MEAN,
  std: readonly number[] = CIFAR10_STD,
): Float32Array {
  const [c, h, w] = set.shape;
  const plane = h * w;
  const size = c * plane;
  const out = new Float32Array(indices.length * size);
  indices.forEach((idx, b) => {
    if (!(idx >= 0 && idx < set.count)) throw new DasError("INVALID_ARGUMENT", `image index ${idx} outside 0..${set.count - 1}`);
    for (let ch = 0; ch < c; ch++) {
      const scale = 1 / (255 * std[ch]);
      const shift = mean[ch] / std[ch];
      const src = idx * size + ch * plane;
      const dst = b * size + ch * plane;
      for (let p = 0; p < plane; p++) out[dst + p] = set.pixels[src + p] * scale - shift;
    }
  });
  return out;
}

/** The seeded scoring batch: `batchSize` distinct records of the scoring pool. */
export function scoringBatchIndices(poolSize: number, batchSize: number, seed: number): number[] {
  if (!(Number.isInteger(batchSize) && batchSize >= 2)) {
    throw new DasError("INVALID_ARGUMENT", `batch size must be an integer >= 2, got ${batchSize}`);
  }
  if (batchSize > poolSize) {
    throw new DasError("INVALID_ARGUMENT", `batch size ${batchSize} exceeds the scoring pool of ${poolSize} images`);
  }
  return new Rng(seed).sample(poolSize, batchSize);
}

export function scoringBatch(
  set: ImageSet,
  batchSize: number,
  seed: number,
  mean: readonly number[] = CIFAR10_MEAN,
  std: readonly number[] = CIFAR10_STD,
): Float32Array {
  const pool = Math.min(set.count, SCORING_POOL_SIZE);
  return normaliseBatch(set, scoringBatchIndices(pool, batchSize, seed), mean, std);
}
