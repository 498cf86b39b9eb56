import { describe, expect, it } from "vitest";
import { CIFAR10_MEAN, CIFAR10_STD, normaliseBatch, parseCifar10, scoringBatchIndices } from "./cifar10.js";

function record(label: number, fill: (ch: number, p: number) => number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 1024; p++) r[1 + ch * 1024 + p] = fill(ch, p);
  return r;
}

describe("CIFAR-10 loader", () => {
  const bytes = new Uint8Array([...record(3, (ch) => 100 + ch), ...record(9, (_, p) => p % 256)]);

  it("parses labels and channel-major pixels", () => {
    const set = parseCifar10(bytes);
    expect(set.count).toBe(2);
    expect([...set.labels]).toEqual([3, 9]);
    expect(set.pixels[1024]).toBe(101);
    expect(set.pixels[3072 + 300]).toBe(300 % 256);
  });

  it("normalises with NASWOT's mean and std per channel", () => {
    const x = normaliseBatch(parseCifar10(bytes), [0]);
    for (let ch = 0; ch < 3; ch++) {
      expect(x[ch * 1024]).toBeCloseTo(((100 + ch) / 255 - CIFAR10_MEAN[ch]) / CIFAR10_STD[ch], 5);
    }
  });

  it("rejects a truncated file and bad labels with INVALID_DATASET", () => {
    expect(() => parseCifar10(bytes.subarray(0, 3000))).toThrow(expect.objectContaining({ code: "INVALID_DATASET" }));
    expect(() => parseCifar10(record(10, () => 0))).toThrow(/label 10/);
  });

  it("draws a seeded batch of distinct indices, the same for the same seed", () => {
    const a = scoringBatchIndices(512, 128, 1);
    expect(new Set(a).size).toBe(128);
    expect(Math.max(...a)).toBeLessThan(512);
    expect(scoringBatchIndices(512, 128, 1)).toEqual(a);
    expect(scoringBatchIndices(512, 128, 2)).not.toEqual(a);
    expect(() => scoringBatchIndices(100, 128, 1)).toThrow(/exceeds/);
  });
});
