import type { Backend } from '../backends/backend.js';
import { className, type ResolvedModel } from '../models/resolve.js';
import { resolveRequested } from '../models/requested.js';
import { modelInfo } from '../report/environment.js';
import type { AccuracyRun, ClipResult, Skipped } from '../report/schema.js';
import { errorMessage, UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import type { ResizeMode } from '../video/ffmpeg.js';
import { openClip, runClip } from './clip.js';
import { clipName, labelIndices, type Dataset } from './dataset.js';
import { runLatency, summarize, timeToCorrect } from './metrics.js';
import { softmax, topK } from './probabilities.js';

export interface AccuracyOptions {
  resize: ResizeMode;
  fps: number;
  threads: number;
  progress: Progress;
}

const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/**
 * On two cores decoding, not inference, bounds an accuracy run. Measured on the sample (tfjs-tflite):
 * one clip ahead gave 9.2 s wall / 6.2 s inference / 2.9 s waiting; two ahead 9.1 / 6.8 / 2.2; three
 * 11.4 / 9.0 / 2.1 — more decoders steal the inference core without shortening the run.
 */
const PREFETCH_CLIPS = 1;

/** One model on one backend over every clip; a clip that fails becomes an error entry and the run goes on. */
export async function evaluate(model: ResolvedModel, backend: Backend, ds: Dataset, opts: AccuracyOptions): Promise<AccuracyRun> {
  if (!model.labels) throw new UserError(`model ${model.id} has no label file; pass --labels`);
  const indices = labelIndices(ds, model.labels);
  const session = await backend.load(model, { threads: opts.threads });
  const clips: ClipResult[] = [];
  const t0 = process.hrtime.bigint();
  opts.progress.start(ds.clips.length, `${model.id} ${backend.name}`);
  try {
    // The next PREFETCH_CLIPS clips decode on the other core while this one runs.
    const open = (i: number) => (i < ds.clips.length ? openClip(model, ds.clips[i]!.file, opts) : undefined);
    const ahead = Array.from({ length: PREFETCH_CLIPS }, (_, k) => open(k));
    for (const [i, clip] of ds.clips.entries()) {
      const opened = ahead.shift()!;
      ahead.push(open(i + PREFETCH_CLIPS));
      const labelIndex = indices[i]!;
      const base = { file: clipName(ds, clip), label: model.labels[labelIndex]!, labelIndex };
      try {
        const run = await runClip(session, model, opened, { resize: opts.resize, fps: opts.fps });
        const probs = softmax(run.logits);
        const top5 = topK(probs, 5).map((k) => ({ index: k, label: className(model, k), prob: probs[k]! }));
        clips.push({
          ...base,
          status: 'ok',
          frames: run.frames,
          top5,
          correct1: top5[0]!.index === labelIndex,
          correct5: top5.some((p) => p.index === labelIndex),
          timeToCorrectS: timeToCorrect(run.top1ByFrame, labelIndex, opts.fps),
          top1ByFrame: run.top1ByFrame,
          stepMs: run.stepMs,
          decodeWaitMs: run.decodeWaitMs,
        });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        clips.push({ ...base, status: 'error', error: e.message, frames: 0, top5: [], correct1: false, correct5: false, timeToCorrectS: null, top1ByFrame: [], stepMs: [], decodeWaitMs: 0 });
      }
      opts.progress.update(i + 1);
    }
    for (const c of ahead) await c?.stream?.close();
  } finally {
    opts.progress.stop();
    session.dispose();
  }
  return finishRun(modelInfo(model), backend.name, { backend: backend.name, ...session.runtime, threads: session.threads }, clips, msSince(t0));
}

export function finishRun(model: AccuracyRun['model'], backend: string, runtime: AccuracyRun['runtime'], clips: ClipResult[], wallMs: number): AccuracyRun {
  return {
    model,
    backend,
    runtime,
    clips,
    summary: summarize(clips),
    latency: runLatency(clips),
    wallMs,
    inferenceMs: clips.reduce((a, c) => a + c.stepMs.reduce((x, y) => x + y, 0), 0),
    decodeWaitMs: clips.reduce((a, c) => a + c.decodeWaitMs, 0),
  };
}

export interface AccuracyOutcome {
  runs: AccuracyRun[];
  skipped: Skipped[];
  missing: boolean;
  failed: boolean;
}

export async function runAccuracy(modelRefs: string[], backendNames: string[], ds: Dataset, opts: AccuracyOptions, labelsFile?: string): Promise<AccuracyOutcome> {
  const req = resolveRequested(modelRefs, backendNames, opts.threads, { labelsFile }, (m) => {
    if (!m.labels) throw new UserError(`model ${m.id} has no label file; pass --labels`);
    labelIndices(ds, m.labels);
  });
  const out: AccuracyOutcome = { runs: [], skipped: req.skipped, missing: req.missing, failed: req.corrupt };
  const { models, backends } = req;
  for (const model of models) {
    for (const backend of backends) {
      try {
        out.runs.push(await evaluate(model, backend, ds, opts));
      } catch (e) {
        out.failed = true;
        out.skipped.push({ model: model.id, backend: backend.name, status: 'failed', reason: errorMessage(e) });
      }
    }
  }
  return out;
}
