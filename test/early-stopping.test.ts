import test from 'ava';
import {
  earlyStoppingEstimate,
  minFrames,
  minPassing,
  overAllowed,
  passesAtPercentile,
} from '../src/metrics/early-stopping.js';
import { failsEarly, judgeTrial, startRate, trialMs } from '../src/live/sweep.js';

/*
 * The reference below shares nothing with the module: exact rational arithmetic on BigInt and a plain
 * scan over h. With p = a / b and 1 - confidence = u / v, odds(h, t) <= 1 - confidence reads
 *   v * sum_{x <= t} C(n, x) a^(n - x) (b - a)^x <= u * b^n,   n = h + t,
 * which has no rounding at all.
 */
function choose(n: bigint, x: bigint): bigint {
  let c = 1n;
  for (let i = 0n; i < x; i++) c = (c * (n - i)) / (i + 1n);
  return c;
}

interface Claim {
  name: string;
  p: number;
  confidence: number;
  /** p = a / b */
  a: number;
  b: number;
  /** 1 - confidence = u / v */
  u: number;
  v: number;
}

const P99_C99: Claim = { name: 'p99 at 99 %', p: 0.99, confidence: 0.99, a: 99, b: 100, u: 1, v: 100 };
const P90_C99: Claim = { name: 'p90 at 99 %', p: 0.9, confidence: 0.99, a: 9, b: 10, u: 1, v: 100 };
const P95_C95: Claim = { name: 'p95 at 95 %', p: 0.95, confidence: 0.95, a: 19, b: 20, u: 1, v: 20 };

const refCache = new Map<string, number>();
function refMinPassing(t: number, c: Claim): number {
  const key = `${c.name}|${t}`;
  const cached = refCache.get(key);
  if (cached !== undefined) return cached;
  const [T, A, B, U, V] = [t, c.a, c.b, c.u, c.v].map(BigInt) as [bigint, bigint, bigint, bigint, bigint];
  for (let h = 0; ; h++) {
    const n = BigInt(h) + T;
    let sum = 0n;
    for (let x = 0n; x <= T && x <= n; x++) sum += choose(n, x) * A ** (n - x) * (B - A) ** x;
    if (V * sum <= U * B ** n) {
      refCache.set(key, h);
      return h;
    }
  }
}

/** The largest t >= 1 with refMinPassing(t) + t <= n, by a plain upward scan; null if t = 1 does not fit. */
function refOverlatencyAllowed(n: number, c: Claim): number | null {
  if (refMinPassing(1, c) + 1 > n) return null;
  let t = 1;
  while (refMinPassing(t + 1, c) + t + 1 <= n) t++;
  return t;
}

