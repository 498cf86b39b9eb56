import { DasError } from "../errors.js";
import { DATASETS } from "../protocol/datasets.js";
import type { ImageSet } from "./cifar10.js";

/** Standard MNIST normalisation, from the dataset registry (`DATASETS.mnist`). */
export const MNIST_MEAN: readonly number[] = DATASETS.mnist.mean;
export const MNIST_STD: readonly number[] = DATASETS.mnist.std;

/** Parses uncompressed idx3 images (magic 2051) and, optionally, idx1 labels (magic 2049). */
export function parseMnist(images: Uint8Array, labels?: Uint8Array, name = "mnist"): ImageSet {
  const dv = new DataView(images.buffer, images.byteOffset, images.byteLength);
  if (images.length < 16 || dv.getUint32(0) !== 2051) throw new DasError("INVALID_DATASET", `${name}: not an idx3 image file (magic 2051)`);
  const count = dv.getUint32(4);
  const h = dv.getUint32(8);
  const w = dv.getUint32(12);
  if (images.length < 16 + count * h * w) throw new DasError("INVALID_DATASET", `${name}: ${count} images of ${h}x${w} need ${16 + count * h * w} bytes, file has ${images.length}`);
  let lab = new Uint8Array(count);
  if (labels) {
    const lv = new DataView(labels.buffer, labels.byteOffset, labels.byteLength);
    if (labels.length < 8 || lv.getUint32(0) !== 2049 || lv.getUint32(4) < count) throw new DasError("INVALID_DATASET", `${name}: labels do not match the images`);
    lab = labels.slice(8, 8 + count);
  }
  return { count, labels: lab, pixels: images.slice(16, 16 + count * h * w), shape: [1, h, w] };
}
