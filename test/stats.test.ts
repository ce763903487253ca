import test from 'ava';
import { DETECTABLE_CAP, detectablePaired, detectableTwoSample } from '../src/metrics/detectable.js';
import { mannWhitneyP, mcNemarExactP, smallestMannWhitneyP, wilcoxonSignedRankP } from '../src/metrics/hypothesis.js';
import { latencyStats, medianCIRanks, percentileSorted } from '../src/metrics/stats.js';
import { wilson, timeToCorrect } from '../src/metrics/accuracy.js';
import { measurementWarnings } from '../src/metrics/warnings.js';

test('percentiles interpolate linearly between order statistics (hand-computed)', (t) => {
  const s = [1, 2, 3, 4, 10];
  // h = (n-1) p: p50 -> 2 -> 3; p90 -> 3.6 -> 4 + 0.6*(10-4) = 7.6; p25 -> 1 -> 2
  t.is(percentileSorted(s, 50), 3);
  t.is(Number(percentileSorted(s, 90).toFixed(10)), 7.6);
  t.is(percentileSorted(s, 25), 2);
});

test('mean, sample std, min, max and named percentiles of a small sample', (t) => {
  const st = latencyStats([4, 2, 10, 1, 3], [50, 90, 99]);
  t.is(st.mean, 4);
  // squared deviations 0+4+36+9+1 = 50, / (n-1) = 12.5
  t.is(st.std, Math.sqrt(12.5));
  t.is(st.min, 1);
  t.is(st.max, 10);
  t.is(st.p50, 3);
  t.deepEqual(Object.keys(st.percentiles), ['p50', 'p90', 'p99']);
  t.is(Number(st.percentiles.p99!.toFixed(10)), 9.76);
});

test('median confidence interval uses binomial order statistics', (t) => {
  // n = 20: P(B <= 5) = 0.0207 <= 0.025 < P(B <= 6) = 0.0577, so ranks 6 and 15 (the textbook pair).
  t.deepEqual(medianCIRanks(20), [6, 15]);
  // n = 100: the classic ranks 40 and 61.
  t.deepEqual(medianCIRanks(100), [40, 61]);
  const st = latencyStats(Array.from({ length: 20 }, (_, i) => i + 1));
  t.deepEqual(st.medianCI95, [6, 15]);
});

test('Wilson interval matches the hand-computed value for 18/22', (t) => {
  const w = wilson(18, 22);
  t.is(Number(w.value.toFixed(4)), 0.8182);
  t.is(Number(w.low.toFixed(3)), 0.615);
  t.is(Number(w.high.toFixed(3)), 0.927);
  t.deepEqual(wilson(0, 0), { value: 0, low: 0, high: 1 });
});

test('time to correct is the start of the final correct run', (t) => {
  t.is(timeToCorrect([1, 7, 7, 2, 7, 7], 7, 5), 5 / 5);
  t.is(timeToCorrect([7, 7, 7], 7, 5), 1 / 5);
  t.is(timeToCorrect([7, 7, 2], 7, 5), null);
});

test('Mann-Whitney separates shifted samples and not identical ones', (t) => {
  const a = Array.from({ length: 50 }, (_, i) => 10 + (i % 7) * 0.1);
  const b = a.map((v) => v * 1.2);
  t.true(mannWhitneyP(a, b) < 1e-6);
  t.true(mannWhitneyP(a, [...a]) > 0.5);
});

test('measurement warnings: few samples, unsteady repeats, long tail, overhead', (t) => {
  const steady = latencyStats(
    Array.from({ length: 200 }, (_, i) => 4 + (i % 10) * 0.01),
    [50, 90, 99],
  );
  t.deepEqual(measurementWarnings(steady, [4.04, 4.05], { bareP50Ms: 4, ratio: 1.01 }), []);
  const few = latencyStats([4, 4.1, 12], [50, 99]);
  const w = measurementWarnings(few, [4, 5], { bareP50Ms: 3, ratio: 1.366 });
  t.is(w.length, 4);
  t.regex(w[0]!, /only 3 samples/);
  t.regex(w[1]!, /repeat p50s differ by 25%/);
  t.regex(w[2]!, /long tail: p99 is 2\.9x p50/);
  t.regex(w[3]!, /harness overhead 1\.366/);
});

test('exact tests match hand-computed null distributions', (t) => {
  // U = 0 is 1 of C(6,3) = 20 arrangements: two-sided p = 2/20.
  t.is(mannWhitneyP([1, 2, 3], [4, 5, 6]), 0.1);
  // Five processes a side: the most extreme split is 2 of C(10,5) = 252.
  t.is(mannWhitneyP([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), 2 / 252);
  t.is(smallestMannWhitneyP(5, 5), 2 / 252);
  t.true(smallestMannWhitneyP(4, 4) > 0.01, 'four a side can never reach alpha 0.01');
  // All five differences positive: W+ = 15 is 1 of 2^5 sign patterns.
  t.is(wilcoxonSignedRankP([1, 2, 3, 4, 5]), 2 / 32);
  // W+ = 1 + 4 sits at the centre of its null distribution.
  t.is(wilcoxonSignedRankP([1, -2, -3, 4]), 1);
  // Six clips flipped one way, none back: 2 * (1/2)^6.
  t.true(Math.abs(mcNemarExactP(0, 6) - 2 / 64) < 1e-12);
  t.is(mcNemarExactP(3, 3), 1);
});

test('the smallest detectable slow-down grows with the spread and needs enough pairs or processes', (t) => {
  // Ten ab pairs whose log ratios spread ±0.5 % or ±10 % around 0.
  const tight = Array.from({ length: 10 }, (_, i) => Math.log(1 + ((i % 5) - 2) * 0.0025));
  const loose = Array.from({ length: 10 }, (_, i) => Math.log(1 + ((i % 5) - 2) * 0.05));
  const [dt, dl] = [detectablePaired(tight, 0.01), detectablePaired(loose, 0.01)];
  t.true(dt !== null && dl !== null);
  t.true(dt! < 0.03, `tight: ${dt}`);
  t.true(dl! > dt!, `loose ${dl} vs tight ${dt}`);
  // Deterministic: the same data give the same estimate.
  t.is(detectablePaired(loose, 0.01), dl);
  // Seven pairs cannot reach alpha 0.01 with a signed-rank test at all: nothing to estimate.
  t.is(detectablePaired(tight.slice(0, 7), 0.01), null);
  // Five processes a side can (Mann-Whitney); four cannot.
  const a = [3.5, 3.52, 3.49, 3.51, 3.5];
  const d5 = detectableTwoSample(a, a, 0.01);
  t.true(d5 !== null && d5 < 0.05, `5 vs 5: ${d5}`);
  t.is(detectableTwoSample(a.slice(0, 4), a.slice(0, 4), 0.01), null);
  // A spread too wide for any shift on the grid reads as the cap.
  t.is(detectablePaired([0.2, 5, 0.3, 4, 0.25, 6, 0.2, 5, 0.3, 4].map(Math.log), 0.01), DETECTABLE_CAP);
});
