import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { CIFAR10_MEAN, CIFAR10_STD, DasError, MNIST_MEAN, MNIST_STD, parseCifar10, parseMnist, type ImageSet } from "@das/core";

/** The small real data sets shipped with the package (first 512 CIFAR-10 training and MNIST test images). */
export const BUNDLED_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../data");

/** `--data-dir`, else DAS_DATA_DIR, else the bundled data. */
export function resolveDataDir(flag?: string): string {
  return resolve(flag || process.env.DAS_DATA_DIR || BUNDLED_DATA_DIR);
}

export interface ScoringImages {
  readonly set: ImageSet;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export const DATASETS = ["cifar10", "mnist"] as const;
export type DatasetName = (typeof DATASETS)[number];

function firstExisting(dir: string, files: readonly string[], dataset: string): string {
  const found = files.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!found) {
    throw new DasError("INVALID_DATASET", `no ${dataset} data in ${dir} (looked for ${files.join(", ")}); set --data-dir or DAS_DATA_DIR`);
  }
  return found;
}

/**
 * Images for scoring. The full files are used when present; the bundled
 * 512-image files hold the same first 512 records, and scoring batches come
 * from those only, so both give identical scores.
 */
export function loadScoringImages(dataset: string, dataDir: string): ScoringImages {
  if (dataset === "cifar10") {
    const file = firstExisting(join(dataDir, "cifar10"), ["train-4000.bin", "train-512.bin"], dataset);
    return { set: parseCifar10(readFileSync(file), file), mean: CIFAR10_MEAN, std: CIFAR10_STD };
  }
  if (dataset === "mnist") {
    const dir = join(dataDir, "mnist");
    const images = firstExisting(dir, ["t10k-images-idx3-ubyte.gz", "t10k-512-images-idx3-ubyte.gz"], dataset);
    const labels = images.replace("images-idx3", "labels-idx1");
    const set = parseMnist(gunzipSync(readFileSync(images)), existsSync(labels) ? gunzipSync(readFileSync(labels)) : undefined, images);
    return { set, mean: MNIST_MEAN, std: MNIST_STD };
  }
  throw new DasError("INVALID_DATASET", `unknown dataset '${dataset}'; available: ${DATASETS.join(", ")}`, { dataset });
}

/** CIFAR-10 training (train-4000.bin) and test (test-10000-jpeg.bin) sets for training runs. */
export function loadTrainingData(dataDir: string): { train: ImageSet; test: ImageSet } {
  const dir = join(dataDir, "cifar10");
  const train = join(dir, "train-4000.bin");
  const test = join(dir, "test-10000-jpeg.bin");
  for (const f of [train, test]) {
    if (!existsSync(f)) {
      throw new DasError("INVALID_DATASET", `training needs ${f}; the bundled sample has scoring images only: pass --data-dir ../shared/data (or set DAS_DATA_DIR)`);
    }
  }
  return { train: parseCifar10(readFileSync(train), train), test: parseCifar10(readFileSync(test), test) };
}
