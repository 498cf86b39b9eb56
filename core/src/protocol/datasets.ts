import { DasError } from "../errors.js";

export type DatasetName = "cifar10" | "mnist";

/** A scoring data set: image shape, classes and the normalisation every batch gets. Loading is the adapters' job. */
export interface DatasetInfo {
  readonly name: DatasetName;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  /** Per-channel mean and std of pixel values in [0, 1]: x -> (x/255 - mean) / std. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * The data sets scores can be computed on; the one source of their
 * normalisation constants.
 *
 * @example getDataset("mnist").mean // [0.1307]
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = Object.freeze({
  // NASWOT's CIFAR normalisation (mean and std of the training set, per channel).
  cifar10: Object.freeze({
    name: "cifar10",
    channels: 3,
    height: 32,
    width: 32,
    classes: 10,
    mean: Object.freeze([125.3 / 255, 123.0 / 255, 113.9 / 255]),
    std: Object.freeze([63.0 / 255, 62.1 / 255, 66.7 / 255]),
  }),
  // Standard MNIST normalisation (training-set mean and std).
  mnist: Object.freeze({ name: "mnist", channels: 1, height: 28, width: 28, classes: 10, mean: Object.freeze([0.1307]), std: Object.freeze([0.3081]) }),
} satisfies Record<DatasetName, DatasetInfo>);

export const DATASET_NAMES = Object.keys(DATASETS) as readonly DatasetName[];

/** The registry entry for `name`; an unknown name is INVALID_DATASET listing the known ones. */
export function getDataset(name: string): DatasetInfo {
  if (!Object.hasOwn(DATASETS, name)) {
    throw new DasError("INVALID_DATASET", `unknown dataset '${name}'; available: ${DATASET_NAMES.join(", ")}`, { field: "dataset", dataset: name });
  }
  return DATASETS[name as DatasetName];
}

/** The data set whose images a model's input takes (C x H x W), if any: 3x32x32 is cifar10, 1x28x28 mnist. */
export function datasetForShape(channels: number, height: number, width: number): DatasetInfo | undefined {
  return Object.values(DATASETS).find((d) => d.channels === channels && d.height === height && d.width === width);
}
