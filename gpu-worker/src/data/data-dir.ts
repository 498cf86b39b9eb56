import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { DasError, getDataset, parseCifar10, parseMnist, type DatasetInfo, type ImageSet } from "@das/core";

/** The small real data sets shipped with the package (first 512 CIFAR-10 training and MNIST test images). */
export const BUNDLED_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../data");

/** `--data-dir`, else DAS_DATA_DIR, else the bundled data. */
export function resolveDataDir(flag?: string): string {
  return resolve(flag || process.env.DAS_DATA_DIR || BUNDLED_DATA_DIR);
}

function firstExisting(dir: string, files: readonly string[], dataset: string): string {
  const found = files.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!found) {
    throw new DasError("INVALID_DATASET", `no ${dataset} data in ${dir} (looked for ${files.join(", ")}); set --data-dir or DAS_DATA_DIR`);
  }
  return found;
}

/** The image files of each data set, the full one first, then the bundled 512-image sample. */
function readImageSet(info: DatasetInfo, dataDir: string): ImageSet {
  switch (info.name) {
    case "cifar10": {
      const file = firstExisting(join(dataDir, "cifar10"), ["train-4000.bin", "train-512.bin"], info.name);
      return parseCifar10(readFileSync(file), file);
    }
    case "mnist": {
      const dir = join(dataDir, "mnist");
      const images = firstExisting(dir, ["t10k-images-idx3-ubyte.gz", "t10k-512-images-idx3-ubyte.gz"], info.name);
      const labels = images.replace("images-idx3", "labels-idx1");
      return parseMnist(gunzipSync(readFileSync(images)), existsSync(labels) ? gunzipSync(readFileSync(labels)) : undefined, images);
    }
  }
}

/**
 * Images for scoring (their normalisation is the dataset registry's). The
 * full files are used when present; the bundled 512-image files hold the
 * same first 512 records, and scoring batches come from those only, so both
 * give identical scores.
 */
export function loadScoringImages(dataset: string, dataDir: string): ImageSet {
  const info = getDataset(dataset);
  const set = readImageSet(info, dataDir);
  const [c, h, w] = set.shape;
  if (c !== info.channels || h !== info.height || w !== info.width) {
    throw new DasError("INVALID_DATASET", `${dataDir}: the ${info.name} images are ${c}x${h}x${w}, not ${info.channels}x${info.height}x${info.width}`);
  }
  return set;
}

/** Training and test files of a split, by name: DIR/cifar10/{name}.bin in the CIFAR-10 binary format. */
export interface TrainingSplit {
  readonly train: string;
  readonly test: string;
}

/** The split `das train` and DTB-mini use: train-4000.bin and test-10000-jpeg.bin of ../shared/data. */
export const SHARED_SPLIT: TrainingSplit = { train: "train-4000", test: "test-10000-jpeg" };

/**
 * CIFAR-10 training and test sets for training runs. The `paper` DTB protocol's train-50000 is the
 * 50,000 CIFAR-10 training images in the same format (data_batch_1..5 concatenated): place it
 * beside the others on a GPU machine.
 */
export function loadTrainingData(dataDir: string, split: TrainingSplit = SHARED_SPLIT): { train: ImageSet; test: ImageSet } {
  const dir = join(dataDir, "cifar10");
  const train = join(dir, `${split.train}.bin`);
  const test = join(dir, `${split.test}.bin`);
  for (const f of [train, test]) {
    if (!existsSync(f)) {
      throw new DasError("INVALID_DATASET", `training needs ${f}; the bundled sample has scoring images only: pass --data-dir ../shared/data (or set DAS_DATA_DIR)`);
    }
  }
  return { train: parseCifar10(readFileSync(train), train), test: parseCifar10(readFileSync(test), test) };
}
