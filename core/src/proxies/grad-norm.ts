/** grad_norm (Abdelfattah et al., 2021): the sum over Conv and Linear layers of the L2 norm of the weight gradient of the cross-entropy. */
import type { ProxyDefinition } from "./registry.js";

export const gradNorm: ProxyDefinition = {
  name: "grad_norm",
  description: "sum over Conv/Linear layers of ||dL/dW||_2 (cross-entropy, one batch)",
  needs: { labels: true, gradients: true, batches: 1 },
  async compute(ctx) {
    const pass = await ctx.pass("ce");
    let sum = 0;
    for (const w of pass.weights) {
      let sq = 0;
      for (const g of w.grad) sq += g * g;
      sum += Math.sqrt(sq);
    }
    return sum;
  },
};
