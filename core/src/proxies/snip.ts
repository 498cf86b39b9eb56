/** snip (Lee et al., 2019, as zero-cost-nas computes it): the sum over Conv and Linear weights of |W * dL/dW| for the cross-entropy of one batch. */
import type { ProxyDefinition } from "./registry.js";

export const snip: ProxyDefinition = {
  name: "snip",
  description: "sum over Conv/Linear weights of |W dL/dW| (cross-entropy, one batch)",
  needs: { labels: true, gradients: true, batches: 1 },
  async compute(ctx) {
    const pass = await ctx.pass("ce");
    let sum = 0;
    for (const w of pass.weights) for (let i = 0; i < w.grad.length; i++) sum += Math.abs(w.weights[i] * w.grad[i]);
    return sum;
  },
};
