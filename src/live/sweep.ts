import type { Session } from '../backends/backend.js';
import { memorySupplier } from '../video/paced.js';
import type { LivePolicy, LiveRun, SweepPoint } from './result.js';
import { liveStream } from './stream.js';

/**
 * `--fps auto`: the highest delivery rate this backend sustains, with the
 * video still sampled at the model's fps but played k times faster. A rate
 * is sustained when no frame is dropped and p99 end-to-end stays under one
 * frame period at that rate. Frames are decoded before the sweep, so it
 * measures the backend against the delivery clock, not the decoder.
 */

/** Each trial lasts at least this long and this many frames, so a slow rate still sees a few frames. */
export const MIN_TRIAL_MS = 1000;
export const MIN_TRIAL_FRAMES = 20;
/** Doubling stops here: a bound on the search, far above what one step() of these models allows. */
const MAX_RATE = 5000;
/** Rates below the model's fps are tried down to this fraction of it before giving up. */
const MIN_FRACTION = 1 / 8;
/** Bisection stops once the bracket is this narrow, or after MAX_BISECTIONS trials. */
const BRACKET_RATIO = 1.1;
const MAX_BISECTIONS = 5;

export interface SweepOptions {
  policy: LivePolicy;
  modelFps: number;
  /** The clip, decoded at the model's fps; cycled as long as a trial needs. */
  frames: readonly Float32Array[];
  signal: AbortSignal;
  onTrial?: (point: SweepPoint) => void;
}

const threeDigits = (v: number) => Number(v.toPrecision(3));

export function sustained(
  run: Pick<LiveRun, 'dropped' | 'unprocessed' | 'processed' | 'e2eMs' | 'deliveryFps'>,
): boolean {
  return (
    run.processed > 0 &&
    run.dropped === 0 &&
    run.unprocessed === 0 &&
    run.e2eMs !== null &&
    run.e2eMs.p99 < 1000 / run.deliveryFps
  );
}

/** Doubles the rate from the model's fps until a trial fails (or halves it when that one does), then bisects. */
export async function sweepRates(session: Session, opts: SweepOptions): Promise<LiveRun> {
  const points: SweepPoint[] = [];
  let best: Omit<LiveRun, 'sweep' | 'maxSustainableFps'> | undefined;
  let last: typeof best;
  let low: number | undefined;
  let high: number | undefined;
  const trial = async (rate: number): Promise<boolean> => {
    const run = await liveStream(session, memorySupplier(opts.frames, true), {
      policy: opts.policy,
      rate,
      modelFps: opts.modelFps,
      durationMs: Math.max(MIN_TRIAL_MS, (MIN_TRIAL_FRAMES * 1000) / rate),
      ahead: 8,
      signal: opts.signal,
    });
    last = run;
    if (run.interrupted) return false;
    const ok = sustained(run);
    const point: SweepPoint = {
      fps: rate,
      speed: rate / opts.modelFps,
      captured: run.captured,
      processed: run.processed,
      dropped: run.dropped,
      e2eP50Ms: run.e2eMs?.p50 ?? null,
      e2eP99Ms: run.e2eMs?.p99 ?? null,
      sustained: ok,
    };
    points.push(point);
    opts.onTrial?.(point);
    if (ok && (low === undefined || rate > low)) {
      low = rate;
      best = run;
    }
    if (!ok && (high === undefined || rate < high)) high = rate;
    return ok;
  };

  let rate = opts.modelFps;
  if (await trial(rate)) {
    while (high === undefined && rate < MAX_RATE && !opts.signal.aborted)
      await trial((rate = Math.min(MAX_RATE, rate * 2)));
  } else {
    while (low === undefined && rate > opts.modelFps * MIN_FRACTION && !opts.signal.aborted)
      await trial((rate = threeDigits(rate / 2)));
  }
  for (let i = 0; i < MAX_BISECTIONS && low !== undefined && high !== undefined && !opts.signal.aborted; i++) {
    if (high / low <= BRACKET_RATIO) break;
    await trial(threeDigits(Math.sqrt(low * high)));
  }
  const shown = best ?? last!;
  return {
    ...shown,
    interrupted: opts.signal.aborted,
    sweep: points,
    maxSustainableFps: low ?? null,
  };
}
