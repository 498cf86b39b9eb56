/**
 * ZiCo (Li et al., ICLR 2023, as NASLib computes it): over B >= 2 batches, per Conv/Linear layer,
 * the sum over weights of mean_b |g_b| / std_b(g_b) (population std, weights with std 0 left out),
 * and the score is the sum over layers of the log of that sum.
 */
import type { ProxyDefinition } from "./registry.js";

export const zico: ProxyDefinition = {
  name: "zico",
  description: "sum over Conv/Linear layers of log sum_w mean|g| / std(g), gradients of 2 batches",
  needs: { labels: true, gradients: true, batches: 2 },
  async compute(ctx) {
    const passes = await Promise.all(ctx.input.batches.map((_, b) => ctx.pass("ce", b)));
    const layers = passes[0].weights.length;
    let score = 0;
    for (let l = 0; l < layers; l++) {
      const grads = passes.map((p) => p.weights[l].grad);
      const n = grads.length;
      let total = 0;
      for (let i = 0; i < grads[0].length; i++) {
        let mean = 0;
        let meanAbs = 0;
        for (const g of grads) {
          mean += g[i] / n;
          meanAbs += Math.abs(g[i]) / n;
        }
        let variance = 0;
        for (const g of grads) variance += (g[i] - mean) ** 2 / n;
        if (variance > 0) total += meanAbs / Math.sqrt(variance);
      }
      if (total !== 0) score += Math.log(total);
    }
    return score;
  },
};
