/**
 * The Hamming kernel of DESIGN.md: K_H[i,j] = N_A - d_H(c_i, c_j).
 *
 * Taps deliver G = sum_t m_t C_t C_t^T (counts of units active in both i and
 * j, weighted by tap multiplicity). With |c_i| = G[i,i]:
 *   d_H(c_i, c_j) = |c_i| + |c_j| - 2 G[i,j]  =>  K_H = N_A - G_ii - G_jj + 2 G_ij.
 */
export function hammingKernelFromGram(gram: ArrayLike<number>, n: number, unitCount: number): Float64Array {
  if (gram.length !== n * n) throw new RangeError(`gram: expected ${n * n} entries, got ${gram.length}`);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const gii = gram[i * n + i];
    for (let j = 0; j < n; j++) k[i * n + j] = unitCount - gii - gram[j * n + j] + 2 * gram[i * n + j];
  }
  return k;
}

/**
 * Reference kernel straight from binary codes (row i = code of sample i), as
 * NASWOT's hook computes it: K = C C^T + (1 - C)(1 - C)^T. For tests and checks.
 */
export function hammingKernelFromCodes(codes: readonly ArrayLike<number>[]): Float64Array {
  const n = codes.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = codes[i];
      const b = codes[j];
      let agree = 0;
      for (let u = 0; u < a.length; u++) agree += a[u] === b[u] ? 1 : 0;
      k[i * n + j] = agree;
    }
  }
  return k;
}
