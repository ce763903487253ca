import type { Backend, Session } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import { resolveRequested } from '../models/requested.js';
import { graphMacs } from '../models/inspect.js';
import { modelInfo } from '../report/environment.js';
import type { BenchResult, Skipped } from '../report/schema.js';
import { errorMessage } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { benchFrames } from './frames.js';
import { latencyStats, type LatencyStats } from './stats.js';

export interface BenchOptions {
  threads: number;
  frames: number;
  warmup: number;
  repeats: number;
  percentiles: number[];
  input: string;
  /** Also time the backend's bare runtime loop, to report the harness overhead. */
  overhead: boolean;
  progress: Progress;
}

/** 5 fps: one frame every 200 ms is the real-time budget. */
export const FRAME_BUDGET_MS = 200;

const now = () => process.hrtime.bigint();
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const rssMB = () => process.memoryUsage.rss() / 2 ** 20;

/**
 * One (model, backend) latency run: load, first inference (cold), warm-up
 * (excluded), then `repeats` passes of `frames` steps, each pass from zero
 * state with states carried frame to frame. Only step() is inside the clock.
 */
export async function benchOne(model: ResolvedModel, backend: Backend, frames: Float32Array[], opts: BenchOptions): Promise<BenchResult> {
  let peakRss = rssMB();
  const t0 = now();
  const session: Session = await backend.load(model, { threads: opts.threads });
  const loadMs = msSince(t0);
  try {
    let state = session.initialState();
    const t1 = now();
    state = (await session.step(frames[0]!, state)).state;
    const firstInferenceMs = msSince(t1);
    for (let i = 1; i <= opts.warmup; i++) state = (await session.step(frames[i % frames.length]!, state)).state;
    session.release(state);

    const samples: number[] = [];
    const repeatP50Ms: number[] = [];
    const total = opts.frames * opts.repeats;
    opts.progress.start(total, `${model.id} ${backend.name}`);
    for (let r = 0; r < opts.repeats; r++) {
      state = session.initialState();
      const pass: number[] = [];
      for (let i = 0; i < opts.frames; i++) {
        const frame = frames[i % frames.length]!;
        const ts = now();
        const out = await session.step(frame, state);
        pass.push(msSince(ts));
        state = out.state;
        if ((i & 15) === 0) {
          peakRss = Math.max(peakRss, rssMB());
          opts.progress.update(samples.length + pass.length);
        }
      }
      session.release(state);
      samples.push(...pass);
      repeatP50Ms.push(latencyStats(pass, []).p50);
    }
    opts.progress.stop();
    const stats = latencyStats(samples, opts.percentiles);
    let overhead: BenchResult['overhead'] = null;
    if (opts.overhead) overhead = await measureOverhead(session, frames, opts.frames);
    peakRss = Math.max(peakRss, rssMB());
    // A model given by path has no paper figure: 2 x the graph's conv/FC MACs stands in.
    const flops = model.spec?.flopsPerFrame ?? 2 * graphMacs(model.graph);
    return {
      model: modelInfo(model),
      backend: backend.name,
      status: 'ok',
      runtime: { backend: backend.name, ...session.runtime, threads: session.threads },
      input: opts.input,
      loadMs,
      firstInferenceMs,
      warmupFrames: opts.warmup,
      samplesMs: samples,
      repeatP50Ms,
      stats,
      fps: 1000 / stats.mean,
      realtimeFactor: FRAME_BUDGET_MS / stats.p50,
      gflopsPerSecond: flops / (stats.p50 / 1000) / 1e9,
      peakRssMB: peakRss,
      overhead,
      warnings: measurementWarnings(stats, repeatP50Ms, overhead),
    };
  } finally {
    session.dispose();
  }
}

/** Samples below which the tail percentiles are mostly interpolation (MLPerf-style minimum). */
export const MIN_RELIABLE_SAMPLES = 100;

/** Like hyperfine's outlier warnings: tell the reader when a number should not be trusted as is. */
export function measurementWarnings(stats: LatencyStats, repeatP50Ms: number[], overhead: BenchResult['overhead']): string[] {
  const w: string[] = [];
  if (stats.count < MIN_RELIABLE_SAMPLES) w.push(`only ${stats.count} samples: p95/p99 are unreliable below ${MIN_RELIABLE_SAMPLES}`);
  if (repeatP50Ms.length > 1) {
    const spread = Math.max(...repeatP50Ms) / Math.min(...repeatP50Ms) - 1;
    if (spread > 0.05) w.push(`repeat p50s differ by ${(spread * 100).toFixed(0)}%: the machine was not steady`);
  }
  const p99 = stats.percentiles.p99;
  if (p99 !== undefined && p99 > 2 * stats.p50) w.push(`long tail: p99 is ${(p99 / stats.p50).toFixed(1)}x p50`);
  if (overhead && overhead.ratio > 1.02) w.push(`harness overhead ${overhead.ratio.toFixed(3)} is above 1.02`);
  return w;
}

/**
 * Harness overhead: step() against the backend's bare runtime loop on the same
 * frames, in alternating blocks. Each block pair gives a ratio of p50s and the
 * overhead is their median, so a burst of load on a shared machine that hits
 * one block does not decide the figure.
 */
async function measureOverhead(session: Session, frames: Float32Array[], total: number): Promise<NonNullable<BenchResult['overhead']>> {
  const block = Math.max(10, Math.floor(total / 12));
  const bare: number[] = [];
  const ratios: number[] = [];
  for (let done = 0; done < total; done += block) {
    const bareBlock = await session.bareLoop(frames, block);
    const stepped: number[] = [];
    let state = session.initialState();
    for (let i = 0; i < block; i++) {
      const ts = now();
      const out = await session.step(frames[i % frames.length]!, state);
      stepped.push(msSince(ts));
      state = out.state;
    }
    session.release(state);
    bare.push(...bareBlock);
    ratios.push(latencyStats(stepped, []).p50 / latencyStats(bareBlock, []).p50);
  }
  return { bareP50Ms: latencyStats(bare, []).p50, ratio: latencyStats(ratios, []).p50 };
}

export interface BenchOutcome {
  results: BenchResult[];
  skipped: Skipped[];
  /** Some requested model was missing (skippable with --skip-missing). */
  missing: boolean;
  /** Some model was corrupt or some run failed. */
  failed: boolean;
}

/** Every (model, backend) pair: unavailable models and failed runs become report entries, not crashes. */
export async function runBench(modelRefs: string[], backendNames: string[], opts: BenchOptions): Promise<BenchOutcome> {
  const req = resolveRequested(modelRefs, backendNames, opts.threads);
  const out: BenchOutcome = { results: [], skipped: req.skipped, missing: req.missing, failed: req.corrupt };
  const { models, backends } = req;
  const framesBySize = new Map<number, Float32Array[]>();
  for (const model of models) {
    const size = model.signature.height;
    if (!framesBySize.has(size)) framesBySize.set(size, await benchFrames(opts.input, size, opts.warmup + opts.frames));
    for (const backend of backends) {
      try {
        out.results.push(await benchOne(model, backend, framesBySize.get(size)!, opts));
      } catch (e) {
        opts.progress.stop();
        out.failed = true;
        out.skipped.push({ model: model.id, backend: backend.name, status: 'failed', reason: errorMessage(e) });
      }
    }
  }
  return out;
}
