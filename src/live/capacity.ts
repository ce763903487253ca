import os from 'node:os';
import type { Backend, BatchedSession, LoadOptions } from '../backends/backend.js';
import { batchedLoader } from '../backends/batching.js';
import { modelInfo } from '../models/info.js';
import { StreamStepper } from '../stream/stream.js';
import { failsOnceDecided, minFrames, passesAtPercentile } from '../metrics/early-stopping.js';
import { maxOr, median } from '../metrics/stats.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { naiveStart, searchCapacity, type SearchPhase } from './capacity-search.js';
import { openBatchedStates, SCHEDULE_FLAG, type BatchedStreamStates } from './batched-states.js';
import type { CallSizes, Capacity, CapacityStep, LivePolicy, LiveResult, Schedule } from './result.js';
import {
  openStreamStates,
  stateBytes,
  STATE_PLACEMENTS,
  type StatePlacement,
  type StreamStates,
} from './stream-states.js';
import { runStreams, type Phase, type StreamsRun } from './streams.js';

/**
 * How many paced streams one process serves (`live --streams N|auto`). A step at N streams passes when no
 * frame was dropped or left waiting a frame period or more and LoadGen's early-stopping estimate of p99
 * end-to-end is at or under one frame period; a step lasts until it has the frames that estimate needs, and at
 * least its duration.
 */
