import test from 'ava';
import { searchRate } from '../src/live/sweep.js';
import {
  naiveStart,
  searchCapacity,
  type CapacityStep,
  type SearchPhase,
  type StepOutcome,
  type TrialAttempt,
} from '../src/live/capacity-search.js';

interface Fake extends StepOutcome {
  /** Opaque to the search: must come back in the step unchanged. */
  note: string;
}

/** A machine that sustains exactly `capacity` streams, every time. */
const fixed =
  (capacity: number) =>
  async (n: number, a: TrialAttempt): Promise<Fake> => ({ pass: n <= capacity, note: `${a.phase}#${a.index}@${n}` });

const seq = (steps: readonly CapacityStep<Fake>[]) => steps.map((s) => `${s.phase[0]}${s.n}${s.pass ? '+' : '-'}`);
const confirms = (n: number, runs: number) => Array.from({ length: runs }, () => `c${n}+`);

test('worked example: grow doubles, bisect halves on whole numbers, then five confirmation runs', async (t) => {
  const r = await searchCapacity(fixed(13), { start: 1, max: 64, confirmRuns: 5 });
  t.is(r.maxStreams, 13);
  t.deepEqual(seq(r.steps), ['g1+', 'g2+', 'g4+', 'g8+', 'g16-', 'b12+', 'b14-', 'b13+', ...confirms(13, 5)]);
  // The trial's own data and the attempt it was given are kept, in order.
  t.deepEqual(
    r.steps.map((s) => s.outcome.note),
    r.steps.map((s) => `${s.phase}#${s.index}@${s.n}`),
  );
  t.deepEqual(
    r.steps.map((s) => s.index),
    [0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 4],
  );
});

test('the result equals the capacity for every capacity, start and max; the steps follow the algorithm', async (t) => {
  for (let capacity = 0; capacity <= 40; capacity++) {
    for (let start = 1; start <= 20; start++) {
      for (const max of [1, 7, 16, 33, 64]) {
        const label = `C = ${capacity}, start = ${start}, max = ${max}`;
        const r = await searchCapacity(fixed(capacity), { start, max, confirmRuns: 5 });
        const expected = Math.min(capacity, max);
        t.is(r.maxStreams, expected, label);

        // Phases come in order: grow, then bisect, then confirm.
        const order: SearchPhase[] = ['grow', 'bisect', 'confirm'];
        const ranks = r.steps.map((s) => order.indexOf(s.phase));
        t.deepEqual(
          ranks,
          [...ranks].sort((a, b) => a - b),
          label,
        );

        // Grow: min(start, max), then doubling capped at max; every rung passes but the last, which fails
        // unless it is max.
        const grow = r.steps.filter((s) => s.phase === 'grow');
        grow.forEach((s, i) => {
          t.is(s.n, i === 0 ? Math.min(start, max) : Math.min(2 * grow[i - 1]!.n, max), label);
          if (i < grow.length - 1) t.true(s.pass, label);
        });
        const lastGrow = grow[grow.length - 1]!;
        t.true(lastGrow.pass ? lastGrow.n === max : true, label);

        // Bisect: each N is the whole midpoint of the bracket (last pass, first fail), which closes to width 1.
        let lo = Math.max(0, ...grow.filter((s) => s.pass).map((s) => s.n));
        let hi = lastGrow.pass ? lo + 1 : lastGrow.n;
        for (const s of r.steps.filter((x) => x.phase === 'bisect')) {
          t.is(s.n, lo + Math.floor((hi - lo) / 2), label);
          if (s.pass) lo = s.n;
          else hi = s.n;
        }
        t.is(hi - lo, 1, label);
        t.is(lo, expected, label);

        // Confirm: five runs of the answer, none when it is 0.
        t.deepEqual(
          r.steps.filter((s) => s.phase === 'confirm').map((s) => s.n),
          new Array<number>(expected === 0 ? 0 : 5).fill(expected),
          label,
        );
        // Never above max, and the recorded verdict is the trial's.
        t.true(
          r.steps.every((s) => s.n >= 1 && s.n <= max && s.pass === s.outcome.pass),
          label,
        );
      }
    }
  }
});

test('growth stops at max; a passing max is the answer without bisection', async (t) => {
  const r = await searchCapacity(fixed(100), { start: 3, max: 20, confirmRuns: 5 });
  t.is(r.maxStreams, 20);
  t.deepEqual(seq(r.steps), ['g3+', 'g6+', 'g12+', 'g20+', ...confirms(20, 5)]);

  const capped = await searchCapacity(fixed(15), { start: 3, max: 20, confirmRuns: 5 });
  t.deepEqual(seq(capped.steps), ['g3+', 'g6+', 'g12+', 'g20-', 'b16-', 'b14+', 'b15+', ...confirms(15, 5)]);

  // A start above max begins at max.
  const high = await searchCapacity(fixed(100), { start: 32, max: 10, confirmRuns: 2 });
  t.deepEqual(seq(high.steps), ['g10+', ...confirms(10, 2)]);
});

test('a failing start bisects 1 … start - 1', async (t) => {
  const r = await searchCapacity(fixed(5), { start: 8, max: 64, confirmRuns: 5 });
  t.is(r.maxStreams, 5);
  t.deepEqual(seq(r.steps), ['g8-', 'b4+', 'b6-', 'b5+', ...confirms(5, 5)]);

  const one = await searchCapacity(fixed(1), { start: 8, max: 64, confirmRuns: 5 });
  t.is(one.maxStreams, 1);
  t.deepEqual(seq(one.steps), ['g8-', 'b4-', 'b2-', 'b1+', ...confirms(1, 5)]);
});

