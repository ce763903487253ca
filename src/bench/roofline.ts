import { PROBE_RUNTIMES, type ProbeRuntime } from '../backends/backend.js';
import { checkThreads, findBackend, getBackend } from '../backends/index.js';
import { NATIVE_VARIANTS } from '../backends/tflite-native.js';
import { loadLiteRtRuntime } from '../backends/litert.js';
import type { Roofline } from '../core/results.js';
import { median } from '../metrics/stats.js';
import {
  convMacs,
  convProbeSpec,
  describeConv,
  randomCodes,
  type ConvShape,
  type ProbeDtype,
} from './roofline-models.js';
import {
  liteRtProbe,
  onnxRuntimeProbe,
  onnxRuntimeWebProbe,
  tfjsTfliteProbe,
  tfliteNativeProbe,
  type ProbeSession,
} from './roofline-runtimes.js';

/**
 * The roofline probe: how many MACs per second one runtime reaches on a
 * single large 1x1 convolution (MoViNet's dominant op) at the benchmark's
 * thread count, int8 and fp32, through the same runtime and the same API
 * its backend uses. Set beside a model's achieved GMAC/s (its MACs per
 * frame over its p50), it shows how far the backend is from what this
 * machine and runtime can do on dense convolution.
 */

export const PEAK_RUNTIMES = PROBE_RUNTIMES;
export type PeakRuntime = ProbeRuntime;

/**
 * 28x28x256->256: 51.4 M MACs a call (A0 is 49.7 M MACs a frame), enough
 * that a call's fixed cost is negligible, with inputs and outputs small
 * beside the work (LiteRT's int8 graph quantizes its input and dequantizes its output).
 */
export const DEFAULT_PROBE_SHAPE: ConvShape = { size: 28, inChannels: 256, outChannels: 256 };
export const DEFAULT_PROBE_MS = 300;
const WARMUP_CALLS = 2;
const MIN_CALLS = 3;

export interface PeakOptions {
  threads: number;
  /** Timed calls per dtype run until this much time has passed (at least 3 calls). */
  durationMs?: number;
  shape?: ConvShape;
}

export interface PerDtype<T> {
  int8: T;
  fp32: T;
}

export interface PeakProbe {
  runtime: PeakRuntime;
  threads: number;
  /** MACs per call over the best call's time. */
  int8GmacPerS: number;
  fp32GmacPerS: number;
  macsPerCall: PerDtype<number>;
  /** Per-call wall time: the best (the GMAC/s above) and the median. */
  callMs: PerDtype<{ best: number; median: number }>;
  /** Timed calls, warm-up excluded. */
  calls: PerDtype<number>;
  /** e.g. 'CONV_2D 1x1 28x28x256->256' */
  op: string;
  /** The graph each dtype ran as, in this runtime. */
  graphs: PerDtype<string>;
  method: string;
}

/** A model's achieved GMAC/s: its MACs per frame over its p50 frame time; NaN unless both are positive and finite. */
export function achievedGmacPerS(macsPerFrame: number, p50Ms: number): number {
  if (!(macsPerFrame > 0 && p50Ms > 0 && Number.isFinite(macsPerFrame) && Number.isFinite(p50Ms))) return NaN;
  return macsPerFrame / (p50Ms * 1e6);
}

/** Loads one probe graph in one runtime. */
export async function openProbe(
  runtime: PeakRuntime,
  dtype: ProbeDtype,
  shape: ConvShape,
  threads: number,
): Promise<ProbeSession> {
  const spec = convProbeSpec(shape);
  switch (runtime) {
    case 'tfjs-tflite':
      return tfjsTfliteProbe(spec, dtype, threads);
    case 'litert':
      return liteRtProbe(await loadLiteRtRuntime(), spec, dtype, threads);
    case 'onnxruntime':
      return onnxRuntimeProbe(spec, dtype, threads);
    case 'onnxruntime-web':
      return onnxRuntimeWebProbe(spec, dtype, threads);
    case 'tflite-native-xnnpack':
    case 'tflite-native-builtin':
      return tfliteNativeProbe(NATIVE_VARIANTS[runtime], spec, dtype, threads);
  }
}

