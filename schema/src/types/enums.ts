import { builder } from "../builder.js";

/** GraphQL enum value -> core's space name. */
export const SPACE_NAMES = { NB201: "nb201", NB101: "nb101", DARTS: "darts", ONNX: "onnx" } as const;
export type SpaceValue = keyof typeof SPACE_NAMES;
export const DATASET_NAMES = { CIFAR10: "cifar10", MNIST: "mnist" } as const;
export type DatasetValue = keyof typeof DATASET_NAMES;

export const spaceValue = (name: string): SpaceValue => (Object.keys(SPACE_NAMES) as SpaceValue[]).find((k) => SPACE_NAMES[k] === name) ?? "ONNX";
export const datasetValue = (name: string): DatasetValue => (Object.keys(DATASET_NAMES) as DatasetValue[]).find((k) => DATASET_NAMES[k] === name) ?? "CIFAR10";

export const SearchSpace = builder.enumType("SearchSpace", {
  description: "NB201 specs are arch strings, NB101 specs the JSON {\"adjacency\": [[...]], \"ops\": [...]}, DARTS specs genotype strings, ONNX specs the uploaded model's SHA-256.",
  values: {
    NB201: { description: "NAS-Bench-201 cells" },
    NB101: { description: "NAS-Bench-101 cells" },
    DARTS: { description: "DARTS genotypes (the NAS-Bench-301 network)" },
    ONNX: { description: "An uploaded ONNX model, named by its SHA-256" },
  } as const,
});

export const Dataset = builder.enumType("Dataset", {
  values: { CIFAR10: { description: "CIFAR-10, 3x32x32" }, MNIST: { description: "MNIST, 1x28x28 (uploaded models only)" } } as const,
});

export const BatchStatus = builder.enumType("BatchStatus", { values: ["RUNNING", "FINISHED"] as const });

export const ItemStatus = builder.enumType("ItemStatus", {
  values: { PENDING: { description: "queued or being scored" }, SCORED: {}, FAILED: {} } as const,
});

export const RuleSetting = builder.enumType("RuleSetting", {
  values: { INIT: { description: "scores at initialisation" }, FAST_TRAINED: { description: "scores after fast training" } } as const,
});