test('capacity 0: one stream fails, the result is 0 and nothing is confirmed', async (t) => {
  const fromOne = await searchCapacity(fixed(0), { start: 1, max: 64, confirmRuns: 5 });
  t.is(fromOne.maxStreams, 0);
  t.deepEqual(seq(fromOne.steps), ['g1-']);

  const fromFour = await searchCapacity(fixed(0), { start: 4, max: 64, confirmRuns: 5 });
  t.is(fromFour.maxStreams, 0);
  t.deepEqual(seq(fromFour.steps), ['g4-', 'b2-', 'b1-']);
});

/** Capacity C, except that the listed confirmation attempts (by confirm index) fail once. */
const flaky =
  (capacity: number, failingConfirms: readonly number[]) =>
  async (n: number, a: TrialAttempt): Promise<Fake> => ({
    pass: n <= capacity && !(a.phase === 'confirm' && failingConfirms.includes(a.index)),
    note: '',
  });

test('a confirmation failure lowers N by one and confirms the new N from scratch', async (t) => {
  // The third confirmation of 13 fails: 13 is dropped, and 12 needs five passes of its own.
  const r = await searchCapacity(flaky(13, [2]), { start: 1, max: 64, confirmRuns: 5 });
  t.is(r.maxStreams, 12);
  t.deepEqual(seq(r.steps), [
    'g1+',
    'g2+',
    'g4+',
    'g8+',
    'g16-',
    'b12+',
    'b14-',
    'b13+',
    'c13+',
    'c13+',
    'c13-',
    ...confirms(12, 5),
  ]);
  t.deepEqual(
    r.steps.filter((s) => s.phase === 'confirm').map((s) => s.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );

  // Failures at 13 and then at 12 go down two.
  const twice = await searchCapacity(flaky(13, [0, 1]), { start: 1, max: 64, confirmRuns: 5 });
  t.is(twice.maxStreams, 11);
  t.deepEqual(seq(twice.steps.filter((s) => s.phase === 'confirm')), ['c13-', 'c12-', ...confirms(11, 5)]);

  // A failure while confirming 1 ends at 0, with no run at 0.
  const down = await searchCapacity(flaky(1, [4]), { start: 1, max: 64, confirmRuns: 5 });
  t.is(down.maxStreams, 0);
  t.deepEqual(seq(down.steps), ['g1+', 'g2-', ...confirms(1, 4), 'c1-']);
});

test('confirmRuns 0 skips confirmation; bad options are refused', async (t) => {
  const r = await searchCapacity(fixed(13), { start: 1, max: 64, confirmRuns: 0 });
  t.is(r.maxStreams, 13);
  t.false(r.steps.some((s) => s.phase === 'confirm'));
  for (const bad of [
    { start: 0, max: 8, confirmRuns: 5 },
    { start: 1, max: 0, confirmRuns: 5 },
    { start: 1.5, max: 8, confirmRuns: 5 },
    { start: 1, max: 8, confirmRuns: -1 },
  ]) {
    await t.throwsAsync(searchCapacity(fixed(3), bad), { instanceOf: RangeError });
  }
});

test('trials run one at a time', async (t) => {
  let inFlight = 0;
  let most = 0;
  await searchCapacity(
    async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return { pass: n <= 6 };
    },
    { start: 1, max: 64, confirmRuns: 3 },
  );
  t.is(most, 1);
});

test('naiveStart: the power of two at or below half of frame period / median step, at least 1', (t) => {
  t.is(naiveStart(200, 10), 8); // 20 streams back to back, half is 10
  t.is(naiveStart(200, 12.5), 8); // half is exactly 8
  t.is(naiveStart(200, 12.6), 4); // half just under 8
  t.is(naiveStart(200, 25), 4);
  t.is(naiveStart(200, 1), 64);
  t.is(naiveStart(200, 100), 1); // half is exactly 1
  t.is(naiveStart(200, 150), 1);
  t.is(naiveStart(200, 500), 1); // slower than real time: still one stream to try
  t.throws(() => naiveStart(200, 0), { instanceOf: RangeError });
  t.throws(() => naiveStart(0, 10), { instanceOf: RangeError });
  t.throws(() => naiveStart(200, Number.NaN), { instanceOf: RangeError });
});

/** The fps sweep's search against a backend that keeps up exactly up to `limit` fps. */
async function sweepTo(limit: number, start: number) {
  const tried: number[] = [];
  const max = await searchRate(
    start,
    5,
    async (rate) => {
      tried.push(rate);
      return rate <= limit;
    },
    () => false,
  );
  return { max, tried };
}

test('--fps auto: doubles from its start to the first failure, bisects to within 10 %, and keeps the highest pass', async (t) => {
  for (const [limit, start] of [
    [137, 80],
    [12, 80],
    [5000, 5],
    [5, 5],
  ] as const) {
    const { max, tried } = await sweepTo(limit, start);
    t.is(tried[0], start);
    t.not(max, null, `limit ${limit}`);
    t.true(max! <= limit && max! * 1.1 >= Math.min(limit, 5000) / 1.1, `limit ${limit}: found ${max}`);
    t.is(max, Math.max(...tried.filter((r) => r <= limit)), 'the highest rate that held');
  }
  // Nothing holds, not even an eighth of the model's fps: no rate is claimed, and the halving stops there.
  const none = await sweepTo(0.1, 80);
  t.is(none.max, null);
  t.true(none.tried.at(-1)! <= 5 / 8 && none.tried.at(-1)! > 5 / 16, none.tried.join(', '));
});
