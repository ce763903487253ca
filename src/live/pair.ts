import type { Backend } from '../backends/backend.js';
import type { ResizeMode } from '../core/results.js';
import { median } from '../metrics/stats.js';
import { modelInfo } from '../models/info.js';
import { className, type ResolvedModel } from '../models/resolve.js';
import { StreamStepper } from '../stream/stream.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { decodeFrames } from '../video/decode.js';
import { collect } from '../video/frames.js';
import { decoderSupplier, memorySupplier, type FrameSupplier } from '../video/paced.js';
import { syntheticFrames } from '../video/synthetic.js';
import type { LivePolicy, LiveResult, LiveRun, SweepPoint } from './result.js';
import { liveStream } from './stream.js';
import { sweepRates } from './sweep.js';

/** A run with --loop, or from a camera, lasts this long unless --duration says otherwise. */
export const DEFAULT_OPEN_ENDED_S = 60;
/** Frames held in memory for a run faster than real time; a longer one cycles them. */
export const MAX_DECODED_FRAMES = 600;
/** Decoded frames held ahead of their capture time by a real-time source, and in flight from the decoder. */
const AHEAD = 8;
const DECODER_AHEAD = 4;

export interface LivePairOptions {
  input: string;
  source: 'file' | 'camera';
  policy: LivePolicy;
  /** Delivery rate in frames per second of wall time; null: the model's fps; 'auto': the sweep. */
  fps: number | 'auto' | null;
  /** Wall seconds per run; null: the clip once, or the open-ended default with --loop or a camera. */
  durationS: number | null;
  loop: boolean;
  runs: number;
  warmup: number;
  threads: number;
  cache?: boolean;
  resize: ResizeMode;
  /** The clip's length in seconds (null for a camera), for the progress bar's total. */
  clipS: number | null;
  signal: AbortSignal;
  progress: Progress;
  log: (line: string) => void;
}

const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

const msText = (v: number | null | undefined) =>
  v === null || v === undefined ? 'over one period before enough frames' : `${v.toFixed(1)} ms`;

/** One rate an fps sweep tried, as the log reports it. */
function trialLine(p: SweepPoint): string {
  const estimate = `p99 estimate ${msText(p.e2eP99EstimateMs)}`;
  if (p.sustained) return `${p.fps} fps sustained (${estimate})`;
  if (p.dropped) return `${p.fps} fps not sustained (${p.dropped} dropped)`;
  return `${p.fps} fps not sustained (late: ${estimate})`;
}

function durationMs(opts: LivePairOptions): number {
  if (opts.durationS !== null) return opts.durationS * 1000;
  return opts.loop || opts.source === 'camera' ? DEFAULT_OPEN_ENDED_S * 1000 : Infinity;
}

function warnings(run: LiveRun): string[] {
  const w: string[] = [];
  if (run.dropped) {
    const share = `${((100 * run.dropped) / Math.max(1, run.captured)).toFixed(1)}%`;
    const dropped = `${run.dropped} of ${run.captured} frames dropped (${share})`;
    w.push(`${dropped}: the backend did not keep up with ${run.deliveryFps} fps`);
  }
  if (run.sourceLate) {
    const late = `the decoder handed over ${run.sourceLate} frame(s) after their capture time`;
    w.push(`${late}; their latency counts from when they arrived`);
  }
  const e2e = run.frames.e2eMs;
  const tenth = Math.max(1, Math.floor(e2e.length / 10));
  const [first, final] = [median(e2e.slice(0, tenth)), median(e2e.slice(-tenth))];
  if (e2e.length >= 10 && first !== null && final !== null && final > 2 * first && final > 1000 / run.deliveryFps) {
    const grew = `end-to-end latency grew from ${first.toFixed(1)} to ${final.toFixed(1)} ms over the run`;
    w.push(`${grew}: frames arrive faster than they are processed`);
  }
  if (run.processed > 0 && run.processed < 100 && run.sweep === null)
    w.push(`${run.processed} frames: p99 is close to the slowest frame`);
  return w;
}

/**
 * One (model, backend) live measurement: load, a cold first step and a
 * warm-up on synthetic frames (neither in any run), then `runs` streams, each
 * from zero state with a fresh source. At or below real time the clip is
 * decoded beside inference, paced by the clock; faster than real time, and
 * for the sweep, it is decoded before the run. Returns null when stopped
 * before any frame was processed.
 */
