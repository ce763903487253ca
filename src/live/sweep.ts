import type { Session } from '../backends/backend.js';
import { failsOnceDecided, minFrames, passesAtPercentile } from '../metrics/early-stopping.js';
import { median } from '../metrics/stats.js';
import { StreamStepper } from '../stream/stream.js';
import { memorySupplier } from '../video/paced.js';
import type { LivePolicy, LiveRun, SweepPoint } from './result.js';
import { liveStream } from './stream.js';

/**
 * `--fps auto`: the highest delivery rate this backend sustains, with the video still sampled at the model's
 * fps but played k times faster. A rate is sustained by the rule `live --streams auto` judges a step with: no
 * frame dropped, and LoadGen's early-stopping estimate of p99 end-to-end at 99 % confidence at or under one
 * frame period, which needs minFrames() frames per trial. Frames are decoded before the sweep, so it
 * measures the backend against the delivery clock, not the decoder.
 */

/** Each trial lasts at least this long, and until it has delivered the frames a p99 claim needs. */
export const MIN_TRIAL_MS = 1000;
/** Doubling stops here: a bound on the search, far above what one step() of these models allows. */
const MAX_RATE = 5000;
/** Rates below the model's fps are tried down to this fraction of it before giving up. */
const MIN_FRACTION = 1 / 8;
/** Bisection stops once the bracket is this narrow, or after MAX_BISECTIONS trials. */
const BRACKET_RATIO = 1.1;
const MAX_BISECTIONS = 5;
/**
 * Unpaced steps timed before the sweep to choose its first rate. A trial needs minFrames() frames whatever its
 * rate, so starting at the model's fps would spend minutes on rates far below what the backend sustains.
 */
const CALIBRATION_STEPS = 12;
/** The first rate is the highest power-of-two multiple of the model's fps at or under this share of 1000 / step ms. */
const START_SHARE = 0.5;

export interface SweepOptions {
  policy: LivePolicy;
  modelFps: number;
  /** The clip, decoded at the model's fps; cycled as long as a trial needs. */
  frames: readonly Float32Array[];
  signal: AbortSignal;
  onTrial?: (point: SweepPoint) => void;
  /** The first rate, once the calibration chose it. */
  onStart?: (rate: number) => void;
}

const threeDigits = (v: number) => Number(v.toPrecision(3));

/** How long a trial at this rate runs: long enough to deliver the frames the p99 estimate needs, and one more. */
export function trialMs(rate: number): number {
  return Math.max(MIN_TRIAL_MS, Math.ceil(((minFrames() + 1) * 1000) / rate));
}

/** A trial ends at its verdict: at its first drop, or once it has more late frames than its planned frames allow. */
export function failsEarly(rate: number): (dropped: number, lastE2eMs: number) => boolean {
  // The source may deliver one frame past the planned count at the boundary: judging against the most frames the
  // trial can have never cuts short one that would pass.
  return failsOnceDecided(1000 / rate, Math.floor((trialMs(rate) * rate) / 1000) + 1);
}

/** The verdict on one trial, and the p99 estimate it rests on (null with too few frames for one). */
export function judgeTrial(
  run: Pick<LiveRun, 'dropped' | 'unprocessed' | 'deliveryFps'> & { frames: { e2eMs: readonly number[] } },
): {
  sustained: boolean;
  p99EstimateMs: number | null;
} {
  const check = passesAtPercentile(run.frames.e2eMs, 1000 / run.deliveryFps);
  const p99EstimateMs = check.status === 'estimated' ? check.estimateMs : null;
  return { sustained: run.dropped === 0 && run.unprocessed === 0 && check.pass, p99EstimateMs };
}

