import type { Session } from '../backends/backend.js';
import { checkThreads, getBackend } from '../backends/index.js';
import { clipName, type Dataset } from '../accuracy/dataset.js';
import { argmax, softmax } from '../accuracy/probabilities.js';
import type { ResolvedModel } from '../models/resolve.js';
import { modelInfo } from '../report/environment.js';
import type { ParityPair } from '../report/schema.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { decodeFrames } from '../video/decode.js';
import type { ResizeMode } from '../video/ffmpeg.js';
import { checkVideoFile } from '../video/probe.js';

export interface ParityOptions {
  resize: ResizeMode;
  fps: number;
  threads: number;
  progress: Progress;
}

interface ClipLogits {
  file: string;
  /** Logits after every frame, per backend. */
  byBackend: Float32Array[][];
  error?: string;
}

/** Steps every session on each decoded frame in turn, so a clip is never held whole: only logits are kept. */
async function streamLockstep(sessions: Session[], file: string, model: ResolvedModel, opts: ParityOptions): Promise<Float32Array[][]> {
  checkVideoFile(file);
  const byBackend: Float32Array[][] = sessions.map(() => []);
  const states = sessions.map((s) => s.initialState());
  const stream = decodeFrames(file, { size: model.signature.height, fps: opts.fps, resize: opts.resize });
  try {
    for await (const frame of stream) {
      for (const [k, session] of sessions.entries()) {
        const r = await session.step(frame, states[k]!);
        states[k] = r.state;
        byBackend[k]!.push(r.logits);
      }
    }
  } finally {
    sessions.forEach((s, k) => s.release(states[k]!));
    await stream.close();
  }
  if (byBackend[0]!.length === 0) throw new UserError(`video ${file} is too short: it gives no frame at ${opts.fps} fps`);
  return byBackend;
}

/**
 * Runs every backend on the same decoded frames of every clip, each from zero
 * state with its own states carried, and compares each backend with the first
 * one frame by frame: max |logit difference|, max |probability difference|,
 * top-1 agreement, and whether each clip's final top-1 matches.
 */
export async function runParity(model: ResolvedModel, backendNames: string[], ds: Dataset, opts: ParityOptions): Promise<ParityPair[]> {
  if (backendNames.length < 2) throw new UserError('parity needs at least two backends');
  const backends = backendNames.map(getBackend);
  for (const b of backends) checkThreads(b, opts.threads);
  const sessions: Session[] = [];
  try {
    for (const b of backends) sessions.push(await b.load(model, { threads: opts.threads }));
    const clips: ClipLogits[] = [];
    opts.progress.start(ds.clips.length, `parity ${model.id}`);
    for (const [k, clip] of ds.clips.entries()) {
      const file = clipName(ds, clip);
      try {
        clips.push({ file, byBackend: await streamLockstep(sessions, clip.file, model, opts) });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        clips.push({ file, byBackend: [], error: e.message });
      }
      opts.progress.update(k + 1);
    }
    opts.progress.stop();
    return backends.slice(1).map((b, i) => comparePair(model, backends[0]!.name, b.name, clips, 0, i + 1));
  } finally {
    opts.progress.stop();
    for (const s of sessions) s.dispose();
  }
}

function comparePair(model: ResolvedModel, reference: string, backend: string, clips: ClipLogits[], ri: number, bi: number): ParityPair {
  let frames = 0;
  let agree = 0;
  let maxLogit = 0;
  let maxProb = 0;
  const perClip = clips.map((c) => {
    if (c.error) return { file: c.file, frames: 0, maxAbsLogitDiff: 0, maxAbsProbDiff: 0, frameTop1Agreement: 0, finalTop1: [-1, -1] as [number, number], match: false, error: c.error };
    const a = c.byBackend[ri]!;
    const b = c.byBackend[bi]!;
    let clipLogit = 0;
    let clipProb = 0;
    let clipAgree = 0;
    for (let f = 0; f < a.length; f++) {
      const [la, lb] = [a[f]!, b[f]!];
      const [pa, pb] = [softmax(la), softmax(lb)];
      for (let k = 0; k < la.length; k++) {
        clipLogit = Math.max(clipLogit, Math.abs(la[k]! - lb[k]!));
        clipProb = Math.max(clipProb, Math.abs(pa[k]! - pb[k]!));
      }
      if (argmax(la) === argmax(lb)) clipAgree++;
    }
    frames += a.length;
    agree += clipAgree;
    maxLogit = Math.max(maxLogit, clipLogit);
    maxProb = Math.max(maxProb, clipProb);
    const finalTop1: [number, number] = [argmax(a.at(-1)!), argmax(b.at(-1)!)];
    return { file: c.file, frames: a.length, maxAbsLogitDiff: clipLogit, maxAbsProbDiff: clipProb, frameTop1Agreement: clipAgree / a.length, finalTop1, match: finalTop1[0] === finalTop1[1] };
  });
  return {
    model: modelInfo(model),
    reference,
    backend,
    clips: perClip,
    frames,
    frameTop1Agreement: frames ? agree / frames : 0,
    clipsMatching: perClip.filter((c) => c.match).length,
    maxAbsLogitDiff: maxLogit,
    maxAbsProbDiff: maxProb,
  };
}
