import { mannWhitneyP, smallestMannWhitneyP, wilcoxonSignedRankP } from './hypothesis.js';
import { median } from './stats.js';

/*
 * The smallest slow-down a comparison of this size and spread would have caught, so that "unchanged"
 * never hides "could not tell". Method: the observed log values are centred on their median (their
 * spread is kept, any real change removed), drawn with replacement in the same numbers, shifted by
 * log(1 + s) on the new side, and tested as compare tests them; the result is the smallest s on a
 * geometric grid (0.5 % to 200 %, 6 % steps) that the test calls significant at alpha in at least 80 %
 * of the draws. Deterministic: the draws come from a fixed seed.
 */

const POWER = 0.8;
const DRAWS = 200;
const GRID = Array.from({ length: 100 }, (_, i) => 0.005 * 1.06 ** i).filter((s) => s <= 2);

/** A small seeded generator (mulberry32): the same inputs give the same estimate. */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const centred = (logs: readonly number[]) => {
  const m = median(logs) ?? 0;
  return logs.map((x) => x - m);
};

/**
 * n values drawn with replacement. Measured times are continuous, so a value drawn twice is nudged by far
 * less than any real difference: ties that only the resampling made would push the rank tests off their
 * exact path.
 */
export function draw(pool: readonly number[], n: number, next: () => number): number[] {
  return Array.from({ length: n }, () => pool[Math.floor(next() * pool.length)]! + (next() - 0.5) * 1e-9);
}

/** Beyond the grid: read as "over +200 %". */
export const DETECTABLE_CAP = 2;

/** The smallest grid shift whose estimated power reaches 80 %, or DETECTABLE_CAP if none does. */
function smallestDetected(power: (shift: number) => number): number {
  let [lo, hi] = [0, GRID.length - 1];
  if (power(GRID[hi]!) < POWER) return DETECTABLE_CAP;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (power(GRID[mid]!) >= POWER) hi = mid;
    else lo = mid + 1;
  }
  return GRID[lo]!;
}

/** Paired design (`ab`): per-pair log(new/old), Wilcoxon signed-rank. */
export function detectablePaired(logRatios: readonly number[], alpha: number): number | null {
  const n = logRatios.length;
  if (n === 0 || 2 / 2 ** n >= alpha) return null;
  const noise = centred(logRatios);
  return smallestDetected((s) => {
    const next = generator(n * 7919);
    let hits = 0;
    for (let k = 0; k < DRAWS; k++) {
      const d = draw(noise, n, next).map((x) => x + Math.log1p(s));
      if (wilcoxonSignedRankP(d) < alpha && median(d)! > 0) hits++;
    }
    return hits / DRAWS;
  });
}

/** Two independent samples (per-process values), Mann-Whitney. */
export function detectableTwoSample(old: readonly number[], now: readonly number[], alpha: number): number | null {
  const [m, n] = [old.length, now.length];
  if (m === 0 || n === 0 || smallestMannWhitneyP(m, n) >= alpha) return null;
  const noise = [...centred(old.map(Math.log)), ...centred(now.map(Math.log))];
  return smallestDetected((s) => {
    const next = generator(m * 104729 + n);
    let hits = 0;
    for (let k = 0; k < DRAWS; k++) {
      const a = draw(noise, m, next);
      const b = draw(noise, n, next).map((x) => x + Math.log1p(s));
      if (mannWhitneyP(a, b) < alpha && median(b)! > median(a)!) hits++;
    }
    return hits / DRAWS;
  });
}
