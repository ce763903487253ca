import type { Backend, BatchedSession } from '../backends/backend.js';
import { batchedLoader } from '../backends/batching.js';
import type { AccuracyRun, ClipResult, Decoding, Failed } from '../core/results.js';
import { clipName, labelIndices, type Dataset } from '../datasets/dataset.js';
import { argmax } from '../metrics/probabilities.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import type { FrameStream } from '../video/decode.js';
import { openClip, tooShort } from './clip.js';
import {
  ClipQueue,
  clipResult,
  dropper,
  errorClip,
  FRAMES_AHEAD,
  loadMembers,
  togetherResult,
  type AccuracyOptions,
} from './run.js';

/** How a refusal names batched accuracy. */
export const BATCH_FLAG = '--batch';

export interface BatchedAccuracyOptions extends AccuracyOptions {
  /** Clips stepped at once: the slots of each backend's batched session. */
  batch: number;
}

interface Member {
  backend: Backend;
  session: BatchedSession;
  /** By dataset index, filled as clips end (out of order: a short clip ends before a long one that began first). */
  clips: (ClipResult | undefined)[];
}

/** A member's pass over the clip of a lane: its slot and what each frame gave. */
interface SlotRun {
  slot: number;
  logits: Float32Array | null;
  top1ByFrame: number[];
  stepMs: number[];
}

/** A clip in progress: one of the `batch` clips being stepped, with a slot in every member's session. */
interface Lane {
  index: number;
  base: Pick<ClipResult, 'file' | 'label' | 'labelIndex'>;
  file: string;
  stream: FrameStream;
  waitMs: number;
  runs: Map<Member, SlotRun>;
}

/**
 * `accuracy --batch N`: every backend runs the clips N at a time through one batched session of N slots, each
 * clip a stream of its own from zero state. A call steps the next frame of every clip in progress; a clip that
 * ends gives its slot to the next clip in dataset order, which starts there from zero state, so the slots stay
 * full until the last clips. Each clip is scored from its own final logits as in the unbatched run (for the int8
 * graphs bit for bit the same: test/batched-live.test.ts); a frame's step time is its share of the call, so the
 * run's inference time is what the calls took. Decoding, the journal, failed backends and clip errors behave as
 * in evaluateTogether, the clips of a journal it resumes included.
 */
