import { describe, expect, it } from "vitest";
import { CIFAR10_MEAN, CIFAR10_STD } from "../data/cifar10.js";
import { MNIST_MEAN, MNIST_STD } from "../data/mnist.js";
import { DATASETS, datasetForShape, getDataset } from "./datasets.js";

describe("dataset registry", () => {
  it("holds the normalisation the loaders use", () => {
    expect(getDataset("cifar10")).toMatchObject({ channels: 3, height: 32, width: 32, classes: 10 });
    expect(getDataset("cifar10").mean).toEqual([125.3 / 255, 123.0 / 255, 113.9 / 255]);
    expect(CIFAR10_MEAN).toBe(DATASETS.cifar10.mean);
    expect(CIFAR10_STD).toBe(DATASETS.cifar10.std);
    expect(MNIST_MEAN).toBe(DATASETS.mnist.mean);
    expect(MNIST_STD).toBe(DATASETS.mnist.std);
  });

  it("refuses unknown names with INVALID_DATASET naming the known ones", () => {
    expect(() => getDataset("imagenet")).toThrow(expect.objectContaining({ code: "INVALID_DATASET", message: expect.stringContaining("cifar10, mnist") }));
    expect(() => getDataset("toString")).toThrow(expect.objectContaining({ code: "INVALID_DATASET" }));
  });

  it("finds the data set of a model input shape", () => {
    expect(datasetForShape(1, 28, 28)?.name).toBe("mnist");
    expect(datasetForShape(3, 32, 32)?.name).toBe("cifar10");
    expect(datasetForShape(3, 224, 224)).toBeUndefined();
  });
});
