import { runClip } from '../accuracy/clip.js';
import { checkThreads, getBackend } from '../backends/index.js';
import type { Prediction, ResizeMode } from '../core/results.js';
import { softmax, topK } from '../metrics/probabilities.js';
import { ensureModels } from '../models/fetch.js';
import { className, refuseArchitectureOnly, resolveModel, type ResolvedModel } from '../models/resolve.js';
import { probeVideo, type VideoInfo } from '../video/probe.js';

export interface ClassifyRequest {
  video: string;
  model: string;
  backend: string;
  top: number;
  /** Seconds of video between timeline entries; 0 for none. */
  every: number;
  resize: ResizeMode;
  labels?: string;
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
}

export interface Classification {
  video: VideoInfo;
  model: string;
  backend: string;
  fps: number;
  frames: number;
  top: Prediction[];
  timeline: { t: number; top: Prediction[] }[];
}

function describe(model: ResolvedModel, logits: Float32Array, k: number): Prediction[] {
  const probs = softmax(logits);
  return topK(probs, k).map((i) => ({ index: i, label: className(model, i), prob: probs[i]! }));
}

/** Streams one video through one model and returns its top-k, and over time with `every`. */
export async function classifyVideo(req: ClassifyRequest): Promise<Classification> {
  await ensureModels([req.model]);
  const model = resolveModel(req.model, { labelsFile: req.labels });
  refuseArchitectureOnly(model, 'classify');
  const backend = getBackend(req.backend);
  checkThreads(backend, req.threads);
  const video = probeVideo(req.video);
  const session = await backend.load(model, { threads: req.threads, cache: req.cache });
  const timeline: Classification['timeline'] = [];
  const framesPerTick = req.every ? Math.max(1, Math.round(req.every * model.fps)) : 0;
  try {
    const run = await runClip(session, model, req.video, {
      resize: req.resize,
      fps: model.fps,
      onFrame: (i, logits) => {
        if (framesPerTick && (i + 1) % framesPerTick === 0)
          timeline.push({ t: (i + 1) / model.fps, top: describe(model, logits, Math.min(3, req.top)) });
      },
    });
    return {
      video,
      model: model.id,
      backend: backend.name,
      fps: model.fps,
      frames: run.frames,
      top: describe(model, run.logits, req.top),
      timeline,
    };
  } finally {
    session.dispose();
  }
}
