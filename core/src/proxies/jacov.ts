/**
 * jacov (Mellor et al., 2020, v1 of "Neural Architecture Search without Training", as zero-cost-nas
 * computes it): J = d(sum of logits)/d(images), one row per image; C = the correlation matrix of
 * the rows; the score is -sum_i [log(v_i + k) + 1 / (v_i + k)] over C's eigenvalues v, k = 1e-5,
 * i.e. -(log det(C + kI) + trace((C + kI)^-1)). A network whose Jacobian rows are constant
 * (correlations undefined) gets -1e8, as the reference writes for its NaN.
 */
import { symmetricEigenvalues } from "./eigen.js";
import type { ProxyDefinition } from "./registry.js";

const K = 1e-5;
export const JACOV_UNDEFINED = -1e8;

/** Correlation matrix of the n rows of `x` (length n * d), float64. */
export function rowCorrelations(x: Float32Array, n: number): Float64Array | undefined {
  const d = x.length / n;
  const centred = new Float64Array(x.length);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[i * d + j];
    mean /= d;
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j] - mean;
      centred[i * d + j] = c;
      ss += c * c;
    }
    if (!(ss > 0)) return undefined;
    norms[i] = Math.sqrt(ss);
  }
  const corr = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[i * d + j] * centred[k * d + j];
      corr[i * n + k] = corr[k * n + i] = s / (norms[i] * norms[k]);
    }
  }
  return corr;
}

export function jacovScore(jacobian: Float32Array, n: number): number {
  const corr = rowCorrelations(jacobian, n);
  if (!corr) return JACOV_UNDEFINED;
  let score = 0;
  for (const v of symmetricEigenvalues(corr, n)) score -= Math.log(v + K) + 1 / (v + K);
  return Number.isFinite(score) ? score : JACOV_UNDEFINED;
}

export const jacov: ProxyDefinition = {
  name: "jacov",
  description: "-sum log(v + k) + 1/(v + k) over the eigenvalues of the correlation of input Jacobians",
  needs: { labels: false, gradients: true, batches: 1 },
  async compute(ctx) {
    const pass = await ctx.pass("sum-input");
    // No input gradient: the logits do not depend on the images (every path cut by `none`), so the
    // Jacobian rows are constant, as the reference finds them.
    return pass.inputGrad ? jacovScore(pass.inputGrad, ctx.input.batchSize) : JACOV_UNDEFINED;
  },
};
