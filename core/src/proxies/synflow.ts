/**
 * synflow (Tanaka et al., 2020, as zero-cost-nas computes it): with every weight replaced by its
 * absolute value and one all-ones image, R = sum of the logits; the score is the sum over Conv and
 * Linear weights of W dR/dW. zero-cost-nas removes BatchNorm (bn=False); here BatchNorm runs on
 * its running statistics at initialisation (mean 0, variance 1, gamma 1, beta 0), which is the
 * identity up to 1/sqrt(1 + 1e-5) per layer. onnxruntime's CPU Conv has no float64 kernel, and in
 * float32 R overflows for deep networks (1e36 already for NB201 cells), so the image is filled
 * with s = 2^-64 instead of 1 and the sum (taken in float64) divided by s: these networks have no
 * bias before the classifier and are positively homogeneous in their input (convolutions, ReLU on
 * non-negative values, pooling, BatchNorm at initialisation), so every dR/dW scales by exactly s.
 * The backward pass still overflows float32 for the largest networks (the gradient reaching an
 * early layer is the product of everything after it, whatever s is): such a score is +Infinity,
 * tied at the top of the ranking where the reference's float64 values are the largest.
 */
import type { ProxyDefinition } from "./registry.js";

/** The all-ones image scaled down by a power of two (exact in float32) to keep R finite. */
export const SYNFLOW_INPUT_SCALE = 2 ** -64;

export const synflow: ProxyDefinition = {
  name: "synflow",
  description: "sum over Conv/Linear weights of |W| dR/d|W|, R = sum of logits for an all-ones image",
  needs: { labels: false, gradients: true, batches: 0 },
  async compute(ctx) {
    const pass = await ctx.pass("sum-ones");
    let sum = 0;
    for (const w of pass.weights) for (let i = 0; i < w.grad.length; i++) sum += w.weights[i] * w.grad[i];
    return Number.isFinite(sum) ? sum / SYNFLOW_INPUT_SCALE : Infinity;
  },
};
