import { describe, expect, it } from "vitest";
import { adaptImages, resizeBilinear } from "./adapt-images.js";

const close = (got: ArrayLike<number>, want: readonly number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
};

describe("resizing as torchvision's Resize on tensors (bilinear, antialiased)", () => {
  it("upsamples 2x2 to 4x4 with half-pixel centres, edges clamped (worked by hand)", () => {
    // Along a row [a, b] -> [a, 0.75a + 0.25b, 0.25a + 0.75b, b]; then the same down the columns.
    const out = resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 2, 2, 4, 4);
    close(out, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });

  it("shrinks 4 -> 2 with the triangle filter widened by the scale (torch: antialias=True gives 5/7, 16/7)", () => {
    // Output 0: centre 1, taps 0..2 with weights 0.75, 0.75, 0.25 (normalised by 1.75).
    close(resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 1, 4, 1, 2), [5 / 7, 16 / 7]);
  });

  it("keeps a constant image constant at any size, and leaves an unchanged size alone", () => {
    const flat = new Float32Array(3 * 32 * 32).fill(0.25);
    const big = resizeBilinear(flat, 3, 32, 32, 224, 224);
    expect(big.length).toBe(3 * 224 * 224);
    expect(big.every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    expect(resizeBilinear(flat, 3, 32, 32, 32, 32)).toBe(flat);
  });
});

describe("channel adaptation", () => {
  it("repeats one channel to three and reduces three to one by the ITU-R 601 luma weights", () => {
    const gray = Float32Array.of(1, 2, 3, 4); // one 1x2x2 image
    const rgb = adaptImages(gray, 1, { channels: 1, height: 2, width: 2 }, { channels: 3, height: 2, width: 2 });
    expect(Array.from(rgb.images)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect(rgb.adaptation).toEqual({ from: [1, 2, 2], to: [3, 2, 2], resize: "none", channels: "repeat" });
    const back = adaptImages(Float32Array.of(1, 1, 0, 0, 0, 1), 1, { channels: 3, height: 1, width: 2 }, { channels: 1, height: 1, width: 2 });
    close(back.images, [0.299, 0.299 + 0.114]);
    expect(back.adaptation.channels).toBe("luma");
  });

  it("resizes and changes channels together, and refuses channel counts with no sound mapping", () => {
    const r = adaptImages(new Float32Array(2 * 28 * 28).fill(1), 2, { channels: 1, height: 28, width: 28 }, { channels: 3, height: 64, width: 64 });
    expect(r.images.length).toBe(2 * 3 * 64 * 64);
    expect(r.adaptation).toEqual({ from: [1, 28, 28], to: [3, 64, 64], resize: "bilinear", channels: "repeat" });
    expect(() => adaptImages(new Float32Array(3 * 4), 1, { channels: 3, height: 2, width: 2 }, { channels: 4, height: 2, width: 2 })).toThrow(/INPUT_SHAPE_MISMATCH|cannot adapt/);
  });
});
