import type { Session } from '../backends/backend.js';
import { argmax, softmax } from '../metrics/probabilities.js';
import { percentileSorted } from '../metrics/stats.js';
import { StreamStepper } from '../stream/stream.js';
import { PacedSource, type FrameSupplier, type SourceFrame } from '../video/paced.js';
import type { LiveFrames, LivePolicy, LiveRun } from './result.js';

export interface LiveStreamOptions {
  policy: LivePolicy;
  /** Delivery rate, frames per second of wall time; null for a camera, which paces itself. */
  rate: number | null;
  /** The model's fps: what the video is sampled at, and a camera's rate. */
  modelFps: number;
  durationMs: number;
  /** Decoded frames held ahead of their capture time. */
  ahead: number;
  signal: AbortSignal;
  /** After each capture, with the frames captured so far (outside any timed span). */
  onCapture?: (captured: number) => void;
  /**
   * After each step: true ends the run there (a trial whose verdict can no longer change). Not an interruption:
   * the run reports what it saw.
   */
  settledEarly?: (dropped: number, lastE2eMs: number) => boolean;
}

function percentiles(values: readonly number[]): LiveRun['e2eMs'] {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentileSorted(sorted, p);
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]! };
}

/** Spread of the time between consecutive outputs: what a viewer sees as an uneven stream. */
function outputInterval(readyMs: readonly number[]): LiveRun['outputInterval'] {
  if (readyMs.length < 3) return null;
  const gaps = readyMs.slice(1).map((t, i) => t - readyMs[i]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const variance = gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1);
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    meanMs: mean,
    jitterMs: Math.sqrt(variance),
    p10Ms: percentileSorted(sorted, 10),
    p90Ms: percentileSorted(sorted, 90),
  };
}

/** The top-1 the run ended with and the capture time of the first frame of its last unbroken stretch. */
function settled(frames: LiveFrames): LiveRun['settled'] {
  const n = frames.top1.length;
  if (n === 0) return null;
  const last = frames.top1[n - 1]!;
  let i = n - 1;
  while (i > 0 && frames.top1[i - 1] === last) i--;
  return { top1: last, atMs: frames.captureMs[i]! };
}

/**
 * One live stream from zero state: the source captures frames on its clock,
 * and the model takes them as it can. `latest` takes the newest waiting frame
 * and drops the older ones; `queue` takes the oldest and drops nothing. Each
 * frame's end-to-end latency runs from its capture to its logits; only step()
 * is timed by the stepper. The source is always stopped (ffmpeg killed) before
 * this returns or throws.
 */
export async function liveStream(
  session: Session,
  supplier: FrameSupplier,
  opts: LiveStreamOptions,
): Promise<Omit<LiveRun, 'sweep' | 'maxSustainableFps'>> {
  const source = new PacedSource({
    supplier,
    rate: opts.rate,
    durationMs: opts.durationMs,
    ahead: opts.ahead,
  });
  const stop = () => void source.stop();
  opts.signal.addEventListener('abort', stop);
  const stepper = new StreamStepper(session);
  const frames: LiveFrames = { index: [], captureMs: [], e2eMs: [], queueMs: [], stepMs: [], top1: [], top1Prob: [] };
  const readyMs: number[] = [];
  const droppedCaptureMs: number[] = [];
  const waiting: SourceFrame[] = [];
  let captured = 0;
  let sourceLate = 0;
  let wallMs: number;
  let cpu: NodeJS.CpuUsage;
  try {
    await source.start();
    const cpu0 = process.cpuUsage();
    for (;;) {
      if (opts.signal.aborted) break;
      const fresh = source.capture();
      if (fresh.length) {
        captured += fresh.length;
        sourceLate += fresh.filter((f) => f.late).length;
        waiting.push(...fresh);
        opts.onCapture?.(captured);
      }
      if (waiting.length === 0) {
        if (source.finished()) break;
        await source.wait();
        continue;
      }
      const frame = opts.policy === 'latest' ? waiting.pop()! : waiting.shift()!;
      if (opts.policy === 'latest') {
        for (const d of waiting) droppedCaptureMs.push(d.captureMs);
        waiting.length = 0;
      }
      const startMs = source.elapsed();
      const { logits, ms } = await stepper.step(frame.data);
      const ready = source.elapsed();
      const top = argmax(logits);
      frames.index.push(frame.index);
      frames.captureMs.push(frame.captureMs);
      frames.e2eMs.push(ready - frame.captureMs);
      frames.queueMs.push(startMs - frame.captureMs);
      frames.stepMs.push(ms);
      frames.top1.push(top);
      frames.top1Prob.push(Math.min(1, softmax(logits)[top]!));
      readyMs.push(ready);
      if (opts.settledEarly?.(droppedCaptureMs.length, ready - frame.captureMs)) break;
      // A synchronous runtime never yields; frames from the decoder and a SIGINT are handled between steps.
      await new Promise<void>((r) => setImmediate(r));
    }
    wallMs = source.elapsed();
    cpu = process.cpuUsage(cpu0);
  } finally {
    opts.signal.removeEventListener('abort', stop);
    stepper.close();
    await source.stop();
  }
  const processed = frames.index.length;
  const rate = opts.rate ?? opts.modelFps;
  return {
    deliveryFps: rate,
    speed: rate / opts.modelFps,
    wallMs,
    captured,
    processed,
    dropped: droppedCaptureMs.length,
    unprocessed: waiting.length,
    droppedCaptureMs,
    sourceLate,
    e2eMs: percentiles(frames.e2eMs),
    queueMs: percentiles(frames.queueMs),
    stepMs: percentiles(frames.stepMs),
    outputInterval: outputInterval(readyMs),
    cpu: {
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      utilisation: wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs : 0,
    },
    settled: settled(frames),
    frames,
    interrupted: opts.signal.aborted,
  };
}
