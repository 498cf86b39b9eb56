import { DasError } from "../errors.js";

function checkPaired(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new DasError("INVALID_ARGUMENT", `paired samples differ in length: ${x.length} vs ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) throw new DasError("INVALID_ARGUMENT", `NaN at index ${i} in a correlation input`);
  }
}

/**
 * Kendall tau-b: (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), which
 * corrects for ties in either variable (singular scores tie at -Infinity).
 * O(n^2): exact and plenty fast for the few thousand points we rank.
 * Returns NaN when either variable is constant.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const dx = xi === x[j] ? 0 : xi < x[j] ? -1 : 1;
      const dy = yi === y[j] ? 0 : yi < y[j] ? -1 : 1;
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

/** Average ranks (1-based), ties sharing the mean of their positions. */
export function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((a, b) => v[a] - v[b] || (v[a] === v[b] ? 0 : v[a] < v[b] ? -1 : 1));
  const ranks = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman rho: Pearson correlation of average ranks (handles ties and -Infinity). */
export function spearmanRho(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Top-k overlap: the share of the k best by `truth` that are also among the k
 * best by `score` (ties at the cut broken by index, both sides alike).
 */
export function topKOverlap(score: readonly number[], truth: readonly number[], k: number): number {
  checkPaired(score, truth);
  if (!(k >= 1 && k <= score.length)) throw new DasError("INVALID_ARGUMENT", `top-k: k=${k} outside 1..${score.length}`);
  const top = (v: readonly number[]) => new Set(v.map((_, i) => i).sort((a, b) => v[b] - v[a] || a - b).slice(0, k));
  const a = top(score);
  let hits = 0;
  for (const i of top(truth)) if (a.has(i)) hits++;
  return hits / k;
}
