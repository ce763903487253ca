import os from 'node:os';
import type { Backend, Session } from '../backends/backend.js';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { BenchResult, GcCount, Machine, OpProfile, Overhead } from '../core/results.js';
import { noProfile, summarizeProfile, type NodeTime } from '../metrics/profile.js';
import { modelInfo } from '../models/info.js';
import { graphMacs } from '../models/inspect.js';
import type { ResolvedModel } from '../models/resolve.js';
import { latencyStats, median } from '../metrics/stats.js';
import { measurementWarnings, runtimeWarnings } from '../metrics/warnings.js';
import { StreamStepper } from '../stream/stream.js';
import { errorMessage } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { allowedCpus, type StartGate } from '../util/start-gate.js';

export interface BenchOptions {
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
  frames: number;
  warmup: number;
  repeats: number;
  percentiles: number[];
  input: string;
  /** Also time the backend's bare runtime loop, to report the harness overhead. */
  overhead: boolean;
  /** After the timed runs, a separate profiling run with the runtime's op profiler. */
  profile?: boolean;
  progress: Progress;
  /** The machine the results are labelled with: the run layer reads it, with the user's label. */
  machine: Machine;
  /** ab's duet mode: start measuring on the partner's signal, and keep the core busy until it is done too. */
  gate?: StartGate;
}

/** Identifies this process in every result it measures, so merges can tell processes apart. */
const PROCESS_ID = `${os.hostname()}:${process.pid}:${Math.round(performance.timeOrigin)}`;
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const rssMB = () => process.memoryUsage.rss() / 2 ** 20;
const frameAt = (frames: readonly Float32Array[], i: number) => frames[i % frames.length]!;

/** `count` frames through a fresh stream, returning each step()'s time; `tick` runs outside the clock. */
async function timedPass(
  session: Session,
  frames: readonly Float32Array[],
  count: number,
  tick?: (done: number) => void,
): Promise<number[]> {
  const stepper = new StreamStepper(session);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      times.push((await stepper.step(frameAt(frames, i))).ms);
      if ((i & 15) === 0) tick?.(i + 1);
    }
  } finally {
    stepper.close();
  }
  return times;
}

/** Unmeasured frames until `done` settles, yielding to the event loop each frame so the order to stop is heard. */
async function stepUntil(session: Session, frames: readonly Float32Array[], done: Promise<void>): Promise<void> {
  let over = false;
  void done.then(() => (over = true));
  const stepper = new StreamStepper(session);
  try {
    for (let i = 0; !over; i++) {
      await stepper.step(frameAt(frames, i));
      await new Promise(setImmediate);
    }
  } finally {
    stepper.close();
  }
}

/**
 * One (model, backend) latency run: load, first inference (cold), warm-up
 * (excluded), then `repeats` passes of `frames` steps, each pass from zero
 * state with states carried frame to frame. Only step() is inside the clock.
 */