/** Per-call times (ms, performance.now()) after the warm-up calls, until `durationMs` has passed. */
export async function timeCalls(
  call: () => Promise<void>,
  durationMs: number,
  warmup = WARMUP_CALLS,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < MIN_CALLS || performance.now() - start < durationMs) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return times;
}

async function probeDtype(runtime: PeakRuntime, dtype: ProbeDtype, shape: ConvShape, threads: number, ms: number) {
  const session = await openProbe(runtime, dtype, shape, threads);
  try {
    session.setInput(randomCodes(shape.size * shape.size * shape.inChannels));
    const times = await timeCalls(() => session.call(), ms);
    return { graph: session.graph, times };
  } finally {
    session.dispose();
  }
}

/** Measures one runtime's int8 and fp32 peak on the probe convolution (int8 first, then fp32, one at a time). */
export async function probePeak(runtime: PeakRuntime, opts: PeakOptions): Promise<PeakProbe> {
  checkThreads(getBackend(runtime), opts.threads);
  const shape = opts.shape ?? DEFAULT_PROBE_SHAPE;
  const ms = opts.durationMs ?? DEFAULT_PROBE_MS;
  const macs = convMacs(shape);
  const int8 = await probeDtype(runtime, 'int8', shape, opts.threads, ms);
  const fp32 = await probeDtype(runtime, 'fp32', shape, opts.threads, ms);
  const stats = (times: number[]) => ({ best: Math.min(...times), median: median(times) ?? NaN });
  const callMs = { int8: stats(int8.times), fp32: stats(fp32.times) };
  const schedule = `${WARMUP_CALLS} warm-up calls, then calls for ${ms} ms (at least ${MIN_CALLS}) per dtype`;
  return {
    runtime,
    threads: opts.threads,
    int8GmacPerS: achievedGmacPerS(macs, callMs.int8.best),
    fp32GmacPerS: achievedGmacPerS(macs, callMs.fp32.best),
    macsPerCall: { int8: macs, fp32: macs },
    callMs,
    calls: { int8: int8.times.length, fp32: fp32.times.length },
    op: describeConv(shape),
    graphs: { int8: int8.graph, fp32: fp32.graph },
    method:
      `${schedule}, each timed with performance.now(); ` +
      'GMAC/s = MACs per call / best call time (best-of approximates the peak; the median is kept beside it)',
  };
}

/**
 * The probe that stands for a backend's graph: its runtime, and the arithmetic
 * the graph runs in (an int8 model runs int8 on the TFLite runtimes and as
 * the QDQ graph on onnxruntime; the float and exact conversions run fp32 ops).
 * Null for a backend no probe measures (e.g. a browser row: the probe runs in Node).
 */
export function probeFor(backend: string, int8Model: boolean): { runtime: PeakRuntime; dtype: ProbeDtype } | null {
  const facts = findBackend(backend)?.facts;
  if (!facts?.probe) return null;
  return { runtime: facts.probe, dtype: int8Model && facts.precision === 'native' ? 'int8' : 'fp32' };
}

/** A model's achieved rate beside the probe's peak for the arithmetic it runs in. */
export function roofline(macsPerFrame: number, p50Ms: number, dtype: ProbeDtype, peak: PeakProbe): Roofline {
  const achieved = achievedGmacPerS(macsPerFrame, p50Ms);
  const peakGmacPerS = dtype === 'int8' ? peak.int8GmacPerS : peak.fp32GmacPerS;
  return {
    macsPerFrame,
    achievedGmacPerS: achieved,
    dtype,
    peakGmacPerS,
    fractionOfPeak: achieved / peakGmacPerS,
    probe: {
      runtime: peak.runtime,
      threads: peak.threads,
      op: peak.op,
      int8GmacPerS: peak.int8GmacPerS,
      fp32GmacPerS: peak.fp32GmacPerS,
      graph: peak.graphs[dtype],
      method: peak.method,
    },
  };
}
