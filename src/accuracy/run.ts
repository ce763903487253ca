import type { Backend, Session } from '../backends/backend.js';
import type { AccuracyRun, ClipResult, Decoding, Failed, ResizeMode } from '../core/results.js';
import { clipName, labelIndices, type Dataset } from '../datasets/dataset.js';
import { completeRun, timeToCorrect } from '../metrics/accuracy.js';
import { softmax, topK } from '../metrics/probabilities.js';
import { modelInfo } from '../models/info.js';
import { className, type ResolvedModel } from '../models/resolve.js';
import { errorMessage, UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import type { Journal } from './journal.js';
import type { FrameCacheOptions } from '../video/frame-cache.js';
import { ClipFeed, openClip, type ClipRun, type OpenedClip } from './clip.js';

export interface AccuracyOptions {
  resize: ResizeMode;
  fps: number;
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
  /** Decoded clips read from and kept in this cache (--frame-cache). */
  frameCache?: FrameCacheOptions;
  /** Per-clip results appended as they finish; clips it already holds are taken from it (--resume). */
  journal?: Journal;
  progress: Progress;
}

/**
 * Clips decoded ahead of the one running. One decoder runs at a time (two
 * would take the inference core: RESULTS.md), and the next clip starts
 * decoding as soon as the previous one is done, so the decoder never idles
 * while a short clip runs.
 */
const CLIPS_AHEAD = 3;
/** Frames a clip may decode ahead of the model: a long clip's decoder waits beyond this. */
export const FRAMES_AHEAD = 128;

/** The dataset's clips, opened one decoder at a time and at most CLIPS_AHEAD ahead. */
export class ClipQueue {
  private readonly opened: OpenedClip[] = [];
  private next = 0;
  /** Whether the last clip opened (taken or not) has finished decoding. */
  private idle = true;

  constructor(
    private readonly files: readonly string[],
    private readonly openOne: (file: string) => OpenedClip,
  ) {
    this.fill();
  }

  private fill(): void {
    if (!this.idle || this.opened.length >= CLIPS_AHEAD || this.next >= this.files.length) return;
    const clip = this.openOne(this.files[this.next++]!);
    this.opened.push(clip);
    this.idle = false;
    void (clip.stream?.finished ?? Promise.resolve()).then(() => {
      this.idle = true;
      this.fill();
    });
  }

  /** The next clip, in dataset order. */
  take(): OpenedClip {
    // Empty only if the model caught up before the last decoder's end was seen: open the next one now.
    if (this.opened.length === 0) this.idle = true;
    this.fill();
    const clip = this.opened.shift();
    if (!clip) throw new Error('no clip left to take');
    this.fill();
    return clip;
  }

  async close(): Promise<void> {
    this.next = this.files.length;
    for (const c of this.opened.splice(0)) await c.stream?.close();
  }
}

export function errorClip(base: Pick<ClipResult, 'file' | 'label' | 'labelIndex'>, error: string): ClipResult {
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

/** Frames a backend steps in one turn before the next backend takes the same frames. */
const TURN_FRAMES = 32;

interface Member {
  backend: Backend;
  session: Session;
  clips: ClipResult[];
}

/** What the joint and the batched run need of a session, single-stream or batched. */
type AnySession = Pick<Session, 'threads' | 'runtime' | 'dispose'>;

/**
 * Every backend's session, loaded while the queue decodes ahead. A backend that fails to load becomes a failed
 * entry and the others go on; anything else thrown (a journal of another runtime) ends the run, so the decoders
 * and the sessions loaded are closed first.
 */
export async function loadMembers<S extends AnySession>(
  model: ResolvedModel,
  backends: readonly Backend[],
  load: (backend: Backend, k: number) => Promise<S>,
  queue: ClipQueue,
  failed: Failed[],
  journal: Journal | undefined,
): Promise<{ backend: Backend; session: S }[]> {
  const loaded: { backend: Backend; session: S }[] = [];
  try {
    for (const [k, backend] of backends.entries()) {
      try {
        loaded.push({ backend, session: await load(backend, k) });
      } catch (e) {
        failed.push({ model: model.id, backend: backend.name, error: errorMessage(e) });
      }
    }
    for (const m of loaded) journal?.checkRuntime(model, m.backend.name, m.session.runtime);
  } catch (e) {
    await queue.close();
    for (const m of loaded) m.session.dispose();
    throw e;
  }
  return loaded;
}

/** A member that fails mid-run: a failed entry, out of the members, its session released; the others go on. */
export function dropper<M extends { backend: Backend; session: AnySession }>(
  model: ResolvedModel,
  members: M[],
  failed: Failed[],
): (m: M, e: unknown) => void {
  return (m, e) => {
    failed.push({ model: model.id, backend: m.backend.name, error: errorMessage(e) });
    members.splice(members.indexOf(m), 1);
    m.session.dispose();
  };
}

/** Each member's run over every clip, and what decoding cost them all. */
export function togetherResult(
  model: ResolvedModel,
  ds: Dataset,
  members: readonly { backend: Backend; session: AnySession; clips: ClipResult[] }[],
  failed: Failed[],
  timing: { wallMs: number; fromCache: number; decodeWaitMs: number },
): { runs: AccuracyRun[]; failed: Failed[]; decoding: Decoding } {
  const runs = members.map((m) => {
    const runtime = { backend: m.backend.name, ...m.session.runtime, threads: m.session.threads };
    return completeRun(modelInfo(model), m.backend.name, runtime, m.clips, timing.wallMs);
  });
  return {
    runs,
    failed,
    decoding: {
      model: model.id,
      backends: runs.map((r) => r.backend),
      clips: ds.clips.length,
      fromCache: timing.fromCache,
      wallMs: timing.wallMs,
      inferenceMs: runs.reduce((a, r) => a + r.inferenceMs, 0),
      decodeWaitMs: timing.decodeWaitMs,
    },
  };
}

/**
 * One model on several backends over every clip, each clip decoded once: the
 * backends take turns on the same frames (TURN_FRAMES at a time, each with its
 * own states), one backend at a time, while the next clip decodes on the other
 * core. A clip that fails to decode becomes an error entry for every backend;
 * a backend that fails (to load, or mid-run) becomes a failed entry and the
 * others go on.
 */
export async function evaluateTogether(
  model: ResolvedModel,
  backends: readonly Backend[],
  ds: Dataset,
  opts: AccuracyOptions,
): Promise<{ runs: AccuracyRun[]; failed: Failed[]; decoding: Decoding | null }> {
  if (!model.labels) throw new UserError(`model ${model.id} has no label file; pass --labels`);
  const labels = model.labels;
  const indices = labelIndices(ds, labels);
  const failed: Failed[] = [];
  // Clips a resumed run already has for every backend are neither decoded nor run again.
  const names = backends.map((b) => b.name);
  const journaled = ds.clips.map((c) => opts.journal?.done(model, clipName(ds, c), names) ?? null);
  // Decoding starts while the models load.
  const queue = new ClipQueue(
    ds.clips.filter((_, i) => !journaled[i]).map((c) => c.file),
    (file) => openClip(model, file, { ...opts, maxAhead: FRAMES_AHEAD }),
  );
  const closeAhead = () => queue.close();
  const load = (b: Backend) => b.load(model, { threads: opts.threads, cache: opts.cache });
  const loaded = await loadMembers(model, backends, load, queue, failed, opts.journal);
  const members: Member[] = loaded.map((l) => ({ ...l, clips: [] }));
  const drop = dropper(model, members, failed);
  if (members.length === 0) {
    await closeAhead();
    return { runs: [], failed, decoding: null };
  }
  const started = members.map((m) => m.backend.name);
  const t0 = performance.now();
  let waitMs = 0;
  let fromCache = 0;
  opts.progress.start(ds.clips.length, `${model.id} ${started.join(', ')}`);
  try {
    for (const [i, clip] of ds.clips.entries()) {
      // Every backend failed: the other clips would be decoded for nobody.
      if (members.length === 0) break;
      const done = journaled[i];
      if (done) {
        for (const m of members) m.clips.push(done.get(m.backend.name)!);
        opts.progress.update(i + 1);
        continue;
      }
      const opened = queue.take();
      const labelIndex = indices[i]!;
      const base = { file: clipName(ds, clip), label: labels[labelIndex]!, labelIndex };
      try {
        const runs = await runClipTogether(members, opened, opts, drop);
        waitMs += runs.decodeWaitMs;
        if (runs.fromCache) fromCache++;
        for (const [m, run] of runs.byMember) m.clips.push(clipResult(model, base, run, opts.fps));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        for (const m of members) m.clips.push(errorClip(base, e.message));
      }
      opts.journal?.record(
        model,
        base.file,
        members.map((m) => ({ backend: m.backend.name, runtime: m.session.runtime, clip: m.clips.at(-1)! })),
      );
      opts.progress.update(i + 1);
    }
  } finally {
    await closeAhead();
    opts.progress.stop();
    for (const m of members) m.session.dispose();
  }
  return togetherResult(model, ds, members, failed, {
    wallMs: performance.now() - t0,
    fromCache,
    decodeWaitMs: waitMs,
  });
}

export function clipResult(
  model: ResolvedModel,
  base: Pick<ClipResult, 'file' | 'label' | 'labelIndex'>,
  run: ClipRun,
  fps: number,
): ClipResult {
  const probs = softmax(run.logits);
  const top5 = topK(probs, 5).map((k) => ({ index: k, label: className(model, k), prob: probs[k]! }));
  return {
    ...base,
    status: 'ok',
    frames: run.frames,
    top5,
    correct1: top5[0]?.index === base.labelIndex,
    correct5: top5.some((p) => p.index === base.labelIndex),
    timeToCorrectS: timeToCorrect(run.top1ByFrame, base.labelIndex, fps),
    top1ByFrame: run.top1ByFrame,
    stepMs: run.stepMs,
    decodeWaitMs: run.decodeWaitMs,
  };
}

/** One clip through every member, turn by turn on shared frames; a member whose step throws is dropped. */
async function runClipTogether(
  members: Member[],
  opened: OpenedClip,
  opts: AccuracyOptions,
  drop: (m: Member, e: unknown) => void,
): Promise<{ byMember: Map<Member, ClipRun>; decodeWaitMs: number; fromCache: boolean }> {
  if (opened.error) throw opened.error;
  const stream = opened.stream!;
  const feeds = new Map<Member, ClipFeed>();
  let waitMs = 0;
  try {
    for (const m of members) feeds.set(m, new ClipFeed(m.session));
    while (feeds.size > 0) {
      const w0 = performance.now();
      const turn: Float32Array[] = [];
      for (let k = 0; k < TURN_FRAMES; k++) {
        const next = await stream.next();
        if (next.done) break;
        turn.push(next.value);
      }
      waitMs += performance.now() - w0;
      if (turn.length === 0) break;
      for (const [m, feed] of feeds) {
        try {
          for (const frame of turn) {
            await feed.step(frame);
            // A WASM step never yields to the event loop: this lets the decoders' messages in after each
            // frame (untimed), so a finished clip starts the next decoder at once instead of a turn later.
            await new Promise((r) => setImmediate(r));
          }
        } catch (e) {
          feeds.delete(m);
          try {
            feed.close();
          } finally {
            drop(m, e);
          }
        }
      }
    }
  } finally {
    for (const feed of feeds.values()) feed.close();
    await stream.close();
  }
  const byMember = new Map<Member, ClipRun>();
  for (const [m, feed] of feeds) byMember.set(m, feed.result(opened.file, opts.fps, waitMs));
  return { byMember, decodeWaitMs: waitMs, fromCache: (await stream.source) === 'cache' };
}

/** One model on one backend: the joint run with a single member; a backend that fails throws. */
export async function evaluate(
  model: ResolvedModel,
  backend: Backend,
  ds: Dataset,
  opts: AccuracyOptions,
): Promise<AccuracyRun> {
  const { runs, failed } = await evaluateTogether(model, [backend], ds, opts);
  if (failed[0]) throw new Error(failed[0].error);
  return runs[0]!;
}
