/*
 * Early stopping for percentile latency claims, with the semantics of MLPerf LoadGen's early stopping
 * (implemented here from the binomial model, not from LoadGen's code).
 *
 * The claim "the p-th percentile latency is at or under a bound" fails when, in truth, a fraction
 * q = 1 - p (or more) of frames is over the bound. If that were so, the chance of seeing t or fewer
 * over-bound frames among h + t is
 *
 *   odds(h, t) = P(X <= t),  X ~ Binomial(h + t, q)
 *
 * and seeing them anyway refutes it with confidence c once odds(h, t) <= 1 - c. Tolerance (LoadGen's d,
 * which claims p - d instead of p) is fixed at zero, as the live capacity search asks for p itself.
 */

function checkClaim(p: number, confidence: number): void {
  if (!(p > 0 && p < 1)) throw new RangeError(`percentile must lie strictly between 0 and 1, got ${p}`);
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must lie strictly between 0 and 1, got ${confidence}`);
  }
}

/**
 * log P(X <= t) for X ~ Binomial(n, q), given log q and log(1 - q). Each term's log binomial coefficient
 * comes from the previous one (C(n, x) = C(n, x - 1) (n - x + 1) / x), so no factorial or gamma function
 * is needed, and the terms are summed relative to the largest so far, so none underflows on its own when
 * n is in the thousands and q^x (1 - q)^(n - x) is far below the smallest double.
 */
function logBinomialCdf(t: number, n: number, logQ: number, logP: number): number {
  const last = Math.min(t, n);
  let logC = 0;
  let max = -Infinity;
  let scaled = 0;
  for (let x = 0; x <= last; x++) {
    if (x > 0) logC += Math.log(n - x + 1) - Math.log(x);
    const term = logC + x * logQ + (n - x) * logP;
    if (term > max) {
      scaled = scaled * Math.exp(max - term) + 1;
      max = term;
    } else {
      scaled += Math.exp(term - max);
    }
  }
  return max + Math.log(scaled);
}

/** Per (p, confidence): t -> minimum passing count. The capacity search asks for the same few t on every step. */
const memo = new Map<string, Map<number, number>>();

/**
 * The least number h of frames at or under the bound that, together with t frames over it, supports the
 * claim "p-th percentile <= bound" at the given confidence: the least h with odds(h, t) <= 1 - confidence.
 * For p = 0.99 and 99 % confidence: t = 0 -> 459, t = 1 -> 661, t = 2 -> 836, t = 3 -> 998.
 */
export function minPassing(t: number, p: number, confidence: number): number {
  if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`over-bound count must be a whole number, got ${t}`);
  checkClaim(p, confidence);
  const key = `${p}|${confidence}`;
  let known = memo.get(key);
  if (!known) {
    known = new Map();
    memo.set(key, known);
  }
  const hit = known.get(t);
  if (hit !== undefined) return hit;

  // log1p keeps log(q) exact when p is close to 1, where 1 - p would lose digits.
  const logQ = Math.log1p(-p);
  const logP = Math.log(p);
  const logAlpha = Math.log1p(-confidence);
  const enough = (h: number) => logBinomialCdf(t, h + t, logQ, logP) <= logAlpha;

  // odds(h, t) falls as h grows (one more trial can only add over-bound frames), so "enough" is false up
  // to the answer and true from it on. h = 0 never suffices: odds(0, t) = 1 > 1 - confidence. The upper
  // end of the bracket is found by doubling and checked by evaluating it, so it is an upper bound by
  // construction rather than by an approximation of the tail.
  let lo = 0;
  let hi = 1;
  while (!enough(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > Number.MAX_SAFE_INTEGER) throw new RangeError(`no passing count for t = ${t} at p = ${p}`);
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  known.set(t, hi);
  return hi;
}

/**
 * The fewest frames the estimate accepts: minPassing(1) + 1 (662 for p99 at 99 %). The odds alone would
 * allow t = 0 (minPassing(0) frames, judged by their maximum); starting at t = 1 as LoadGen does means a
 * step always sets its single worst frame aside and needs as many frames as LoadGen asks of a p99 claim.
 */
export function minFrames(p = 0.99, confidence = 0.99): number {
  return minPassing(1, p, confidence) + 1;
}

export interface EarlyStoppingEstimate {
  /** An upper confidence bound on the p-th percentile latency: the (t + 1)-th largest sample. */
  estimateMs: number;
  n: number;
  /** t: how many of the largest samples the estimate lies below. */
  overlatencyAllowed: number;
}

/** Total order on latencies, Infinity included (a subtraction comparator would give NaN for two infinities). */
const ascending = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * LoadGen-style early-stopping estimate of the p-th percentile latency at the given confidence.
 *
 * Rule: with n samples, t is the largest whole number t >= 1 with minPassing(t) + t <= n, and the estimate
 * is the (t + 1)-th largest sample, the one with exactly t samples above it (at most t, when it is tied
 * with larger ones). Taking the estimate as the bound, at most t samples are over it and at least
 * n - t >= minPassing(t) are at or under it, so "p-th percentile <= estimate" holds at that confidence.
 * Equivalently, for continuous latencies the (t + 1)-th largest of n lies below the true p-th percentile
 * with probability P(Binomial(n, 1 - p) <= t) = odds(n - t, t) <= odds(minPassing(t), t) <= 1 - confidence.
 * LoadGen's own summary reports the t-th largest instead (setting aside t - 1), one order statistic more
 * cautious than the odds require; this follows the odds. minPassing(t) + t grows with t, so t is found by
 * doubling and bisection. Returns null when n < minFrames(p, confidence): t = 1 is not yet reachable.
 * Latencies may be Infinity (a frame that never finished); NaN is rejected.
 */
export function earlyStoppingEstimate(
  latencies: readonly number[],
  p = 0.99,
  confidence = 0.99,
): EarlyStoppingEstimate | null {
  checkClaim(p, confidence);
  if (latencies.some((v) => Number.isNaN(v))) throw new RangeError('a latency is NaN');
  const n = latencies.length;
  const t = overAllowed(n, p, confidence);
  if (t === null) return null;
  const sorted = [...latencies].sort(ascending);
  return { estimateMs: sorted[n - 1 - t]!, n, overlatencyAllowed: t };
}

/**
 * t of the estimate above: how many of n samples may lie over a bound that the p-th percentile still meets at
 * this confidence; null below minFrames. A run that plans n samples has failed once more than t are over.
 */
export function overAllowed(n: number, p = 0.99, confidence = 0.99): number | null {
  checkClaim(p, confidence);
  const fits = (t: number) => minPassing(t, p, confidence) + t <= n;
  if (!fits(1)) return null;
  // minPassing(t) >= 1 for every t, so t = n never fits: the doubling stops by n and keeps t within twice
  // the answer, which bounds the cost of the binomial sums (each is O(t)).
  let lo = 1;
  let hi = 2;
  while (fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export type PercentileCheck =
  | ({ status: 'estimated'; pass: boolean; boundMs: number } & EarlyStoppingEstimate)
  /** Fewer samples than minFrames: no claim either way, so the step cannot pass. */
  | { status: 'too-few'; pass: false; boundMs: number; n: number; needed: number };

/** Whether the early-stopping estimate of the p-th percentile is at or under boundMs; too few samples never pass. */
export function passesAtPercentile(
  latencies: readonly number[],
  boundMs: number,
  p = 0.99,
  confidence = 0.99,
): PercentileCheck {
  const estimate = earlyStoppingEstimate(latencies, p, confidence);
  if (estimate === null) {
    return { status: 'too-few', pass: false, boundMs, n: latencies.length, needed: minFrames(p, confidence) };
  }
  return { status: 'estimated', pass: estimate.estimateMs <= boundMs, boundMs, ...estimate };
}

/**
 * For a run that plans `plannedFrames` latencies against `boundMs`: a check, fed each latency as it comes with the
 * drops so far, that turns true once the run cannot pass any more: at the first drop, or once more latencies are over
 * the bound than the estimate over the planned frames can set aside. A failing run then costs a moment instead of
 * the frames a pass needs.
 */
export function failsOnceDecided(
  boundMs: number,
  plannedFrames: number,
  p = 0.99,
  confidence = 0.99,
): (dropped: number, latencyMs: number) => boolean {
  const allowed = overAllowed(plannedFrames, p, confidence) ?? 0;
  let over = 0;
  return (dropped, latencyMs) => {
    if (latencyMs > boundMs) over++;
    return dropped > 0 || over > allowed;
  };
}
