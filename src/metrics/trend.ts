import type { DriftTrend } from '../core/results.js';

/** Least-squares line through (i, y[i]), i = 0, 1, ...: slope, its standard error, and the residuals. */
export function leastSquares(y: readonly number[]): {
  slope: number;
  intercept: number;
  se: number;
  residuals: number[];
} {
  const n = y.length;
  if (n < 2) return { slope: 0, intercept: y[0] ?? 0, se: Infinity, residuals: y.map(() => 0) };
  const mx = (n - 1) / 2;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (i - mx) ** 2;
    sxy += (i - mx) * (y[i]! - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residuals = y.map((v, i) => v - intercept - slope * i);
  const sse = residuals.reduce((a, r) => a + r * r, 0);
  const se = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : Infinity;
  return { slope, intercept, se, residuals };
}

/** Lag-1 autocorrelation of a series (0 for a constant one). */
export function lag1Autocorrelation(x: readonly number[]): number {
  const n = x.length;
  if (n < 3) return 0;
  const m = x.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (x[i]! - m) ** 2;
    if (i > 0) num += (x[i]! - m) * (x[i - 1]! - m);
  }
  return den > 0 ? num / den : 0;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (p in (0, 1)), by bisection on the distribution function. */
export function studentQuantile(p: number, df: number): number {
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentQuantile(1 - p, df);
  let [lo, hi] = [0, 1];
  while (studentCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const verdictOf = (low: number, high: number): DriftTrend['verdict'] =>
  low > 0 ? 'grows' : high < 0 ? 'shrinks' : 'bounded';

/**
 * Whether a per-frame figure grows with the frames seen: one least-squares slope per stream over its frames from
 * `from` on, and the interval of their mean (Student's t over the streams, which are independent runs). One
 * stream alone gives its own slope's interval, its standard error widened for the residuals' lag-1
 * autocorrelation (the effective sample size n(1-r)/(1+r)), since neighbouring frames share their states.
 */
export function streamTrend(series: readonly (readonly number[])[], from: number, level = 0.95): DriftTrend {
  const fitted = series.map((s) => s.slice(from));
  const frames = fitted.length ? Math.min(...fitted.map((s) => s.length)) : 0;
  const all = fitted.flat();
  const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
  const fits = fitted.map((s) => leastSquares(s));
  const slopes = fits.map((f) => f.slope);
  const slope = slopes.length ? slopes.reduce((a, b) => a + b, 0) / slopes.length : 0;
  const q = (1 + level) / 2;
  let half: number;
  let method: string;
  if (slopes.length >= 2) {
    const sd = Math.sqrt(slopes.reduce((a, b) => a + (b - slope) ** 2, 0) / (slopes.length - 1));
    half = studentQuantile(q, slopes.length - 1) * (sd / Math.sqrt(slopes.length));
    method = `mean of ${slopes.length} streams' least-squares slopes, Student's t interval over streams`;
  } else if (fits.length === 1 && frames > 2) {
    const f = fits[0]!;
    const r = Math.min(0.99, Math.max(0, lag1Autocorrelation(f.residuals)));
    const effective = (frames * (1 - r)) / (1 + r);
    const se = f.se * Math.sqrt((1 + r) / (1 - r));
    half = Number.isFinite(se) ? studentQuantile(q, Math.max(1, effective - 2)) * se : Infinity;
    method = "one stream's least-squares slope, standard error widened for lag-1 autocorrelation";
  } else {
    half = Infinity;
    method = 'too few frames for a slope';
  }
  // A series that does not move at all (an identical pair) has an exact zero slope: no interval to widen.
  if (!Number.isFinite(half) && all.every((v) => v === all[0])) half = 0;
  const [low, high] = [slope - half, slope + half];
  return {
    slopePerFrame: slope,
    low: Number.isFinite(low) ? low : -Number.MAX_VALUE,
    high: Number.isFinite(high) ? high : Number.MAX_VALUE,
    level,
    mean,
    relativeChange: mean !== 0 ? (slope * frames) / mean : null,
    frames,
    streams: series.length,
    method,
    verdict: verdictOf(low, high),
  };
}
