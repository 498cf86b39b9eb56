import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DasError, parseCifar10, type ImageSet } from "@das/core";

/** The small real data set shipped with the package: the first 512 CIFAR-10 training images. */
export const BUNDLED_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../data");

/** `--data-dir`, else DAS_DATA_DIR, else the bundled data. */
export function resolveDataDir(flag?: string): string {
  return resolve(flag || process.env.DAS_DATA_DIR || BUNDLED_DATA_DIR);
}

const DATASETS = ["cifar10"] as const;

/**
 * Training images for scoring. The full train-4000.bin is used when present;
 * the bundled train-512.bin holds the same first 512 records, and scoring
 * batches come from those only, so both give identical scores.
 */
export function loadScoringImages(dataset: string, dataDir: string): ImageSet {
  if (!(DATASETS as readonly string[]).includes(dataset)) {
    throw new DasError("INVALID_DATASET", `unknown dataset '${dataset}'; available: ${DATASETS.join(", ")}`, { dataset });
  }
  const candidates = ["train-4000.bin", "train-512.bin"].map((f) => join(dataDir, dataset, f));
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new DasError("INVALID_DATASET", `no CIFAR-10 training file in ${join(dataDir, dataset)} (looked for ${candidates.join(", ")}); set --data-dir or DAS_DATA_DIR`);
  }
  return parseCifar10(readFileSync(file), file);
}
