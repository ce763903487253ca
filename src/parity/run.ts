import type { Backend, Session } from '../backends/backend.js';
import type { Failed, ParityPair, ResizeMode } from '../core/results.js';
import { clipName, type Dataset } from '../datasets/dataset.js';
import { compareBackends, type ClipLogits } from '../metrics/parity.js';
import { modelInfo } from '../models/info.js';
import type { ResolvedModel } from '../models/resolve.js';
import { StreamStepper } from '../stream/stream.js';
import { errorMessage, UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { decodeFrames, type DecodeOptions } from '../video/decode.js';
import type { FrameCacheOptions } from '../video/frame-cache.js';
import { collect } from '../video/frames.js';
import { locateClip } from './locate.js';
import { readRecorded, recordLogits, thisPlatform, type Recorded } from './recorded.js';
import { checkVideoFile } from '../video/probe.js';

export interface ParityOptions {
  resize: ResizeMode;
  fps: number;
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
  /** For each clip where a backend's logits differ from the reference's: where they part (parity --locate). */
  locate?: boolean;
  /** Decoded clips read from and kept in this cache (--frame-cache). */
  frameCache?: FrameCacheOptions;
  /** Keep every backend's logits in this folder, for another machine's run to compare with (--logits-out). */
  logitsOut?: string;
  /** Also compare each backend with its own logits kept there by another run (--against). */
  against?: string;
  progress: Progress;
}

export function decodeOptions(model: ResolvedModel, opts: ParityOptions): DecodeOptions {
  const spec = { size: model.signature.height, fps: opts.fps, resize: opts.resize };
  return opts.frameCache ? { ...spec, frameCache: opts.frameCache } : spec;
}

/** Steps every session on each decoded frame in turn, so a clip is never held whole: only logits are kept. */
async function streamLockstep(
  sessions: Session[],
  file: string,
  model: ResolvedModel,
  opts: ParityOptions,
): Promise<Float32Array[][]> {
  checkVideoFile(file);
  const byBackend: Float32Array[][] = sessions.map(() => []);
  const steppers = sessions.map((s) => new StreamStepper(s));
  const stream = decodeFrames(file, decodeOptions(model, opts));
  try {
    for await (const frame of stream) {
      for (const [k, stepper] of steppers.entries()) byBackend[k]!.push((await stepper.step(frame)).logits);
    }
  } finally {
    for (const s of steppers) s.close();
    await stream.close();
  }
  if (byBackend[0]!.length === 0)
    throw new UserError(`video ${file} is too short: it gives no frame at ${opts.fps} fps`);
  return byBackend;
}

/**
 * Re-streams each clip where some backend's logits differ (decoded once for
 * all backends) to say where each parts from the reference.
 */
async function locateAll(
  model: ResolvedModel,
  loaded: { backend: Backend; session: Session }[],
  pairs: ParityPair[],
  ds: Dataset,
  opts: ParityOptions,
): Promise<void> {
  const reference = loaded[0]!;
  for (const [k, clip] of ds.clips.entries()) {
    const differing = pairs.flatMap((p, i) => {
      const c = p.clips[k];
      return c && !c.error && c.maxAbsLogitDiff > 0 ? [{ c, other: loaded[i + 1]! }] : [];
    });
    if (differing.length === 0) continue;
    const frames = await collect(decodeFrames(clip.file, decodeOptions(model, opts)));
    for (const { c, other } of differing)
      c.locate = await locateClip(
        model,
        { name: reference.backend.name, session: reference.session },
        { name: other.backend.name, session: other.session },
        frames,
      );
  }
}

/** Each backend of this run against its own logits from another run (another platform): `name@there` vs `name@here`. */
function againstRecorded(
  kept: Recorded,
  dir: string,
  model: ResolvedModel,
  names: readonly string[],
  clips: readonly ClipLogits[],
): ParityPair[] {
  const here = thisPlatform();
  const pairs = names.flatMap((name, b) => {
    const theirs = kept.byBackend.get(name);
    if (!theirs) return [];
    const both: ClipLogits[] = clips.map((c, k) => ({ ...c, byBackend: [theirs[k] ?? [], c.byBackend[b] ?? []] }));
    return [compareBackends(modelInfo(model), `${name}@${kept.platform}`, `${name}@${here}`, both, 0, 1)];
  });
  if (pairs.length === 0)
    throw new UserError(`--against ${dir}: none of ${names.join(', ')} was kept there for ${model.id}`);
  return pairs;
}

export interface ParityOutcome {
  pairs: ParityPair[];
  /** Backends that could not be loaded; with the reference among them, no pair is compared. */
  failed: Failed[];
}

/**
 * Runs every backend on the same decoded frames of every clip, each from zero
 * state with its own states carried, and compares each backend with the first.
 */
export async function runParity(
  model: ResolvedModel,
  backends: readonly Backend[],
  ds: Dataset,
  opts: ParityOptions,
): Promise<ParityOutcome> {
  const loaded: { backend: Backend; session: Session }[] = [];
  const failed: Failed[] = [];
  // Checked before any clip is stepped: kept logits that cannot be compared are refused at once.
  const kept = opts.against
    ? readRecorded(
        opts.against,
        model,
        ds.clips.map((c) => clipName(ds, c)),
        opts,
      )
    : null;
  try {
    for (const backend of backends) {
      try {
        loaded.push({ backend, session: await backend.load(model, { threads: opts.threads, cache: opts.cache }) });
      } catch (e) {
        failed.push({ model: model.id, backend: backend.name, error: errorMessage(e) });
      }
    }
    const reference = loaded[0];
    if (!reference || reference.backend !== backends[0] || loaded.length < (opts.against ? 1 : 2)) {
      const missing = new Set(failed.map((f) => f.backend));
      for (const b of backends)
        if (!missing.has(b.name))
          failed.push({
            model: model.id,
            backend: b.name,
            error: `not compared: reference ${backends[0]?.name ?? '?'} or every other backend failed to load`,
          });
      return { pairs: [], failed };
    }
    const sessions = loaded.map((l) => l.session);
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
    const info = modelInfo(model);
    const names = loaded.map((l) => l.backend.name);
    if (opts.logitsOut) recordLogits(opts.logitsOut, model, names, clips, opts);
    const pairs = loaded
      .slice(1)
      .map((l, i) => compareBackends(info, reference.backend.name, l.backend.name, clips, 0, i + 1));
    if (kept && opts.against) pairs.push(...againstRecorded(kept, opts.against, model, names, clips));
    if (opts.locate) await locateAll(model, loaded, pairs, ds, opts);
    return { pairs, failed };
  } finally {
    opts.progress.stop();
    for (const l of loaded) l.session.dispose();
  }
}
