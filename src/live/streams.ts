import { percentileSorted } from '../metrics/stats.js';
import type { BatchedStreamStates, CallTiming, StreamFrame } from './batched-states.js';
import type { LivePolicy } from './result.js';
import type { StreamStates } from './stream-states.js';

/**
 * N camera-like streams served by one process: frame i of stream s becomes available at (i + phase_s) / fps,
 * with the phases spread over the frame period (`spread`: phase_s = s / N) or all at once (`aligned`). The
 * loop steps the waiting frame captured earliest, across streams; with the streams as slots of a batched
 * session, it steps every stream whose frame is waiting in one call instead (the earliest captured first when
 * more wait than a call takes), and never waits for a frame not yet captured to fill a call: a frame's latency
 * is never traded for a wider call. Under `latest` a stream that fell behind keeps only its newest frame and
 * the older ones count as dropped. Frames were decoded before the run, so the loop holds inference and
 * scheduling only.
 */
export const PHASES = ['spread', 'aligned'] as const;
export type Phase = (typeof PHASES)[number];

export interface StreamsRunOptions {
  fps: number;
  phase: Phase;
  policy: LivePolicy;
  /** The run lasts at least this long, and until `minFrames` frames were processed. */
  durationMs: number;
  minFrames: number;
  /** Never longer than this, whatever `minFrames` still wants. */
  maxMs: number;
  /** Fed every frame's end-to-end time with the drops so far: true ends the run there, its verdict settled. */
  settledEarly?: (dropped: number, e2eMs: number) => boolean;
  /** Decoded clips at the model's fps; stream s plays clip s mod clips, from its own offset, looping. */
  clips: readonly (readonly Float32Array[])[];
  signal: AbortSignal;
}

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PerStream {
  captured: number;
  processed: number;
  dropped: number;
  e2eP50Ms: number | null;
  e2eP99Ms: number | null;
}

export interface StreamsRun {
  streams: number;
  wallMs: number;
  captured: number;
  processed: number;
  dropped: number;
  /** Captured but neither processed nor dropped when the run ended. */
  unprocessed: number;
  /**
   * Of those, the frames that had already waited a frame period or more: late whatever came next. A frame that
   * arrived a moment before the end is waiting only because the run ended, which says nothing of keeping up.
   */
  overdue: number;
  /** Every processed frame's capture-to-logits time, in processing order (for the early-stopping estimate). */
  e2eSamplesMs: number[];
  e2eMs: Quantiles | null;
  queueMs: Quantiles | null;
  /** step() alone, and the whole service of a frame (states moved in and out included). */
  stepMs: Quantiles | null;
  serviceMs: Quantiles | null;
  perStream: PerStream[];
  /** Every call, in order: how many streams it stepped and its step time. */
  calls: { size: number; ms: number }[];
  /** This process's CPU time over the wall time: 1 is one core busy throughout. */
  cpuUtilisation: number;
  interrupted: boolean;
  /** `settledEarly` ended the run before its duration: it had failed already. */
  endedEarly: boolean;
}

function quantiles(values: readonly number[]): Quantiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentileSorted(sorted, p);
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]! };
}