/** The median of a few unpaced steps from zero state: a first guess at what one step costs here. */
async function calibrate(session: Session, frames: readonly Float32Array[]): Promise<number> {
  const stepper = new StreamStepper(session);
  const ms: number[] = [];
  try {
    for (let i = 0; i < CALIBRATION_STEPS; i++) ms.push((await stepper.step(frames[i % frames.length]!)).ms);
  } finally {
    stepper.close();
  }
  return median(ms)!;
}

/** The model's fps doubled while it stays at or under START_SHARE of the calibrated step rate. */
export function startRate(modelFps: number, stepMs: number): number {
  const ceiling = (START_SHARE * 1000) / Math.max(stepMs, 1e-3);
  let rate = modelFps;
  while (rate * 2 <= Math.min(ceiling, MAX_RATE)) rate *= 2;
  return rate;
}

/**
 * The search alone, over any trial: doubles the rate from `start` until a trial fails (or halves it when that one
 * does, down to MIN_FRACTION of the model's fps), then bisects until the bracket is BRACKET_RATIO wide. Like every
 * bisection it assumes a backend that keeps up at some rate keeps up at any lower one. Returns the highest rate
 * that held, or null.
 */
export async function searchRate(
  start: number,
  modelFps: number,
  trial: (rate: number) => Promise<boolean>,
  stopped: () => boolean,
): Promise<number | null> {
  let low: number | undefined;
  let high: number | undefined;
  const tryRate = async (rate: number): Promise<boolean> => {
    const ok = await trial(rate);
    if (stopped()) return ok;
    if (ok && (low === undefined || rate > low)) low = rate;
    if (!ok && (high === undefined || rate < high)) high = rate;
    return ok;
  };
  let rate = start;
  if (await tryRate(rate)) {
    while (high === undefined && rate < MAX_RATE && !stopped()) await tryRate((rate = Math.min(MAX_RATE, rate * 2)));
  } else {
    while (low === undefined && rate > modelFps * MIN_FRACTION && !stopped())
      await tryRate((rate = threeDigits(rate / 2)));
  }
  for (let i = 0; i < MAX_BISECTIONS && low !== undefined && high !== undefined && !stopped(); i++) {
    if (high / low <= BRACKET_RATIO) break;
    await tryRate(threeDigits(Math.sqrt(low * high)));
  }
  return low ?? null;
}

/** `--fps auto` on a session: calibrates, searches with real paced trials, and keeps every trial. */
export async function sweepRates(session: Session, opts: SweepOptions): Promise<LiveRun> {
  const points: SweepPoint[] = [];
  let best: Omit<LiveRun, 'sweep' | 'maxSustainableFps'> | undefined;
  let last: typeof best;
  const trial = async (rate: number): Promise<boolean> => {
    const run = await liveStream(session, memorySupplier(opts.frames, true), {
      policy: opts.policy,
      rate,
      modelFps: opts.modelFps,
      durationMs: trialMs(rate),
      settledEarly: failsEarly(rate),
      ahead: 8,
      signal: opts.signal,
    });
    last = run;
    if (run.interrupted) return false;
    const { sustained: ok, p99EstimateMs } = judgeTrial(run);
    const point: SweepPoint = {
      fps: rate,
      speed: rate / opts.modelFps,
      captured: run.captured,
      processed: run.processed,
      dropped: run.dropped,
      e2eP50Ms: run.e2eMs?.p50 ?? null,
      e2eP99Ms: run.e2eMs?.p99 ?? null,
      e2eP99EstimateMs: p99EstimateMs,
      sustained: ok,
    };
    points.push(point);
    opts.onTrial?.(point);
    if (ok && (best === undefined || rate > best.deliveryFps)) best = run;
    return ok;
  };
  const start = startRate(opts.modelFps, await calibrate(session, opts.frames));
  opts.onStart?.(start);
  const max = await searchRate(start, opts.modelFps, trial, () => opts.signal.aborted);
  const shown = best ?? last!;
  return {
    ...shown,
    interrupted: opts.signal.aborted,
    sweep: points,
    maxSustainableFps: max,
  };
}