/** A fixed shuffle (a linear congruential order), so the module has to sort. */
function shuffled(values: number[]): number[] {
  const out = [...values];
  let s = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * n - tail ordinary latencies, then `tail` huge ones 1e6, 2e6, …, shuffled. The ordinary ones are 1 … n - tail
 * ms, or with `cycle`, 1 … cycle ms repeated, so that their largest stays put as n grows.
 */
function withHugeTail(n: number, tail: number, cycle = Infinity): number[] {
  const ordinary = Array.from({ length: n - tail }, (_, i) => (i % cycle) + 1);
  const huge = Array.from({ length: tail }, (_, i) => (i + 1) * 1e6);
  return shuffled([...ordinary, ...huge]);
}

test('minPassing at p99 / 99 % matches the exact binomial reference for t = 0..5, and the published counts', (t) => {
  for (let k = 0; k <= 5; k++) t.is(minPassing(k, 0.99, 0.99), refMinPassing(k, P99_C99), `t = ${k}`);
  t.deepEqual(
    [0, 1, 2, 3].map((k) => minPassing(k, 0.99, 0.99)),
    [459, 661, 836, 998],
  );
});

test('minPassing at p90 / 99 % and p95 / 95 % matches the exact reference for t = 0..5', (t) => {
  for (const claim of [P90_C99, P95_C95]) {
    for (let k = 0; k <= 5; k++) {
      t.is(minPassing(k, claim.p, claim.confidence), refMinPassing(k, claim), `${claim.name}, t = ${k}`);
    }
  }
});

test('minPassing is least: one fewer passing frame is not enough (exact check at the boundary)', (t) => {
  // The reference scans upward, so this holds by construction there; here it is stated for the module's
  // answer directly, with the exact odds, for larger t than the scan above covers.
  for (const k of [8, 20]) {
    const h = minPassing(k, 0.99, 0.99);
    const odds = (pass: number) => {
      const n = BigInt(pass + k);
      let sum = 0n;
      for (let x = 0n; x <= BigInt(k); x++) sum += choose(n, x) * 99n ** (n - x);
      return { sum100: 100n * sum, total: 100n ** n };
    };
    const at = odds(h);
    const below = odds(h - 1);
    t.true(at.sum100 <= at.total, `odds(${h}, ${k}) <= 1 %`);
    t.true(below.sum100 > below.total, `odds(${h - 1}, ${k}) > 1 %`);
  }
});

test('minFrames is 662 for p99 at 99 % (the default) and minPassing(1) + 1 elsewhere', (t) => {
  t.is(minFrames(), 662);
  t.is(minFrames(0.99, 0.99), 662);
  t.is(minFrames(0.9, 0.99), refMinPassing(1, P90_C99) + 1);
  t.is(minFrames(0.95, 0.95), refMinPassing(1, P95_C95) + 1);
});

test('662 equal latencies: the estimate is that latency, with one frame allowed over it', (t) => {
  t.deepEqual(earlyStoppingEstimate(new Array<number>(662).fill(37.5)), {
    estimateMs: 37.5,
    n: 662,
    overlatencyAllowed: 1,
  });
});

test('a huge tail is ignored only as far as t allows (t from the exact reference)', (t) => {
  // 700 frames allow one over the bound: of two huge ones, the smaller is the estimate.
  const t700 = refOverlatencyAllowed(700, P99_C99);
  t.is(t700, 1);
  t.deepEqual(earlyStoppingEstimate(withHugeTail(700, 2)), { estimateMs: 1e6, n: 700, overlatencyAllowed: 1 });
  // 900 frames allow two: both huge ones are above the estimate, the largest ordinary one is it.
  const t900 = refOverlatencyAllowed(900, P99_C99);
  t.is(t900, 2);
  t.deepEqual(earlyStoppingEstimate(withHugeTail(900, 2)), { estimateMs: 898, n: 900, overlatencyAllowed: 2 });
  // At exactly minPassing(t) + t frames, t is reached; one frame fewer, it is not.
  const edge = refMinPassing(2, P99_C99) + 2;
  t.is(earlyStoppingEstimate(withHugeTail(edge, 2))!.overlatencyAllowed, 2);
  t.is(earlyStoppingEstimate(withHugeTail(edge - 1, 2))!.overlatencyAllowed, 1);
});

test('661 latencies give no estimate, and the check says too few', (t) => {
  const few = new Array<number>(661).fill(10);
  t.is(earlyStoppingEstimate(few), null);
  t.deepEqual(passesAtPercentile(few, 200), { status: 'too-few', pass: false, boundMs: 200, n: 661, needed: 662 });
  t.is(earlyStoppingEstimate([]), null);
});

test('t matches the exact reference and never falls as n grows; the estimate over a fixed tail never rises', (t) => {
  let lastT = 0;
  let lastEstimate = Infinity;
  for (let n = 662; n <= 1700; n += 1) {
    const e = earlyStoppingEstimate(withHugeTail(n, 6, 150))!;
    t.is(e.overlatencyAllowed, refOverlatencyAllowed(n, P99_C99)!, `n = ${n}`);
    t.true(e.overlatencyAllowed === lastT || e.overlatencyAllowed === lastT + 1, `n = ${n}: t steps by at most one`);
    t.true(e.estimateMs <= lastEstimate, `n = ${n}: estimate does not rise`);
    lastT = e.overlatencyAllowed;
    lastEstimate = e.estimateMs;
  }
  // By 1700 frames, t = 6 (minPassing(6) + 6 <= 1700), so all six huge frames lie above the estimate.
  t.is(lastT, refOverlatencyAllowed(1700, P99_C99)!);
  t.is(lastEstimate, 150);
});

test('passesAtPercentile: at or under the bound passes, over it fails', (t) => {
  const lat = withHugeTail(900, 2);
  t.like(passesAtPercentile(lat, 898), { status: 'estimated', pass: true, estimateMs: 898, overlatencyAllowed: 2 });
  t.like(passesAtPercentile(lat, 897.9), { status: 'estimated', pass: false, estimateMs: 898 });
  t.like(passesAtPercentile(withHugeTail(700, 2), 200), { status: 'estimated', pass: false, estimateMs: 1e6 });
});

test('a frame that never finished (Infinity) counts as over any bound; NaN is refused', (t) => {
  const one = [...new Array<number>(661).fill(20), Infinity];
  t.like(passesAtPercentile(one, 200), { pass: true, estimateMs: 20 });
  const two = [...new Array<number>(660).fill(20), Infinity, Infinity];
  t.like(passesAtPercentile(two, 200), { pass: false, estimateMs: Infinity });
  t.throws(() => earlyStoppingEstimate([...new Array<number>(661).fill(20), NaN]), { instanceOf: RangeError });
});

test('large samples stay quick and land between consecutive thresholds', (t) => {
  const n = 200_000;
  const lat = Array.from({ length: n }, (_, i) => i % 997);
  // Quick as a ratio, not a machine's seconds: ten times the frames costs about ten times the time (a sort's
  // n log n), far from the hundred times of work that grew with n squared. Best of three, after a warm-up.
  const best = (frames: number[]) =>
    Math.min(
      ...[0, 1, 2].map(() => {
        const t0 = performance.now();
        earlyStoppingEstimate(frames);
        return performance.now() - t0;
      }),
    );
  const tenth = lat.slice(0, n / 10);
  best(tenth);
  const ratio = best(lat) / best(tenth);
  t.true(ratio < 40, `ten times the frames took ${ratio.toFixed(1)} times as long`);
  const e = earlyStoppingEstimate(lat)!;
  const k = e.overlatencyAllowed;
  t.true(minPassing(k, 0.99, 0.99) + k <= n);
  t.true(minPassing(k + 1, 0.99, 0.99) + k + 1 > n);
  // Well under 1 % of n, since the bound must sit above the true p99.
  t.true(k > 0.009 * n && k < 0.01 * n, `t = ${k}`);
});

test('invalid arguments are refused', (t) => {
  t.throws(() => minPassing(-1, 0.99, 0.99), { instanceOf: RangeError });
  t.throws(() => minPassing(1.5, 0.99, 0.99), { instanceOf: RangeError });
  t.throws(() => minPassing(1, 1, 0.99), { instanceOf: RangeError });
  t.throws(() => minPassing(1, 0.99, 0), { instanceOf: RangeError });
  t.throws(() => minFrames(0, 0.99), { instanceOf: RangeError });
});

/** A trial as the fps sweep sees it: `n` frames, each `e2e` ms end to end, at `fps`. */
function trial(fps: number, n: number, e2e: (i: number) => number, dropped = 0) {
  const e2eMs = Array.from({ length: n }, (_, i) => e2e(i));
  return { deliveryFps: fps, processed: n, dropped, unprocessed: 0, frames: { e2eMs } } as Parameters<
    typeof judgeTrial
  >[0];
}

test('--fps auto judges a rate by the --streams rule: enough frames, no drop, the p99 estimate within a period', (t) => {
  const need = minFrames();
  t.deepEqual(judgeTrial(trial(100, need, () => 9)), { sustained: true, p99EstimateMs: 9 });
  // One frame over the period is set aside; two are not, at 662 frames.
  t.true(judgeTrial(trial(100, need, (i) => (i === 3 ? 50 : 9))).sustained);
  t.false(judgeTrial(trial(100, need, (i) => (i < 2 ? 50 : 9))).sustained);
  // Too few frames for a claim never pass, however fast; a drop fails whatever the latencies.
  t.deepEqual(judgeTrial(trial(100, need - 1, () => 1)), { sustained: false, p99EstimateMs: null });
  t.false(judgeTrial(trial(100, need, () => 1, 1)).sustained);
  // A trial lasts long enough to deliver the frames the estimate needs.
  for (const fps of [5, 40, 160, 1000]) t.true((trialMs(fps) / 1000) * fps >= need, `${fps} fps`);
});

test('--fps auto starts at the highest power-of-two multiple of the model fps within half the calibrated rate', (t) => {
  t.is(startRate(5, 5), 80);
  t.is(startRate(5, 3.9), 80);
  t.is(startRate(5, 3), 160);
  t.is(startRate(5, 150), 5);
  t.is(startRate(5, 1000), 5);
});

test('overAllowed is the t of the estimate, and a trial fails early once more frames than that are over a period', (t) => {
  t.is(overAllowed(661), null);
  t.is(overAllowed(662), 1);
  t.is(overAllowed(836 + 2), 2);
  t.is(overAllowed(836 + 1), 1);
  for (const n of [662, 900, 5000])
    t.is(overAllowed(n), earlyStoppingEstimate(new Array<number>(n).fill(1))!.overlatencyAllowed);
  // At 100 fps a trial plans trialMs(100) / 10 frames, one more at most; one drop ends it, and so does one late frame
  // too many for that many frames.
  const allowed = overAllowed(Math.floor(trialMs(100) / 10) + 1)!;
  const dropped = failsEarly(100);
  t.false(dropped(0, 5));
  t.true(dropped(1, 5));
  const late = failsEarly(100);
  for (let i = 0; i < allowed; i++) t.false(late(0, 11), `late frame ${i + 1}`);
  t.true(late(0, 11));
});