export async function evaluateBatched(
  model: ResolvedModel,
  backends: readonly Backend[],
  ds: Dataset,
  opts: BatchedAccuracyOptions,
): Promise<{ runs: AccuracyRun[]; failed: Failed[]; decoding: Decoding | null }> {
  if (!model.labels) throw new UserError(`model ${model.id} has no label file; pass --labels`);
  if (!Number.isInteger(opts.batch) || opts.batch < 1)
    throw new UserError(`${BATCH_FLAG} must be a whole number of clips, 1 or more; got ${opts.batch}`);
  const loaders = backends.map((b) => batchedLoader(b, BATCH_FLAG));
  const labels = model.labels;
  const indices = labelIndices(ds, labels);
  const failed: Failed[] = [];
  const names = backends.map((b) => b.name);
  const journaled = ds.clips.map((c) => opts.journal?.done(model, clipName(ds, c), names) ?? null);
  const pending = ds.clips.flatMap((_, i) => (journaled[i] ? [] : [i]));
  const queue = new ClipQueue(
    pending.map((i) => ds.clips[i]!.file),
    (file) => openClip(model, file, { ...opts, maxAhead: FRAMES_AHEAD }),
  );
  const load = (_: Backend, k: number) =>
    loaders[k]!(model, { threads: opts.threads, cache: opts.cache, slots: opts.batch });
  const loaded = await loadMembers(model, backends, load, queue, failed, opts.journal);
  const members: Member[] = loaded.map((l) => ({ ...l, clips: ds.clips.map(() => undefined) }));
  const drop = dropper(model, members, failed);
  if (members.length === 0) {
    await queue.close();
    return { runs: [], failed, decoding: null };
  }
  const t0 = performance.now();
  let [done, waitMs, fromCache] = [0, 0, 0];
  opts.progress.start(
    ds.clips.length,
    `${model.id} ${members.map((m) => m.backend.name).join(', ')} (batch ${opts.batch})`,
  );
  for (const [i, held] of journaled.entries()) {
    if (!held) continue;
    for (const m of members) m.clips[i] = held.get(m.backend.name)!;
    opts.progress.update(++done);
  }
  const lanes: Lane[] = [];
  const record = (index: number, byMember: (m: Member) => ClipResult) => {
    for (const m of members) m.clips[index] = byMember(m);
    const file = clipName(ds, ds.clips[index]!);
    opts.journal?.record(
      model,
      file,
      members.map((m) => ({ backend: m.backend.name, runtime: m.session.runtime, clip: m.clips[index]! })),
    );
    opts.progress.update(++done);
  };
  /** A lane whose clip ended, or failed to decode: its slots are freed and its results kept. */
  const end = async (lane: Lane, error: UserError | null) => {
    lanes.splice(lanes.indexOf(lane), 1);
    await lane.stream.close();
    if ((await lane.stream.source) === 'cache') fromCache++;
    waitMs += lane.waitMs;
    for (const m of members) m.session.close(lane.runs.get(m)!.slot);
    record(lane.index, (m) => {
      const run = lane.runs.get(m)!;
      if (error) return errorClip(lane.base, error.message);
      if (!run.logits) return errorClip(lane.base, tooShort(lane.file, opts.fps).message);
      const { logits, top1ByFrame, stepMs } = run;
      const clip = { frames: top1ByFrame.length, logits, top1ByFrame, stepMs, decodeWaitMs: lane.waitMs };
      return clipResult(model, lane.base, clip, opts.fps);
    });
  };
  let next = 0;
  try {
    while (members.length > 0) {
      while (lanes.length < opts.batch && next < pending.length) {
        const index = pending[next++]!;
        const opened = queue.take();
        const labelIndex = indices[index]!;
        const base = { file: clipName(ds, ds.clips[index]!), label: labels[labelIndex]!, labelIndex };
        if (opened.error) {
          record(index, () => errorClip(base, opened.error!.message));
          continue;
        }
        const runs = new Map(
          members.map((m) => [m, { slot: m.session.open(), logits: null, top1ByFrame: [], stepMs: [] } as SlotRun]),
        );
        lanes.push({ index, base, file: opened.file, stream: opened.stream!, waitMs: 0, runs });
      }
      if (lanes.length === 0) break;
      const frames: { lane: Lane; frame: Float32Array }[] = [];
      for (const lane of [...lanes]) {
        const w0 = performance.now();
        let got: IteratorResult<Float32Array>;
        try {
          got = await lane.stream.next();
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          lane.waitMs += performance.now() - w0;
          await end(lane, e);
          continue;
        }
        lane.waitMs += performance.now() - w0;
        if (got.done) await end(lane, null);
        else frames.push({ lane, frame: got.value });
      }
      if (frames.length === 0) continue;
      for (const m of [...members]) await stepMember(m, frames, drop);
      // A step never yields to the event loop: this lets the decoders' messages in between calls (untimed).
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    for (const lane of lanes.splice(0)) await lane.stream.close();
    await queue.close();
    opts.progress.stop();
    for (const m of members) m.session.dispose();
  }
  const wallMs = performance.now() - t0;
  const scored = members.map((m) => ({
    ...m,
    clips: m.clips.map((c, i) => {
      if (!c) throw new Error(`internal: clip ${i} of ${m.backend.name} has no result`);
      return c;
    }),
  }));
  return togetherResult(model, ds, scored, failed, { wallMs, fromCache, decodeWaitMs: waitMs });
}

/** One call of a member: the lanes' frames in its slot order (a call of the first slots reads them in place). */
async function stepMember(
  m: Member,
  frames: readonly { lane: Lane; frame: Float32Array }[],
  drop: (m: Member, e: unknown) => void,
): Promise<void> {
  const order = frames
    .map(({ lane, frame }) => ({ run: lane.runs.get(m)!, frame }))
    .sort((a, b) => a.run.slot - b.run.slot);
  try {
    const t0 = performance.now();
    const logits = await m.session.step(order.map(({ run, frame }) => ({ slot: run.slot, frame })));
    const share = (performance.now() - t0) / order.length;
    for (const [k, { run }] of order.entries()) {
      const l = logits[k]!;
      run.logits = l;
      run.top1ByFrame.push(argmax(l));
      run.stepMs.push(share);
    }
  } catch (e) {
    drop(m, e);
  }
}