export interface CapacityOptions {
  streams: number | 'auto';
  fps: number;
  phase: Phase;
  policy: LivePolicy;
  placement: StatePlacement | 'auto';
  /**
   * Sequential: one call per frame, with `placement`; batched: the streams are slots of one batched session and a
   * call steps every stream with a frame waiting, at most `maxBatch` (null: all of them).
   */
  schedule: { kind: 'sequential' } | { kind: 'batched'; maxBatch: number | null };
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

/** The widest batch the batched schedule's cost and memory are probed at before its steps. */
const PROBE_SLOTS = 8;
/** Calls timed per batch size by the probe, after as many untimed. */
const PROBE_CALLS = 8;

/**
 * The batched schedule's memory per stream and a frame's share of a call at batch 1 and at the probe's widest.
 * Memory: what a session of k slots takes beyond one of a single slot, per added slot, each session loaded while
 * the ones before it are still held, so neither reuses what the other freed; a first single-slot session takes
 * the once-per-process costs (the runtime's library, its threads) out of both figures. Each session has made a
 * call of all its slots in order and one out of order, so the rows every call gathers into are counted too.
 */
async function probeBatched(
  backend: Backend,
  model: ResolvedModel,
  maxBatch: number | null,
  opts: CapacityOptions,
): Promise<{ memoryPerStreamMB: number; probe: { batch: number; frameMs: number }[] }> {
  const loadBatched = batchedLoader(backend, SCHEDULE_FLAG);
  const frame = opts.clips[0]![0]!;
  const k = Math.max(2, Math.min(PROBE_SLOTS, maxBatch ?? PROBE_SLOTS));
  const held: { session: BatchedSession; slots: number[] }[] = [];
  const call = (h: { session: BatchedSession; slots: number[] }, slots: readonly number[]) =>
    h.session.step(slots.map((slot) => ({ slot, frame })));
  const loaded = async (slots: number) => {
    const session = await loadBatched(model, { ...opts.load, slots });
    const h = { session, slots: Array.from({ length: slots }, () => session.open()) };
    held.push(h);
    await call(h, h.slots);
    await call(h, [...h.slots].reverse());
    return h;
  };
  try {
    await loaded(1);
    const r1 = rssMB();
    const wide = await loaded(k);
    const r2 = rssMB();
    await loaded(1);
    const r3 = rssMB();
    const memoryPerStreamMB = Math.max(0, (r2 - r1 - (r3 - r2)) / (k - 1));
    const widths = [...new Set([1, Math.min(k, maxBatch ?? k)])];
    const probe: { batch: number; frameMs: number }[] = [];
    for (const w of widths) {
      const times: number[] = [];
      for (let i = 0; i < 2 * PROBE_CALLS; i++) {
        const t0 = performance.now();
        await call(wide, wide.slots.slice(0, w));
        if (i >= PROBE_CALLS) times.push((performance.now() - t0) / w);
      }
      probe.push({ batch: w, frameMs: median(times)! });
    }
    return { memoryPerStreamMB, probe };
  } finally {
    for (const h of held) h.session.dispose();
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

/** A step's calls by size: how many, and what each size's call took. */
function callSizes(calls: StreamsRun['calls']): CallSizes {
  const bySize = new Map<number, number[]>();
  for (const c of calls) {
    const list = bySize.get(c.size);
    if (list) list.push(c.ms);
    else bySize.set(c.size, [c.ms]);
  }
  return {
    count: calls.length,
    bySize: [...bySize]
      .sort(([a], [b]) => a - b)
      .map(([size, ms]) => ({
        size,
        calls: ms.length,
        p50Ms: median(ms)!,
        meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
        // A long step makes more calls than a spread argument list may hold.
        maxMs: maxOr(ms, 0),
      })),
  };
}

function stepOf(
  n: number,
  phase: SearchPhase | 'fixed',
  run: StreamsRun,
  periodMs: number,
  batched: boolean,
): CapacityStep {
  const check = passesAtPercentile(run.e2eSamplesMs, periodMs);
  const dropped = run.dropped + run.overdue;
  const reasons = [
    dropped ? `${dropped} frame(s) dropped or left waiting a frame period` : null,
    run.endedEarly
      ? 'ended early: a drop, or more frames over the frame period than the p99 estimate over its frames could set aside'
      : null,
    check.status === 'too-few' && !run.endedEarly
      ? `${check.n} frames, fewer than the ${check.needed} a p99 claim needs`
      : null,
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
    overdue: run.overdue,
    p99EstimateMs: check.status === 'estimated' ? check.estimateMs : null,
    e2eMs: run.e2eMs,
    queueMs: run.queueMs,
    stepMs: run.stepMs,
    serviceMs: run.serviceMs,
    cpuUtilisation: run.cpuUtilisation,
    perStream: run.perStream,
    ...(batched ? { calls: callSizes(run.calls) } : {}),
  };
}

/**
 * Where the streams' states live and what a frame costs there, measured before any step: under the sequential
 * schedule each placement tried (the cheaper kept), under the batched one the slots of a batched session.
 */
async function placeStates(
  backend: Backend,
  model: ResolvedModel,
  opts: CapacityOptions,
): Promise<{
  chosen: { serviceMs: number; memoryPerStreamMB: number };
  placement: Capacity['placement'];
  open: (n: number) => Promise<StreamStates | BatchedStreamStates>;
  schedule: Schedule;
}> {
  if (opts.schedule.kind === 'batched') {
    const { maxBatch } = opts.schedule;
    const { memoryPerStreamMB, probe } = await probeBatched(backend, model, maxBatch, opts);
    const serviceMs = probe.at(-1)!.frameMs;
    opts.log(
      `${model.id} ${backend.name}: states per stream in the slots of one batched session` +
        probe.map((p) => `; batch ${p.batch} ${p.frameMs.toFixed(2)} ms a frame`).join(''),
    );
    return {
      chosen: { serviceMs, memoryPerStreamMB },
      placement: { chosen: 'slots', measured: false, serviceMs: { slots: serviceMs } },
      open: (n) => openBatchedStates(backend, model, n, Math.min(n, maxBatch ?? n), opts.load),
      schedule: { kind: 'batched', maxBatch, probe },
    };
  }
  const tried = opts.placement === 'auto' ? STATE_PLACEMENTS : [opts.placement];
  const measured: Partial<Record<StatePlacement, { serviceMs: number; memoryPerStreamMB: number }>> = {};
  for (const p of tried) measured[p] = await measurePlacement(backend, model, p, opts);
  const placement = tried.reduce((a, b) => (measured[b]!.serviceMs < measured[a]!.serviceMs ? b : a));
  opts.log(
    `${model.id} ${backend.name}: states per stream by ${placement}` +
      tried.map((p) => `; ${p} ${measured[p]!.serviceMs.toFixed(2)} ms a frame`).join(''),
  );
  return {
    chosen: measured[placement]!,
    placement: {
      chosen: placement,
      measured: opts.placement === 'auto',
      serviceMs: Object.fromEntries(tried.map((p) => [p, measured[p]!.serviceMs])),
    },
    open: (n) => openStreamStates(backend, model, n, placement, opts.load),
    schedule: { kind: 'sequential', maxBatch: null },
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
  const { chosen, placement, open, schedule } = await placeStates(backend, model, opts);
  const batched = schedule.kind === 'batched';
  const need = minFrames();
  const done: CapacityStep[] = [];
  // At most this many frames when the step ends: a step runs on until both its duration and `need` are met, and
  // each stream may deliver one frame more while the last call runs. Judging against the most frames it can have
  // never cuts short a step that would pass.
  const plannedFrames = (n: number) => Math.max(need, Math.ceil((opts.durationMs / 1000) * n * opts.fps)) + n;
  const step = async (n: number, phase: SearchPhase | 'fixed'): Promise<CapacityStep> => {
    // A stopped run ends the search: its steps so far are the report, and no further N is loaded.
    if (opts.signal.aborted) throw new Stopped();
    checkMemory(n, chosen.memoryPerStreamMB);
    const states = await open(n);
    try {
      await states.warm(opts.clips[0]![0]!, WARM_STEPS);
      const run = await runStreams(states, {
        fps: opts.fps,
        phase: opts.phase,
        policy: opts.policy,
        durationMs: opts.durationMs,
        minFrames: need,
        maxMs: Math.max(MAX_STEP_MS, opts.durationMs),
        // A search step only needs its verdict; a fixed N is measured whole, as asked.
        ...(phase === 'fixed' ? {} : { settledEarly: failsOnceDecided(periodMs, plannedFrames(n)) }),
        clips: opts.clips,
        signal: opts.signal,
      });
      if (run.interrupted) throw new Stopped();
      const s = stepOf(n, phase, run, periodMs, batched);
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
    schedule,
    placement,
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
 * A load and first step timed, and the warm-up, on the graph the schedule runs: the free-batch graph (one slot)
 * for the batched schedule, whose runtime build the report then names.
 */
async function firstSteps(
  backend: Backend,
  model: ResolvedModel,
  opts: CapacityOptions & { warmup: number },
): Promise<{ loadMs: number; firstInferenceMs: number; runtime: LiveResult['runtime'] }> {
  const frame = opts.clips[0]![0]!;
  const t0 = performance.now();
  if (opts.schedule.kind === 'batched') {
    const session = await batchedLoader(backend, SCHEDULE_FLAG)(model, { ...opts.load, slots: 1 });
    try {
      const loadMs = performance.now() - t0;
      const slot = [{ slot: session.open(), frame }];
      const t1 = performance.now();
      await session.step(slot);
      const firstInferenceMs = performance.now() - t1;
      for (let i = 0; i < opts.warmup && !opts.signal.aborted; i++) await session.step(slot);
      return {
        loadMs,
        firstInferenceMs,
        runtime: { backend: backend.name, ...session.runtime, threads: session.threads },
      };
    } finally {
      session.dispose();
    }
  }
  const session = await backend.load(model, opts.load);
  const loadMs = performance.now() - t0;
  const stepper = new StreamStepper(session);
  try {
    const firstInferenceMs = (await stepper.step(frame)).ms;
    for (let i = 0; i < opts.warmup && !opts.signal.aborted; i++) await stepper.step(frame);
    return {
      loadMs,
      firstInferenceMs,
      runtime: { backend: backend.name, ...session.runtime, threads: session.threads },
    };
  } finally {
    stepper.close();
    session.dispose();
  }
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
  const { loadMs, firstInferenceMs, runtime } = await firstSteps(backend, model, opts);
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
