import fs from 'node:fs';
import path from 'node:path';
import type { ResizeMode } from '../core/results.js';
import { liveOne } from '../live/pair.js';
import type { LivePolicy, LiveResult, ScheduleKind } from '../live/result.js';
import type { Failed, Skipped } from '../core/results.js';
import { validateReport, type LiveConfig, type LiveReport } from '../report/schema.js';
import { UserError } from '../util/errors.js';
import { dataDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { probeVideo } from '../video/probe.js';
import { getBackend } from '../backends/index.js';
import { batchedLoader } from '../backends/batching.js';
import { SCHEDULE_FLAG } from '../live/batched-states.js';
import { capacityResult, type CapacityOptions } from '../live/capacity.js';
import type { StatePlacement } from '../live/stream-states.js';
import type { Phase } from '../live/streams.js';
import type { ResolvedModel } from '../models/resolve.js';
import { decodeFrames } from '../video/decode.js';
import { decoderCpuPerSecond } from '../video/ffmpeg.js';
import { collect } from '../video/frames.js';
import { loadRequestedDataset } from './accuracy.js';
import { reportHeader } from './environment.js';
import { runPairs } from './plan.js';
import { resolveRequested } from './requested.js';

export interface LiveRequest {
  models: string[];
  backends: string[];
  input: string;
  /** Delivery rate; 'auto' sweeps it; undefined: each model's own fps. */
  fps?: number | 'auto';
  /** Wall seconds per run; undefined: the clip once (a minute with loop or a camera). */
  durationS?: number;
  policy: LivePolicy;
  loop: boolean;
  runs: number;
  warmup: number;
  threads: number;
  resize: ResizeMode;
  labels?: string;
  cache?: boolean;
  /** `--streams`: N paced streams in one process, or the largest N that keeps up ('auto'). */
  streams?: number | 'auto';
  phase?: Phase;
  state?: StatePlacement | 'auto';
  /** With `streams`: one waiting frame per call (default), or every stream with a frame waiting in one call. */
  schedule?: ScheduleKind;
  /** With the batched schedule: the most streams one call steps (default: all of them). */
  maxBatch?: number;
  /** Aborting stops the run in progress (its source and decoder) and skips the rest; the report says so. */
  signal: AbortSignal;
  progress: Progress;
  log: (line: string) => void;
}

/** A V4L2 capture device: ffmpeg's probe picks its v4l2 input for these paths. */
export const isCamera = (input: string): boolean => /^\/dev\/video\d+$/.test(input);

/**
 * A relative path that is not there from the working directory is looked up
 * in the data directory, so a suite can name a sample clip wherever it runs.
 */
export function resolveInput(input: string): string {
  if (isCamera(input) || path.isAbsolute(input) || fs.existsSync(input)) return input;
  const inData = path.join(dataDir(), input);
  return fs.existsSync(inData) ? inData : input;
}

/** What the camera refusal of --fps adds for --fps auto. */
function cameraFpsTail(fps: number | 'auto'): string {
  return fps === 'auto' ? ' and cannot be played faster' : '';
}

/** Refuses what a source cannot do before any model is loaded; returns the clip's length (null for a camera). */
function checkInput(req: LiveRequest, input: string): number | null {
  if (req.fps === 'auto' && (req.durationS !== undefined || req.loop))
    throw new UserError(
      '--duration and --loop do not apply to --fps auto: each trial of the sweep sets its own length',
    );
  if (!isCamera(input)) {
    const info = probeVideo(input);
    return info.durationS > 0 ? info.durationS : null;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch {
    throw new UserError(`no camera at ${input}: the device does not exist`);
  }
  if (!st.isCharacterDevice()) throw new UserError(`${input} is not a camera (not a character device)`);
  if (req.fps !== undefined)
    throw new UserError(
      `--fps does not apply to a camera: it delivers frames at its own rate${cameraFpsTail(req.fps)}`,
    );
  if (req.loop) throw new UserError('--loop does not apply to a camera');
  return null;
}

/** The validated report of a live command: its config as asked, and every pair's result or entry. */
function liveEnvelope(
  req: LiveRequest,
  header: ReturnType<typeof reportHeader>,
  outcome: { results: (LiveResult | null)[]; failed: Failed[]; skipped: Skipped[] },
  more: Pick<LiveConfig, 'streams' | 'phase'>,
): LiveReport {
  return validateReport({
    ...header,
    kind: 'live',
    config: {
      models: req.models,
      backends: req.backends,
      threads: req.threads,
      input: req.input,
      fps: req.fps ?? null,
      policy: req.policy,
      durationS: req.durationS ?? null,
      loop: req.loop,
      runs: req.runs,
      warmup: req.warmup,
      resize: req.resize,
      ...more,
    },
    results: outcome.results.filter((r): r is LiveResult => r !== null),
    skipped: outcome.skipped,
    failed: outcome.failed,
    interrupted: req.signal.aborted,
  }) as LiveReport;
}

/**
 * The schedule asked for, refused in one line before anything is decoded or loaded where it cannot run: batching
 * belongs to --streams, and to backends whose facts say they can batch.
 */
function scheduleOf(req: LiveRequest): CapacityOptions['schedule'] {
  const batched = req.schedule === 'batched';
  if (req.maxBatch !== undefined) {
    if (!Number.isInteger(req.maxBatch) || req.maxBatch < 1)
      throw new UserError(`--max-batch must be a whole number of streams, 1 or more; got ${req.maxBatch}`);
    if (!batched) throw new UserError('--max-batch applies to --schedule batched: sequential calls step one stream');
  }
  if (!batched) return { kind: 'sequential' };
  if (req.streams === undefined)
    throw new UserError(`${SCHEDULE_FLAG} steps several streams in one call: it needs --streams`);
  if (req.state !== undefined && req.state !== 'auto')
    throw new UserError(
      `--state ${req.state} does not apply to ${SCHEDULE_FLAG}: each stream's states are a slot of the batched session`,
    );
  for (const name of req.backends) batchedLoader(getBackend(name), SCHEDULE_FLAG);
  return { kind: 'batched', maxBatch: req.maxBatch ?? null };
}

/** Frames of all clips held for a multi-stream run; each clip gets its share, looped by its streams. */
const MAX_STREAM_FRAMES = 600;

/** The clips N streams play: several files (comma-separated) or a dataset; never a camera. */
async function streamClips(req: LiveRequest): Promise<string[]> {
  if (isCamera(req.input))
    throw new UserError('--streams runs several streams from decoded clips: a camera is one stream (drop --streams)');
  const files = req.input.split(',').map((f) => resolveInput(f.trim()));
  if (files.length > 1 || fs.existsSync(files[0]!)) {
    for (const f of files) if (!fs.existsSync(f)) throw new UserError(`--input ${f} does not exist`);
    return files;
  }
  const { ds } = await loadRequestedDataset({ dataset: req.input });
  return ds.clips.map((c) => c.file);
}

/** `live --streams`: each pair's capacity; the clips are decoded once per resolution, before any step. */
async function streamsReport(
  req: LiveRequest,
  streams: number | 'auto',
  schedule: CapacityOptions['schedule'],
): Promise<LiveReport> {
  if (req.fps === 'auto')
    throw new UserError("--fps auto finds one stream's rate; --streams counts streams at one rate: use one of them");
  const files = await streamClips(req);
  const { models, backends, skipped } = await resolveRequested(req.models, req.backends, req.threads, {
    labelsFile: req.labels,
  });
  const header = reportHeader();
  const decoded = new Map<string, { clips: Float32Array[][]; decoderCpu: number }>();
  const clipsFor = async (model: ResolvedModel) => {
    const key = `${model.signature.height}@${model.fps}`;
    const known = decoded.get(key);
    if (known) return known;
    const spec = { size: model.signature.height, fps: model.fps, resize: req.resize };
    const each = Math.max(10, Math.floor(MAX_STREAM_FRAMES / files.length));
    const clips = await Promise.all(files.map((f) => collect(decodeFrames(f, { ...spec, maxFrames: each }))));
    const empty = files.find((_, i) => clips[i]!.length === 0);
    if (empty) throw new UserError(`video ${empty} gives no frame at ${model.fps} fps`);
    const seconds = probeVideo(files[0]!).durationS;
    const entry = { clips, decoderCpu: decoderCpuPerSecond(files[0]!, spec, seconds) };
    decoded.set(key, entry);
    return entry;
  };
  const outcome = await runPairs(models, backends, req.progress, async (model, backend) => {
    if (req.signal.aborted) return null;
    const { clips, decoderCpu } = await clipsFor(model);
    return capacityResult(backend, model, {
      streams,
      fps: typeof req.fps === 'number' ? req.fps : model.fps,
      phase: req.phase ?? 'spread',
      policy: req.policy,
      placement: req.state ?? 'auto',
      schedule,
      durationMs: (req.durationS ?? DEFAULT_STEP_S) * 1000,
      runs: streams === 'auto' ? CONFIRM_RUNS : req.runs,
      clips,
      decoderCpuPerSecond: decoderCpu,
      load: { threads: req.threads, cache: req.cache },
      warmup: req.warmup,
      signal: req.signal,
      log: req.log,
    });
  });
  return liveEnvelope(req, header, { ...outcome, skipped }, { streams, phase: req.phase ?? 'spread' });
}

/** A step of --streams lasts at least this long by default (and until it has the frames a p99 claim needs). */
const DEFAULT_STEP_S = 10;
/** Runs that confirm the N `--streams auto` found, as LoadGen's peak finding confirms its answer. */
const CONFIRM_RUNS = 5;

/** Every requested (model, backend) pair streamed live; unavailable models and failed pairs become entries. */
export async function liveReport(req: LiveRequest): Promise<LiveReport> {
  const schedule = scheduleOf(req);
  if (req.streams !== undefined) return streamsReport(req, req.streams, schedule);
  const input = resolveInput(req.input);
  const clipS = checkInput(req, input);
  const { models, backends, skipped } = await resolveRequested(req.models, req.backends, req.threads, {
    labelsFile: req.labels,
  });
  const header = reportHeader();
  const outcome = await runPairs(models, backends, req.progress, (model, backend) =>
    req.signal.aborted
      ? Promise.resolve(null)
      : liveOne(model, backend, {
          input,
          source: isCamera(req.input) ? 'camera' : 'file',
          policy: req.policy,
          fps: req.fps ?? null,
          durationS: req.durationS ?? null,
          loop: req.loop,
          runs: req.runs,
          warmup: req.warmup,
          threads: req.threads,
          cache: req.cache,
          resize: req.resize,
          clipS,
          signal: req.signal,
          progress: req.progress,
          log: req.log,
        }),
  );
  return liveEnvelope(req, header, { ...outcome, skipped }, {});
}
