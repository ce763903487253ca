import fs from 'node:fs';
import path from 'node:path';
import type { ResizeMode } from '../core/results.js';
import { liveOne } from '../live/pair.js';
import type { LivePolicy, LiveResult } from '../live/result.js';
import { validateReport, type LiveReport } from '../report/schema.js';
import { UserError } from '../util/errors.js';
import { dataDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { probeVideo } from '../video/probe.js';
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
      `--fps does not apply to a camera: it delivers frames at its own rate${req.fps === 'auto' ? ' and cannot be played faster' : ''}`,
    );
  if (req.loop) throw new UserError('--loop does not apply to a camera');
  return null;
}

/** Every requested (model, backend) pair streamed live; unavailable models and failed pairs become entries. */
export async function liveReport(req: LiveRequest): Promise<LiveReport> {
  const header = reportHeader();
  const input = resolveInput(req.input);
  const clipS = checkInput(req, input);
  const { models, backends, skipped } = await resolveRequested(req.models, req.backends, req.threads, {
    labelsFile: req.labels,
  });
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
    },
    results: outcome.results.filter((r): r is LiveResult => r !== null),
    skipped,
    failed: outcome.failed,
    interrupted: req.signal.aborted,
  }) as LiveReport;
}
