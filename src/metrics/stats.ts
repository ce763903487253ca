import type { LatencyStats } from '../core/results.js';

/**
 * Latency statistics. Percentiles interpolate linearly between order
 * statistics (the "R-7" rule numpy, tinybench and most spreadsheets use), so
 * they match what users compute on the raw samples kept in every report.
 */

export type { LatencyStats };

export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const h = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Ranks (1-based) j <= k such that [x(j), x(k)] covers the median with >= 95%
 * probability: the binomial(n, 1/2) tail sums, computed exactly in log space.
 */
export function medianCIRanks(n: number, confidence = 0.95): [number, number] {
  if (n < 6) return [1, n];
  const logC: number[] = [0];
  for (let i = 1; i <= n; i++) logC.push(logC[i - 1]! + Math.log((n - i + 1) / i));
  const pmf = logC.map((l) => Math.exp(l - n * Math.LN2));
  // Largest j with P(B <= j - 1) <= (1 - confidence) / 2; symmetric k = n + 1 - j.
  let tail = 0;
  let j = 0;
  while (tail + pmf[j]! <= (1 - confidence) / 2) tail += pmf[j++]!;
  const lower = Math.max(1, j);
  return [lower, n + 1 - lower];
}

export function latencyStats(
  samples: readonly number[],
  percentiles: readonly number[] = [50, 90, 95, 99],
): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) throw new Error('no samples');
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const [j, k] = medianCIRanks(n);
  const named: Record<string, number> = {};
  for (const p of percentiles) named[`p${p}`] = percentileSorted(sorted, p);
  return {
    count: n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean,
    std: Math.sqrt(variance),
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    percentiles: named,
    medianCI95: [sorted[j - 1]!, sorted[k - 1]!],
  };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The median of a sample, or null for an empty one. */
export function median(values: readonly number[]): number | null {
  return values.length
    ? percentileSorted(
        [...values].sort((a, b) => a - b),
        50,
      )
    : null;
}

/** Smallest and largest value, without spreading the array into arguments (which overflows the stack on long runs). */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The largest value, or `empty` for none. */
export function maxOr(values: Iterable<number>, empty: number): number {
  const [, hi] = extent(values);
  return hi === -Infinity ? empty : hi;
}

/** P(B <= j - 1) for B ~ Binomial(n, 1/2): the probability that the j-th order statistic lies above the median. */
function binomialHalfTail(n: number, j: number): number {
  let logC = 0;
  let tail = 0;
  for (let i = 0; i < j; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return tail;
}

/**
 * The distribution-free interval of the median of a few values (e.g. one p50
 * per process), with its exact coverage: with fewer than six values the
 * widest interval covers less than 95%, and the level says so.
 */
export function medianInterval(values: readonly number[]): { low: number; high: number; level: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) throw new Error('no values');
  const [j, k] = medianCIRanks(n);
  return { low: sorted[j - 1]!, high: sorted[k - 1]!, level: n === 1 ? 0 : 1 - 2 * binomialHalfTail(n, j) };
}