export async function benchOne(
  model: ResolvedModel,
  backend: Backend,
  frames: readonly Float32Array[],
  opts: BenchOptions,
): Promise<BenchResult> {
  let peakRss = rssMB();
  const t0 = process.hrtime.bigint();
  const session = await backend.load(model, { threads: opts.threads, cache: opts.cache });
  const loadMs = msSince(t0);
  try {
    const warm = new StreamStepper(session);
    const firstInferenceMs = (await warm.step(frameAt(frames, 0))).ms;
    for (let i = 1; i <= opts.warmup; i++) await warm.step(frameAt(frames, i));
    warm.close();
    await opts.gate?.ready();
    const cpus = allowedCpus();

    const samples: number[] = [];
    const repeatP50Ms: number[] = [];
    const gc = countGc();
    opts.progress.start(opts.frames * opts.repeats, `${model.id} ${backend.name}`);
    for (let r = 0; r < opts.repeats; r++) {
      const pass = await timedPass(session, frames, opts.frames, (done) => {
        peakRss = Math.max(peakRss, rssMB());
        opts.progress.update(samples.length + done);
      });
      for (const v of pass) samples.push(v);
      repeatP50Ms.push(median(pass)!);
    }
    const collections = gc.stop();
    opts.progress.stop();
    if (opts.gate) await stepUntil(session, frames, opts.gate.measured());
    const stats = latencyStats(samples, opts.percentiles);
    const overhead = opts.overhead ? await measureOverhead(session, frames, opts.frames) : null;
    peakRss = Math.max(peakRss, rssMB());
    // A model given by path has no paper figure: 2 x the graph's conv/FC MACs stands in.
    const flops = model.spec?.flopsPerFrame ?? 2 * graphMacs(model.graph);
    const runtime = { backend: backend.name, ...session.runtime, threads: session.threads };
    return {
      model: modelInfo(model),
      backend: backend.name,
      machine: opts.machine,
      runtime,
      input: opts.input,
      loadMs,
      firstInferenceMs,
      warmupFrames: opts.warmup,
      samplesMs: samples,
      processes: [
        {
          id: PROCESS_ID,
          samples: samples.length,
          loadMs,
          firstInferenceMs,
          peakRssMB: peakRss,
          p50Ms: stats.p50,
          p90Ms: stats.p90,
          percentiles: stats.percentiles,
          overheadRatio: overhead?.ratio ?? null,
          gc: collections,
          ...(cpus ? { cpus } : {}),
        },
      ],
      processMedianCI: null,
      repeatP50Ms,
      stats,
      fps: 1000 / stats.mean,
      realtimeFactor: 1000 / model.fps / stats.p50,
      gflopsPerSecond: flops / (stats.p50 / 1000) / 1e9,
      peakRssMB: peakRss,
      overhead,
      warnings: [...measurementWarnings(stats, repeatP50Ms, overhead), ...runtimeWarnings(runtime)],
      gc: collections,
      ...(opts.profile ? { profile: await profileRun(model, backend, frames, opts) } : {}),
    };
  } finally {
    opts.progress.stop();
    session.dispose();
  }
}

/** Counts garbage collections from now until stop(), from perf_hooks' 'gc' entries. */
function countGc(): { stop(): GcCount } {
  const counts: GcCount = { major: 0, minor: 0, pauseMs: 0 };
  const add = (entries: PerformanceEntry[]) => {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else counts.minor++;
      counts.pauseMs += e.duration;
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      add(observer.takeRecords());
      observer.disconnect();
      return counts;
    },
  };
}

/** Frames of a profiling run: the first ones (one-time costs) are left out of the totals. */
const PROFILE_WARMUP = 10;
const PROFILE_FRAMES = 50;

/** A separate session with the runtime's op profiler on: never timed, since a profiler adds its own cost. */
async function profileRun(
  model: ResolvedModel,
  backend: Backend,
  frames: readonly Float32Array[],
  opts: BenchOptions,
): Promise<OpProfile> {
  if (backend.noProfiler) return noProfile(backend.name, backend.noProfiler);
  const profile = { warmup: PROFILE_WARMUP, frames: PROFILE_FRAMES };
  const session = await backend.load(model, { threads: opts.threads, cache: opts.cache, profile });
  try {
    if (!session.profiler) return noProfile(backend.name, 'the runtime gave no profiler');
    await timedPass(session, frames, PROFILE_WARMUP + PROFILE_FRAMES);
    let times: NodeTime[];
    try {
      times = await session.profiler.nodeTimes();
    } catch (e) {
      // The timed runs stand without a profile: a profiler that cannot be read is said in the report.
      return noProfile(backend.name, `the profiler could not be read: ${errorMessage(e)}`);
    }
    return summarizeProfile(backend.name, session.profiler.source, times, PROFILE_FRAMES);
  } finally {
    session.dispose();
  }
}

/**
 * Harness overhead: step() against the backend's bare runtime loop on the same
 * frames, in alternating blocks. Each block pair gives a ratio of p50s and the
 * overhead is their median, so a burst of load on a shared machine that hits
 * one block does not decide the figure.
 */
async function measureOverhead(session: Session, frames: readonly Float32Array[], total: number): Promise<Overhead> {
  const block = Math.max(10, Math.floor(total / 12));
  const bare: number[] = [];
  const ratios: number[] = [];
  for (let done = 0; done < total; done += block) {
    const bareBlock = await session.bareLoop(frames, block);
    const stepped = await timedPass(session, frames, block);
    for (const v of bareBlock) bare.push(v);
    ratios.push(median(stepped)! / median(bareBlock)!);
  }
  return { bareP50Ms: median(bare)!, ratio: median(ratios)! };
}
