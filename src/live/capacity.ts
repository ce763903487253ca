import os from 'node:os';
import type { Backend, LoadOptions } from '../backends/backend.js';
import { modelInfo } from '../models/info.js';
import { StreamStepper } from '../stream/stream.js';
import { minFrames, passesAtPercentile } from '../metrics/early-stopping.js';
import { median } from '../metrics/stats.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { naiveStart, searchCapacity, type SearchPhase } from './capacity-search.js';
import type { Capacity, CapacityStep, LivePolicy, LiveResult } from './result.js';
import { openStreamStates, stateBytes, STATE_PLACEMENTS, type StatePlacement } from './stream-states.js';
import { runStreams, type Phase, type StreamsRun } from './streams.js';

/**
 * How many paced streams one process serves (`live --streams N|auto`). A step at N streams passes when no
 * frame was dropped or left waiting and LoadGen's early-stopping estimate of p99 end-to-end is at or under
 * one frame period; a step lasts until it has the frames that estimate needs, and at least its duration.
 */
export interface CapacityOptions {
  streams: number | 'auto';
  fps: number;
  phase: Phase;
  policy: LivePolicy;
  placement: StatePlacement | 'auto';
  /** Each step lasts at least this long. */
  durationMs: number;
  /** Fixed N: runs of it; auto: runs that confirm the found N. */
  runs: number;
  /** Decoded clips at the model's fps, and the decoder's CPU seconds per second of video (null: not timed). */
  clips: readonly (readonly Float32Array[])[];
  decoderCpuPerSecond: number | null;
  load: LoadOptions;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** Steps that would run longer than this are cut: a single stream at 5 fps needs over two minutes for p99. */
const MAX_STEP_MS = 10 * 60_000;
/** The largest N tried: far beyond what one core serves at 5 fps with any of these models. */
const MAX_STREAMS = 1024;
/** Steps each session takes before a step's streams start, so none of them pays a cold start. */
const WARM_STEPS = 3;
/** Service steps timed per placement when choosing one. */
const PLACEMENT_STEPS = 12;

const rssMB = () => process.memoryUsage.rss() / 2 ** 20;

/** Each placement's median service time at two streams, and the memory one more stream takes. */
async function measurePlacement(
  backend: Backend,
  model: ResolvedModel,
  placement: StatePlacement,
  opts: CapacityOptions,
): Promise<{ serviceMs: number; memoryPerStreamMB: number }> {
  const before = rssMB();
  const states = await openStreamStates(backend, model, 2, placement, opts.load);
  const memoryPerStreamMB =
    placement === 'sessions' ? Math.max(0, (rssMB() - before) / 2) : stateBytes(model) / 2 ** 20;
  try {
    const frame = opts.clips[0]![0]!;
    const times: number[] = [];
    for (let i = 0; i < PLACEMENT_STEPS + 4; i++) {
      const r = await states.step(i % 2, frame);
      if (i >= 4) times.push(r.serviceMs);
    }
    return { serviceMs: median(times)!, memoryPerStreamMB };
  } finally {
    states.close();
  }
}

/** Refuses, before anything is loaded for them, more streams than this machine's free memory holds. */
function checkMemory(n: number, perStreamMB: number): void {
  const freeMB = os.freemem() / 2 ** 20;
  if (n * perStreamMB > 0.8 * freeMB)
    throw new UserError(
      `--streams ${n} needs about ${Math.round(n * perStreamMB)} MB (${perStreamMB.toFixed(1)} MB a stream), ` +
        `more than this machine has free (${Math.round(freeMB)} MB)`,
    );
}

function stepOf(n: number, phase: SearchPhase | 'fixed', run: StreamsRun, periodMs: number): CapacityStep {
  const check = passesAtPercentile(run.e2eSamplesMs, periodMs);
  const dropped = run.dropped + run.unprocessed;
  const reasons = [
    dropped ? `${dropped} frame(s) dropped or left waiting` : null,
    check.status === 'too-few' ? `${check.n} frames, fewer than the ${check.needed} a p99 claim needs` : null,
    check.status === 'estimated' && !check.pass
      ? `p99 estimate ${check.estimateMs.toFixed(1)} ms over the ${periodMs.toFixed(0)} ms frame period`
      : null,
  ].filter((r): r is string => r !== null);
  return {
    streams: n,
    search: phase,
    pass: reasons.length === 0 && !run.interrupted,
    why: reasons.join('; ') || null,
    wallMs: run.wallMs,
    captured: run.captured,
    processed: run.processed,
    dropped: run.dropped,
    unprocessed: run.unprocessed,
    p99EstimateMs: check.status === 'estimated' ? check.estimateMs : null,
    e2eMs: run.e2eMs,
    queueMs: run.queueMs,
    stepMs: run.stepMs,
    serviceMs: run.serviceMs,
    cpuUtilisation: run.cpuUtilisation,
    perStream: run.perStream,
  };
}

/** A signal stopped the measurement: raised out of the search, which has no other way to end early. */
class Stopped extends Error {}

/** The capacity of one pair, or null when it was stopped before a step finished. */
export async function capacityOne(
  backend: Backend,
  model: ResolvedModel,
  opts: CapacityOptions,
): Promise<Capacity | null> {
  const periodMs = 1000 / opts.fps;
  const tried = opts.placement === 'auto' ? STATE_PLACEMENTS : [opts.placement];
  const measured: Partial<Record<StatePlacement, { serviceMs: number; memoryPerStreamMB: number }>> = {};
  for (const p of tried) measured[p] = await measurePlacement(backend, model, p, opts);
  const placement = tried.reduce((a, b) => (measured[b]!.serviceMs < measured[a]!.serviceMs ? b : a));
  const chosen = measured[placement]!;
  opts.log(
    `${model.id} ${backend.name}: states per stream by ${placement}` +
      tried.map((p) => `; ${p} ${measured[p]!.serviceMs.toFixed(2)} ms a frame`).join(''),
  );
  const need = minFrames();
  const done: CapacityStep[] = [];
  const step = async (n: number, phase: SearchPhase | 'fixed'): Promise<CapacityStep> => {
    // A stopped run ends the search: its steps so far are the report, and no further N is loaded.
    if (opts.signal.aborted) throw new Stopped();
    checkMemory(n, chosen.memoryPerStreamMB);
    const states = await openStreamStates(backend, model, n, placement, opts.load);
    try {
      await states.warm(opts.clips[0]![0]!, WARM_STEPS);
      const run = await runStreams(states, {
        fps: opts.fps,
        phase: opts.phase,
        policy: opts.policy,
        durationMs: opts.durationMs,
        minFrames: need,
        maxMs: Math.max(MAX_STEP_MS, opts.durationMs),
        clips: opts.clips,
        signal: opts.signal,
      });
      if (run.interrupted) throw new Stopped();
      const s = stepOf(n, phase, run, periodMs);
      done.push(s);
      opts.log(`${model.id} ${backend.name}: ${n} stream(s) ${s.pass ? 'pass' : `fail (${s.why})`}`);
      return s;
    } finally {
      states.close();
    }
  };
  const naive = Math.floor(periodMs / chosen.serviceMs);
  let maxStreams: number | null = null;
  try {
    if (opts.streams === 'auto') {
      const found = await searchCapacity((n, at) => step(n, at.phase), {
        start: Math.min(MAX_STREAMS, naiveStart(periodMs, chosen.serviceMs)),
        max: MAX_STREAMS,
        confirmRuns: opts.runs,
      });
      maxStreams = found.maxStreams;
    } else {
      checkMemory(opts.streams, chosen.memoryPerStreamMB);
      for (let k = 0; k < opts.runs; k++) await step(opts.streams, 'fixed');
    }
  } catch (e) {
    // Stopped: what ran is kept, and no capacity is claimed from an unfinished search.
    if (!(e instanceof Stopped)) throw e;
  }
  if (done.length === 0) return null;
  const steps = done;
  const atMax = [...steps].reverse().find((s) => s.pass && s.streams === maxStreams) ?? steps.at(-1);
  return {
    fps: opts.fps,
    phase: opts.phase,
    policy: opts.policy,
    placement: {
      chosen: placement,
      measured: opts.placement === 'auto',
      serviceMs: Object.fromEntries(tried.map((p) => [p, measured[p]!.serviceMs])),
    },
    memoryPerStreamMB: chosen.memoryPerStreamMB,
    naiveStreams: naive,
    maxStreams,
    decoder: decoderShare(opts.decoderCpuPerSecond, atMax),
    steps,
  };
}

/**
 * The decoder's share of a core per stream, and the streams left if it shared the core: the CPU the process
 * used at N streams, spent on each stream's inference and decoding together. The step's limit may be its
 * latency rather than the core (CPU under 100 %), so the budget is what N streams used, not a whole core.
 */
function decoderShare(cpuPerSecond: number | null, at: CapacityStep | undefined): Capacity['decoder'] {
  if (cpuPerSecond === null) return null;
  if (!at || at.streams === 0 || at.cpuUtilisation <= 0)
    return { cpuPerStreamSecond: cpuPerSecond, streamsIfSharedCore: null };
  const inferencePerStream = at.cpuUtilisation / at.streams;
  const left = Math.floor(at.cpuUtilisation / (inferencePerStream + cpuPerSecond));
  return { cpuPerStreamSecond: cpuPerSecond, streamsIfSharedCore: Math.min(at.streams, left) };
}

/**
 * One (model, backend) of `live --streams`: a load and first step timed as every live result records them
 * (and the warm-up), then the capacity measurement, whose sessions are its own.
 */
export async function capacityResult(
  backend: Backend,
  model: ResolvedModel,
  opts: CapacityOptions & { warmup: number },
): Promise<LiveResult | null> {
  const t0 = performance.now();
  const session = await backend.load(model, opts.load);
  const loadMs = performance.now() - t0;
  let firstInferenceMs: number;
  const stepper = new StreamStepper(session);
  try {
    const frame = opts.clips[0]![0]!;
    firstInferenceMs = (await stepper.step(frame)).ms;
    for (let i = 0; i < opts.warmup && !opts.signal.aborted; i++) await stepper.step(frame);
  } finally {
    stepper.close();
  }
  const runtime = { backend: backend.name, ...session.runtime, threads: session.threads };
  session.dispose();
  const capacity = await capacityOne(backend, model, opts);
  if (capacity === null) return null;
  return {
    model: modelInfo(model),
    backend: backend.name,
    runtime,
    source: 'file',
    modelFps: model.fps,
    loadMs,
    firstInferenceMs,
    warmupFrames: opts.warmup,
    labels: {},
    runs: [],
    capacity,
    warnings: capacity.steps.some((s) => s.processed < minFrames())
      ? ['a step had fewer frames than a p99 claim needs: raise --duration']
      : [],
  };
}
