import { normalCdf } from './stats.js';

/**
 * Significance tests for compare. Exact distributions where samples are small
 * (process-level values: a handful per side), normal approximations with tie
 * corrections where they are large or tied. Two-sided p-values throughout.
 */

/** Average ranks (1-based) of `values`, and the tie term sum(t^3 - t) over groups of equal values. */
function rank(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length).fill(0);
  let tieTerm = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.v === order[i]!.v) j++;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) ranks[order[k]!.i] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/** Number of ways each U = 0..m*n arises when m values of one sample are placed among m + n. */
function mannWhitneyCounts(m: number, n: number): number[] {
  // counts[j][u] for samples of sizes (i, j), built up over i.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const row = new Array<number>(i * j + 1).fill(0);
      // The largest value belongs to the first sample (adds j to U) or to the second.
      const fromFirst = prev[j]!;
      for (let u = 0; u < fromFirst.length; u++) row[u + j]! += fromFirst[u]!;
      if (j > 0) {
        const fromSecond = cur[j - 1]!;
        for (let u = 0; u < fromSecond.length; u++) row[u]! += fromSecond[u]!;
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n]!;
}

const EXACT_LIMIT = 50;

/** Two-sided p from an exact null distribution given as counts per statistic value. */
function exactTwoSided(counts: readonly number[], observed: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let below = 0;
  let above = 0;
  counts.forEach((c, s) => {
    if (s <= observed) below += c;
    if (s >= observed) above += c;
  });
  return Math.min(1, (2 * Math.min(below, above)) / total);
}

/**
 * Mann-Whitney U test: do two independent samples come from one distribution?
 * Exact without ties when both sides are small; otherwise the normal
 * approximation with tie and continuity corrections.
 */
export function mannWhitneyP(a: readonly number[], b: readonly number[]): number {
  const [m, n] = [a.length, b.length];
  if (m === 0 || n === 0) return 1;
  const { ranks, tieTerm } = rank([...a, ...b]);
  const u = ranks.slice(0, m).reduce((s, r) => s + r, 0) - (m * (m + 1)) / 2;
  if (tieTerm === 0 && m <= EXACT_LIMIT && n <= EXACT_LIMIT) return exactTwoSided(mannWhitneyCounts(m, n), u);
  const total = m + n;
  const sigma = Math.sqrt(((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  if (sigma === 0) return 1;
  const z = (Math.abs(u - (m * n) / 2) - 0.5) / sigma;
  return Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))));
}

/**
 * Wilcoxon signed-rank test on paired differences (zeros dropped): is their
 * median zero? Exact without ties for up to 50 pairs, else the normal approximation.
 */
export function wilcoxonSignedRankP(differences: readonly number[]): number {
  const d = differences.filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return 1;
  const { ranks, tieTerm } = rank(d.map(Math.abs));
  const wPlus = d.reduce((s, x, i) => (x > 0 ? s + ranks[i]! : s), 0);
  if (tieTerm === 0 && n <= EXACT_LIMIT) {
    // counts[s]: subsets of ranks 1..n summing to s.
    let counts = [1];
    for (let r = 1; r <= n; r++) {
      const next = new Array<number>(counts.length + r).fill(0);
      counts.forEach((c, s) => {
        next[s]! += c;
        next[s + r]! += c;
      });
      counts = next;
    }
    return exactTwoSided(counts, wPlus);
  }
  const mean = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  if (sigma === 0) return 1;
  const z = (Math.abs(wPlus - mean) - 0.5) / sigma;
  return Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))));
}

/**
 * McNemar's exact test on paired binary outcomes: `b` items went one way
 * (right to wrong), `c` the other; under the null each discordant item is a
 * fair coin.
 */
export function mcNemarExactP(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  let logC = 0;
  let tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) {
    if (k > 0) logC += Math.log((n - k + 1) / k);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/** The smallest two-sided p-value a rank test on samples of these sizes can give: below alpha, it can decide. */
export function smallestMannWhitneyP(m: number, n: number): number {
  let ways = 1;
  for (let k = 1; k <= m; k++) ways = (ways * (n + k)) / k;
  return Math.min(1, 2 / ways);
}

export function geometricMean(values: readonly number[]): number | null {
  if (values.length === 0 || values.some((v) => !(v > 0))) return null;
  return Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
}