export async function liveOne(
  model: ResolvedModel,
  backend: Backend,
  opts: LivePairOptions,
): Promise<LiveResult | null> {
  const t0 = process.hrtime.bigint();
  const session = await backend.load(model, { threads: opts.threads, cache: opts.cache });
  const loadMs = msSince(t0);
  try {
    const size = model.signature.height;
    const warm = new StreamStepper(session);
    const synthetic = syntheticFrames(Math.min(8, opts.warmup + 1), size);
    let firstInferenceMs: number;
    try {
      firstInferenceMs = (await warm.step(synthetic[0]!)).ms;
      for (let i = 1; i <= opts.warmup && !opts.signal.aborted; i++) await warm.step(synthetic[i % synthetic.length]!);
    } finally {
      warm.close();
    }

    const rate = opts.fps === 'auto' ? null : (opts.fps ?? model.fps);
    const fromMemory = opts.fps === 'auto' || (rate !== null && rate > model.fps);
    let decoded: Float32Array[] = [];
    let cycled = false;
    if (fromMemory && !opts.signal.aborted) {
      decoded = await collect(
        decodeFrames(opts.input, { size, fps: model.fps, resize: opts.resize, maxFrames: MAX_DECODED_FRAMES + 1 }),
      );
      cycled = decoded.length > MAX_DECODED_FRAMES;
      decoded.length = Math.min(decoded.length, MAX_DECODED_FRAMES);
      if (decoded.length === 0)
        throw new UserError(`video ${opts.input} is too short: it gives no frame at ${model.fps} fps`);
    }
    const supplier = (): FrameSupplier =>
      fromMemory
        ? memorySupplier(decoded, opts.loop)
        : decoderSupplier(
            opts.input,
            { size, fps: model.fps, resize: opts.resize, maxAhead: DECODER_AHEAD },
            opts.loop || opts.source === 'camera',
          );

    const runs: LiveRun[] = [];
    const label = `${model.id} ${backend.name}`;
    const clipFrames = opts.loop || opts.clipS === null ? Infinity : opts.clipS * model.fps;
    const perRun = rate === null ? Infinity : Math.ceil(Math.min((durationMs(opts) / 1000) * rate, clipFrames));
    if (Number.isFinite(perRun)) opts.progress.start(perRun * opts.runs, label);
    for (let k = 0; k < opts.runs && !opts.signal.aborted; k++) {
      let run: LiveRun;
      if (opts.fps === 'auto') {
        run = await sweepRates(session, {
          policy: opts.policy,
          modelFps: model.fps,
          frames: decoded,
          signal: opts.signal,
          onStart: (r) => opts.log(`${label} run ${k + 1}: first rate ${r} fps, from a few unpaced steps`),
          onTrial: (p) => opts.log(`${label} run ${k + 1}: ${trialLine(p)}`),
        });
      } else {
        const done = k * perRun;
        const stream = await liveStream(session, supplier(), {
          policy: opts.policy,
          rate: opts.source === 'camera' ? null : rate,
          modelFps: model.fps,
          durationMs: durationMs(opts),
          ahead: AHEAD,
          signal: opts.signal,
          onCapture: (n) => opts.progress.update(Math.min(done + n, perRun * opts.runs)),
        });
        run = { ...stream, sweep: null, maxSustainableFps: null };
      }
      if (run.processed === 0 && !run.interrupted)
        throw new UserError(`${opts.input} gave no frame at ${model.fps} fps within the run's duration`);
      if (run.processed > 0) runs.push(run);
    }
    opts.progress.stop();
    if (runs.length === 0) return null;
    const seen = new Set(runs.flatMap((r) => r.frames.top1));
    const byText = new Map<string, number[]>();
    runs.forEach((r, i) => warnings(r).forEach((x) => byText.set(x, [...(byText.get(x) ?? []), i + 1])));
    const w = [...byText].map(([x, at]) =>
      runs.length === 1 ? x : `${at.length === runs.length ? 'every run' : `run ${at.join(', ')}`}: ${x}`,
    );
    if (cycled) {
      const repeated = opts.fps === 'auto' || opts.loop ? 'cycled' : 'played';
      const longer = `the clip is longer than ${MAX_DECODED_FRAMES} frames`;
      w.push(`${longer}: faster than real time, only its first ones are ${repeated}`);
    }
    return {
      model: modelInfo(model),
      backend: backend.name,
      runtime: { backend: backend.name, ...session.runtime, threads: session.threads },
      source: opts.source,
      modelFps: model.fps,
      loadMs,
      firstInferenceMs,
      warmupFrames: opts.warmup,
      labels: Object.fromEntries([...seen].sort((a, b) => a - b).map((i) => [String(i), className(model, i)])),
      runs,
      warnings: w,
    };
  } finally {
    opts.progress.stop();
    session.dispose();
  }
}
