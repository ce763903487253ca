import type { Backend } from '../backends/backend.js';
import type { AccuracyRun, ClipResult, ResizeMode } from '../core/results.js';
import { clipName, labelIndices, type Dataset } from '../datasets/dataset.js';
import { completeRun, timeToCorrect } from '../metrics/accuracy.js';
import { softmax, topK } from '../metrics/probabilities.js';
import { modelInfo } from '../models/info.js';
import { className, type ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { openClip, runClip } from './clip.js';

export interface AccuracyOptions {
  resize: ResizeMode;
  fps: number;
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
  progress: Progress;
}

const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** How many clips decode ahead on the other core; RESULTS.md has the measurements behind the choice. */
const PREFETCH_CLIPS = 1;

function errorClip(base: Pick<ClipResult, 'file' | 'label' | 'labelIndex'>, error: string): ClipResult {
  return {
    ...base,
    status: 'error',
    error,
    frames: 0,
    top5: [],
    correct1: false,
    correct5: false,
    timeToCorrectS: null,
    top1ByFrame: [],
    stepMs: [],
    decodeWaitMs: 0,
  };
}

/** One model on one backend over every clip; a clip that fails becomes an error entry and the run goes on. */
export async function evaluate(
  model: ResolvedModel,
  backend: Backend,
  ds: Dataset,
  opts: AccuracyOptions,
): Promise<AccuracyRun> {
  if (!model.labels) throw new UserError(`model ${model.id} has no label file; pass --labels`);
  const labels = model.labels;
  const indices = labelIndices(ds, labels);
  const session = await backend.load(model, { threads: opts.threads, cache: opts.cache });
  const clips: ClipResult[] = [];
  const t0 = process.hrtime.bigint();
  opts.progress.start(ds.clips.length, `${model.id} ${backend.name}`);
  try {
    // The next PREFETCH_CLIPS clips decode on the other core while this one runs.
    const open = (i: number) => {
      const clip = ds.clips[i];
      return clip ? openClip(model, clip.file, opts) : undefined;
    };
    const ahead = Array.from({ length: PREFETCH_CLIPS }, (_, k) => open(k));
    for (const [i, clip] of ds.clips.entries()) {
      const opened = ahead.shift()!;
      ahead.push(open(i + PREFETCH_CLIPS));
      const labelIndex = indices[i]!;
      const base = { file: clipName(ds, clip), label: labels[labelIndex]!, labelIndex };
      try {
        const run = await runClip(session, model, opened, { resize: opts.resize, fps: opts.fps });
        const probs = softmax(run.logits);
        const top5 = topK(probs, 5).map((k) => ({ index: k, label: className(model, k), prob: probs[k]! }));
        clips.push({
          ...base,
          status: 'ok',
          frames: run.frames,
          top5,
          correct1: top5[0]?.index === labelIndex,
          correct5: top5.some((p) => p.index === labelIndex),
          timeToCorrectS: timeToCorrect(run.top1ByFrame, labelIndex, opts.fps),
          top1ByFrame: run.top1ByFrame,
          stepMs: run.stepMs,
          decodeWaitMs: run.decodeWaitMs,
        });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        clips.push(errorClip(base, e.message));
      }
      opts.progress.update(i + 1);
    }
    for (const c of ahead) await c?.stream?.close();
  } finally {
    opts.progress.stop();
    session.dispose();
  }
  const runtime = { backend: backend.name, ...session.runtime, threads: session.threads };
  return completeRun(modelInfo(model), backend.name, runtime, clips, msSince(t0));
}
