/**
 * DTB training protocols: how a Darts-training-bench record is built. A protocol fixes everything
 * that changes a record (network size, data split, optimiser and schedule, seed, which states are
 * recorded), and its hash names the records it produced (`dtb/{protocolHash}/{archId}.json`).
 */
import { canonicalJson } from "../protocol/scoring-protocol.js";
import { DasError } from "../errors.js";
import { sha256Hex } from "../util/hash.js";

export interface DtbProtocol {
  readonly name: string;
  readonly description: string;
  readonly dataset: "cifar10";
  /** DARTS network size: stem channels and cells. */
  readonly width: number;
  readonly depth: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimiser: { readonly kind: "sgd"; readonly lr: number; readonly momentum: number; readonly weightDecay: number; readonly nesterov: boolean };
  /** Cosine annealing of the learning rate to 0 over all steps. */
  readonly schedule: "cosine";
  readonly seed: number;
  /** Training images (train-4000.bin: 4000 images; the paper protocol: the 50,000 of CIFAR-10) and the fixed test slice. */
  readonly split: { readonly train: string; readonly trainImages: number; readonly test: string; readonly testImages: number };
  /** Steps (besides 0 and each epoch's end) at which a state is recorded. */
  readonly earlySteps: readonly number[];
  /** Images of the fixed scoring batch (the first of the training set) for the atomic metrics. */
  readonly scoringBatch: number;
}

const SGD = { kind: "sgd", lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: false } as const;

/** The protocols `das dtb build` knows. */
export const DTB_PROTOCOLS: Readonly<Record<string, DtbProtocol>> = Object.freeze({
  mini: {
    name: "mini",
    description: "CPU-sized: a DARTS network of width 8 and 5 cells, 3 epochs on train-4000 (4000 CIFAR-10 images), tested on the first 1000 of test-10000",
    dataset: "cifar10",
    width: 8,
    depth: 5,
    epochs: 3,
    batchSize: 64,
    optimiser: SGD,
    schedule: "cosine",
    seed: 1,
    split: { train: "train-4000", trainImages: 4000, test: "test-10000-jpeg", testImages: 1000 },
    earlySteps: [10, 30],
    scoringBatch: 64,
  },
  paper: {
    name: "paper",
    description: "GPU-sized: the NB301 network (width 32, 8 cells), 100 epochs on the 50,000 CIFAR-10 training images, tested on all 10,000",
    dataset: "cifar10",
    width: 32,
    depth: 8,
    epochs: 100,
    batchSize: 96,
    optimiser: { ...SGD, lr: 0.025, weightDecay: 3e-4 },
    schedule: "cosine",
    seed: 1,
    split: { train: "train-50000", trainImages: 50_000, test: "test-10000-jpeg", testImages: 10_000 },
    earlySteps: [10, 50, 100, 200],
    scoringBatch: 128,
  },
  smoke: {
    name: "smoke",
    description: "For checks of the builder only, not a benchmark: width 4, 2 cells, 1 epoch of 8 steps on the first 256 training images, 200 test images",
    dataset: "cifar10",
    width: 4,
    depth: 2,
    epochs: 1,
    batchSize: 32,
    optimiser: SGD,
    schedule: "cosine",
    seed: 1,
    split: { train: "train-4000", trainImages: 256, test: "test-10000-jpeg", testImages: 200 },
    earlySteps: [2],
    scoringBatch: 16,
  },
});

export function getDtbProtocol(name: string): DtbProtocol {
  const p = DTB_PROTOCOLS[name];
  if (!p) throw new DasError("INVALID_ARGUMENT", `unknown DTB protocol '${name}'; known: ${Object.keys(DTB_PROTOCOLS).join(", ")}`, { field: "protocol" });
  return p;
}

/** SHA-256 of everything in the protocol that changes a record (not its description). */
export function dtbProtocolHash(p: DtbProtocol): Promise<string> {
  const { description: _description, ...rest } = p;
  return sha256Hex(canonicalJson({ dtb: 1, ...rest }));
}

/** Steps per epoch: the training images in whole batches (the last partial batch is dropped). */
export const stepsPerEpoch = (p: Pick<DtbProtocol, "split" | "batchSize">): number => Math.floor(p.split.trainImages / p.batchSize);

/** The steps whose state a record holds: 0, the early steps, and each epoch's end. */
export function recordedSteps(p: Pick<DtbProtocol, "split" | "batchSize" | "epochs" | "earlySteps">): number[] {
  const per = stepsPerEpoch(p);
  const ends = Array.from({ length: p.epochs }, (_, e) => (e + 1) * per);
  return [...new Set([0, ...p.earlySteps.filter((s) => s > 0 && s < per * p.epochs), ...ends])].sort((a, b) => a - b);
}
