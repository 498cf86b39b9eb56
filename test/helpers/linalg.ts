/**
 * Linear algebra for checking the engine, deliberately by another route than
 * core/src/scoring/logdet.ts (Cholesky, then pivoted LU): the cyclic Jacobi
 * eigenvalue method on the symmetric matrix, log|det| = sum log|lambda|.
 */

/** Eigenvalues of a symmetric n x n matrix (row-major), by cyclic Jacobi rotations in float64. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`expected ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (m[i * n + j] !== m[j * n + i]) throw new RangeError(`not symmetric at (${i}, ${j})`);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i * n + i]);
}

/** log|det A| from the eigenvalues; -Infinity when one is zero to rounding (relative to the largest). */
export function eigenLogAbsDet(a: ArrayLike<number>, n: number): number {
  const eig = symmetricEigenvalues(a, n);
  const largest = Math.max(...Array.from(eig, Math.abs));
  let sum = 0;
  for (const l of eig) {
    if (Math.abs(l) <= 1e-10 * largest) return -Infinity;
    sum += Math.log(Math.abs(l));
  }
  return sum;
}

/** NASWOT's kernel straight from the definition: K[i, j] = number of units on which codes i and j agree. */
export function agreementKernel(codes: readonly ArrayLike<number>[]): Float64Array {
  const n = codes.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let agree = 0;
      for (let u = 0; u < codes[i].length; u++) if (codes[i][u] === codes[j][u]) agree++;
      k[i * n + j] = agree;
    }
  }
  return k;
}
