/*
 * `live --streams auto`: the largest number of paced streams one process sustains, found the way LoadGen
 * finds a peak (grow by doubling until a step fails, then bisect between the last pass and the first
 * fail), on whole numbers, and then confirmed by repeating the found N. A step at N streams is one trial
 * of the caller's: it runs them, judges them (p99 end-to-end at or under one frame period by the
 * early-stopping estimate, no frame dropped) and says pass or fail. This file only decides which N to try
 * next, so it is tested with a fake trial and knows nothing of sessions or clocks.
 */

export type SearchPhase = 'grow' | 'bisect' | 'confirm';

export interface TrialAttempt {
  phase: SearchPhase;
  /** 0-based count of the trials of this phase before this one (confirm counts across every N it tries). */
  index: number;
}

/** A trial's verdict; anything else it carries is the caller's, kept in the step unread. */
export interface StepOutcome {
  pass: boolean;
}

export interface CapacityStep<O extends StepOutcome> extends TrialAttempt {
  n: number;
  pass: boolean;
  outcome: O;
}

export interface CapacityResult<O extends StepOutcome> {
  /** The largest N that passed every confirmation run; 0 when even one stream fails. */
  maxStreams: number;
  /** Every trial, in the order run. */
  steps: CapacityStep<O>[];
}

export interface CapacityOptions {
  /** First N of the grow phase (see naiveStart); lowered to max if above it. */
  start: number;
  /** Largest N ever tried: growth stops there, and if it passes it is the answer (after confirmation). */
  max: number;
  /** Repeats of the found N that must all pass; 0 skips confirmation. */
  confirmRuns: number;
}

function wholeAtLeast(name: string, v: number, least: number): void {
  if (!Number.isSafeInteger(v) || v < least)
    throw new RangeError(`${name} must be a whole number >= ${least}, got ${v}`);
}

/**
 * Grow: try start, 2 start, 4 start, … (the last capped at max) until one fails or max passes. Bisect on
 * whole numbers between the last pass and the first fail, taking zero streams as the pass below start,
 * so a failing start searches 1 … start - 1 (and a failing 1 gives 0). Confirm: run the found N
 * confirmRuns times; on any failure lower N by one and confirm it from scratch, down to 0, which needs
 * no run. Steps run one at a time: each measures the machine, so two at once would measure each other.
 *
 * Confirmation exists because one step is one sample of a noisy machine: the bisection's last pass may
 * have been lucky, and a capacity that holds only sometimes is not one. Lowering by one rather than
 * bisecting again keeps the answer the largest N seen to hold, at the price of a few more runs when the
 * luck was large.
 */
export async function searchCapacity<O extends StepOutcome>(
  trial: (n: number, attempt: TrialAttempt) => Promise<O>,
  opts: CapacityOptions,
): Promise<CapacityResult<O>> {
  wholeAtLeast('start', opts.start, 1);
  wholeAtLeast('max', opts.max, 1);
  wholeAtLeast('confirmRuns', opts.confirmRuns, 0);
  const steps: CapacityStep<O>[] = [];
  const counts: Record<SearchPhase, number> = { grow: 0, bisect: 0, confirm: 0 };
  const run = async (n: number, phase: SearchPhase): Promise<boolean> => {
    const attempt = { phase, index: counts[phase]++ };
    const outcome = await trial(n, attempt);
    steps.push({ n, ...attempt, pass: outcome.pass, outcome });
    return outcome.pass;
  };

  // lastPass is a count known to pass (0 trivially); firstFail, once set, one known to fail.
  let lastPass = 0;
  let firstFail: number | undefined;
  for (let n = Math.min(opts.start, opts.max); ; n = Math.min(2 * n, opts.max)) {
    if (!(await run(n, 'grow'))) {
      firstFail = n;
      break;
    }
    lastPass = n;
    if (n === opts.max) break;
  }

  if (firstFail !== undefined) {
    let hi = firstFail;
    while (hi - lastPass > 1) {
      const mid = lastPass + Math.floor((hi - lastPass) / 2);
      if (await run(mid, 'bisect')) lastPass = mid;
      else hi = mid;
    }
  }

  let found = lastPass;
  confirming: while (found > 0) {
    for (let i = 0; i < opts.confirmRuns; i++) {
      if (!(await run(found, 'confirm'))) {
        found--;
        continue confirming;
      }
    }
    break;
  }
  return { maxStreams: found, steps };
}

/**
 * A starting N for the grow phase: the power of two at or below half of frameMs / stepP50Ms, and at least 1.
 * frameMs / stepP50Ms is how many streams one core could serve if steps ran back to back at their median
 * and nothing else took time; half of it allows for what that ignores (contention between the sessions,
 * queueing behind a slow step, the tail that the p99 judges). Steps below it all but surely pass, and a
 * step lasts until it has minFrames frames (662 at p99 and 99 %), which the smallest N collect slowest
 * (one stream at 5 fps takes over two minutes), so skipping them saves the longest steps that would tell
 * nothing. A power of two keeps the grow phase on the rungs it would climb from 1, so runs whose medians
 * differ try comparable N.
 */
export function naiveStart(frameMs: number, stepP50Ms: number): number {
  if (!(frameMs > 0 && Number.isFinite(frameMs))) throw new RangeError(`frame period must be positive, got ${frameMs}`);
  if (!(stepP50Ms > 0 && Number.isFinite(stepP50Ms))) {
    throw new RangeError(`median step time must be positive, got ${stepP50Ms}`);
  }
  const half = frameMs / stepP50Ms / 2;
  let n = 1;
  while (n * 2 <= half) n *= 2;
  return n;
}
