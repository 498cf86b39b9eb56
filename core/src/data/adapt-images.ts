/**
 * A scoring batch adapted to a model that takes another image size or channel count: resized as
 * torchvision's `Resize` does on tensors (bilinear, half-pixel centres, antialiased when shrinking:
 * torch's `interpolate(mode="bilinear", align_corners=False, antialias=True)`), then 1 channel
 * repeated to 3, or 3 reduced to 1 by the ITU-R 601 luma weights. Both act on the normalised
 * tensor; they are linear, so they commute with the dataset's per-channel normalisation (resizing
 * exactly, luma up to the affine map of the per-channel statistics).
 */
import { DasError } from "../errors.js";

export interface ImageShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** What was done to the batch, for the score's provenance. */
export interface InputAdaptation {
  readonly from: readonly [number, number, number];
  readonly to: readonly [number, number, number];
  readonly resize: "none" | "bilinear";
  readonly channels: "none" | "repeat" | "luma";
}

/** ITU-R BT.601 luma weights (torchvision's rgb_to_grayscale). */
export const LUMA_601 = [0.299, 0.587, 0.114] as const;

/** Taps and weights of one output index along an axis (torch's _compute_weights_aa for the bilinear filter). */
function axisWeights(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, i) => {
    const center = scale * (i + 0.5);
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights = new Float64Array(end - start);
    let total = 0;
    for (let j = 0; j < weights.length; j++) {
      const w = Math.max(0, 1 - Math.abs((j + start - center + 0.5) * invScale));
      weights[j] = w;
      total += w;
    }
    for (let j = 0; j < weights.length; j++) weights[j] /= total;
    return { start, weights };
  });
}

/** Resizes planes [P, H, W] to [P, outH, outW]: width first, then height (separable, as torch does). */
export function resizeBilinear(planes: Float32Array, count: number, h: number, w: number, outH: number, outW: number): Float32Array {
  if (h === outH && w === outW) return planes;
  const across = axisWeights(w, outW);
  const down = axisWeights(h, outH);
  const mid = new Float64Array(h * outW);
  const out = new Float32Array(count * outH * outW);
  for (let p = 0; p < count; p++) {
    const src = p * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < outW; x++) {
        const { start, weights } = across[x];
        let v = 0;
        for (let j = 0; j < weights.length; j++) v += weights[j] * planes[src + y * w + start + j];
        mid[y * outW + x] = v;
      }
    }
    const dst = p * outH * outW;
    for (let y = 0; y < outH; y++) {
      const { start, weights } = down[y];
      for (let x = 0; x < outW; x++) {
        let v = 0;
        for (let j = 0; j < weights.length; j++) v += weights[j] * mid[(start + j) * outW + x];
        out[dst + y * outW + x] = v;
      }
    }
  }
  return out;
}

/** `n` NCHW images of shape `from` as images of shape `to`, and what was done. */
export function adaptImages(images: Float32Array, n: number, from: ImageShape, to: ImageShape): { images: Float32Array; adaptation: InputAdaptation } {
  if (images.length !== n * from.channels * from.height * from.width) throw new DasError("INTERNAL", `adaptImages: ${images.length} values are not ${n} images of ${from.channels}x${from.height}x${from.width}`);
  const channels = from.channels === to.channels ? "none" : from.channels === 1 && to.channels === 3 ? "repeat" : from.channels === 3 && to.channels === 1 ? "luma" : undefined;
  if (!channels) throw new DasError("INPUT_SHAPE_MISMATCH", `cannot adapt ${from.channels}-channel images to a ${to.channels}-channel input: only 1 -> 3 (repeat) and 3 -> 1 (luma) are sound`);
  const resized = resizeBilinear(images, n * from.channels, from.height, from.width, to.height, to.width);
  const plane = to.height * to.width;
  let out = resized;
  if (channels === "repeat") {
    out = new Float32Array(n * 3 * plane);
    for (let b = 0; b < n; b++) for (let c = 0; c < 3; c++) out.set(resized.subarray(b * plane, (b + 1) * plane), (b * 3 + c) * plane);
  } else if (channels === "luma") {
    out = new Float32Array(n * plane);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < plane; i++) {
        const base = b * 3 * plane + i;
        out[b * plane + i] = LUMA_601[0] * resized[base] + LUMA_601[1] * resized[base + plane] + LUMA_601[2] * resized[base + 2 * plane];
      }
    }
  }
  return {
    images: out,
    adaptation: {
      from: [from.channels, from.height, from.width],
      to: [to.channels, to.height, to.width],
      resize: from.height === to.height && from.width === to.width ? "none" : "bilinear",
      channels,
    },
  };
}
