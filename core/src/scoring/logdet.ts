/** log |det A| of a square float64 matrix, with the method used and a singular flag. */
export interface LogDet {
  /** log |det A|; -Infinity when A is singular. */
  readonly logAbsDet: number;
  /** Sign of det A (0 when singular). */
  readonly sign: -1 | 0 | 1;
  readonly singular: boolean;
  readonly method: "cholesky" | "lu";
}

/**
 * Relative pivot tolerance. Kernels are integer-valued Gram sums: rounding in a
 * factorisation of an n x n matrix stays near n * eps * max|a_ij|, so a pivot
 * below a few hundred times that is a rank deficiency, not a small eigenvalue.
 */
const PIVOT_TOLERANCE = 256 * Number.EPSILON;

/**
 * Cholesky in float64 for symmetric positive definite matrices (every Hamming
 * kernel is positive semidefinite); pivoted LU when Cholesky meets a
 * non-positive pivot, which also tells genuinely singular matrices apart.
 *
 * @example logDet(Float64Array.of(4, 2, 2, 3), 2).logAbsDet // Math.log(8)
 */
export function logDet(a: Float64Array, n: number): LogDet {
  if (a.length !== n * n) throw new RangeError(`logDet: expected ${n * n} entries, got ${a.length}`);
  if (a.some((v) => !Number.isFinite(v))) throw new RangeError("logDet: matrix has NaN or infinite entries");
  const chol = choleskyLogDet(a, n);
  return chol ?? luLogDet(a, n);
}

function scaleOf(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function choleskyLogDet(a: Float64Array, n: number): LogDet | undefined {
  const tol = PIVOT_TOLERANCE * n * scaleOf(a);
  const l = new Float64Array(n * n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    const lj = j * n;
    for (let k = 0; k < j; k++) d -= l[lj + k] * l[lj + k];
    if (!(d > tol)) return undefined;
    const djj = Math.sqrt(d);
    l[lj + j] = djj;
    sum += Math.log(djj);
    for (let i = j + 1; i < n; i++) {
      const li = i * n;
      let s = a[li + j];
      for (let k = 0; k < j; k++) s -= l[li + k] * l[lj + k];
      l[li + j] = s / djj;
    }
  }
  return { logAbsDet: 2 * sum, sign: 1, singular: false, method: "cholesky" };
}

function luLogDet(a: Float64Array, n: number): LogDet {
  const tol = PIVOT_TOLERANCE * n * scaleOf(a);
  const m = Float64Array.from(a);
  let sign: 1 | -1 = 1;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    const pivot = m[p * n + k];
    if (!(Math.abs(pivot) > tol)) return { logAbsDet: -Infinity, sign: 0, singular: true, method: "lu" };
    if (p !== k) {
      for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
      sign = -sign as 1 | -1;
    }
    if (pivot < 0) sign = -sign as 1 | -1;
    sum += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return { logAbsDet: sum, sign, singular: false, method: "lu" };
}