/** A frame of a stream waiting to be stepped. */
interface Waiting {
  index: number;
  captureMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The first frame stream s plays: streams that share a clip start at spread-out points of it. */
function offsetOf(s: number, streams: number, clips: number, clipFrames: number): number {
  const sharing = Math.ceil(streams / clips);
  const rank = Math.floor(s / clips);
  return Math.floor((rank * clipFrames) / sharing);
}

/** When frame i of stream s (of n) becomes available, in ms from the run's start. */
export function captureMs(i: number, s: number, n: number, fps: number, phase: Phase): number {
  const periodMs = 1000 / fps;
  return i * periodMs + (phase === 'spread' ? (s * periodMs) / n : 0);
}

/** One call of the scheduler, whichever way the states are held: a sequential call steps one stream. */
function caller(states: StreamStates | BatchedStreamStates): {
  width: number;
  call: (frames: readonly StreamFrame[]) => Promise<CallTiming>;
} {
  if (states.placement === 'slots') return { width: states.maxBatch, call: (frames) => states.stepTogether(frames) };
  return {
    width: 1,
    call: async ([f]) => {
      const r = await states.step(f!.stream, f!.frame);
      return { logits: [r.logits], ms: r.ms, serviceMs: r.serviceMs };
    },
  };
}

export async function runStreams(
  states: StreamStates | BatchedStreamStates,
  opts: StreamsRunOptions,
): Promise<StreamsRun> {
  const n = states.streams;
  const { width, call } = caller(states);
  const periodMs = 1000 / opts.fps;
  const phaseMs = (s: number) => captureMs(0, s, n, opts.fps, opts.phase);
  const clipOf = (s: number) => opts.clips[s % opts.clips.length]!;
  const offsets = Array.from({ length: n }, (_, s) => offsetOf(s, n, opts.clips.length, clipOf(s).length));
  const next = new Array<number>(n).fill(0);
  const waiting: Waiting[][] = Array.from({ length: n }, () => []);
  const per = Array.from({ length: n }, () => ({ captured: 0, dropped: 0, e2e: [] as number[] }));
  const e2e: number[] = [];
  const queue: number[] = [];
  const step: number[] = [];
  const service: number[] = [];
  const calls: { size: number; ms: number }[] = [];
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const cpu0 = process.cpuUsage();
  let droppedSoFar = 0;
  const done = () => {
    const t = now();
    return t >= opts.maxMs || (t >= opts.durationMs && e2e.length >= opts.minFrames);
  };
  let endedEarly = false;
  while (!opts.signal.aborted && !done() && !endedEarly) {
    const t = now();
    for (let s = 0; s < n; s++) {
      // Every frame whose capture time has come.
      while (next[s]! * periodMs + phaseMs(s) <= t) {
        const i = next[s]!;
        next[s] = i + 1;
        per[s]!.captured++;
        const w = waiting[s]!;
        if (opts.policy === 'latest' && w.length) {
          per[s]!.dropped += w.length;
          droppedSoFar += w.length;
          w.length = 0;
        }
        w.push({ index: i, captureMs: i * periodMs + phaseMs(s) });
      }
    }
    const heads: number[] = [];
    for (let s = 0; s < n; s++) if (waiting[s]!.length) heads.push(s);
    if (heads.length === 0) {
      const soonest = Math.min(...next.map((i, s) => i * periodMs + phaseMs(s)));
      await sleep(Math.max(0, soonest - now()));
      continue;
    }
    // A stable sort: streams whose frames were captured at once go in stream order, as one at a time always did.
    heads.sort((a, b) => waiting[a]![0]!.captureMs - waiting[b]![0]!.captureMs);
    // In slot order, a call of the first streams reads their states in place instead of gathering them.
    const picked = heads.slice(0, width).sort((a, b) => a - b);
    const frames = picked.map((s) => ({ stream: s, waited: waiting[s]!.shift()! }));
    const started = now();
    const r = await call(
      frames.map(({ stream, waited }) => {
        const clip = clipOf(stream);
        return { stream, frame: clip[(offsets[stream]! + waited.index) % clip.length]! };
      }),
    );
    const ready = now();
    calls.push({ size: frames.length, ms: r.ms });
    for (const { stream, waited } of frames) {
      e2e.push(ready - waited.captureMs);
      queue.push(started - waited.captureMs);
      step.push(r.ms);
      service.push(r.serviceMs / frames.length);
      per[stream]!.e2e.push(ready - waited.captureMs);
      if (opts.settledEarly?.(droppedSoFar, ready - waited.captureMs)) endedEarly = true;
    }
    // A synchronous runtime never yields; a signal is heard between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const wallMs = now();
  const cpu = process.cpuUsage(cpu0);
  const unprocessed = waiting.reduce((a, w) => a + w.length, 0);
  const overdue = waiting.reduce((a, w) => a + w.filter((f) => wallMs - f.captureMs >= periodMs).length, 0);
  const perStream = per.map((p) => {
    const q = quantiles(p.e2e);
    return {
      captured: p.captured,
      processed: p.e2e.length,
      dropped: p.dropped,
      e2eP50Ms: q?.p50 ?? null,
      e2eP99Ms: q?.p99 ?? null,
    };
  });
  return {
    streams: n,
    wallMs,
    captured: per.reduce((a, p) => a + p.captured, 0),
    processed: e2e.length,
    dropped: per.reduce((a, p) => a + p.dropped, 0),
    unprocessed,
    overdue,
    e2eSamplesMs: e2e,
    e2eMs: quantiles(e2e),
    queueMs: quantiles(queue),
    stepMs: quantiles(step),
    serviceMs: quantiles(service),
    perStream,
    calls,
    cpuUtilisation: wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs : 0,
    interrupted: opts.signal.aborted,
    endedEarly,
  };
}
