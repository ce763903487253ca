import type { Backend, BatchedSession, Session, State } from '../backends/backend.js';
import { graphPrecision } from '../convert/tflite-to-onnx.js';
import type { ParityLocate, ParityPair } from '../core/results.js';
import { clipName, type Dataset } from '../datasets/dataset.js';
import { compareBackends, type ClipLogits } from '../metrics/parity.js';
import { argmax } from '../metrics/probabilities.js';
import { modelInfo } from '../models/info.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { decodeFrames } from '../video/decode.js';
import { collect } from '../video/frames.js';
import { checkVideoFile } from '../video/probe.js';
import { maxAbsDiff, stateDrift } from './locate.js';
import { decodeOptions, type ParityOptions } from './run.js';

export interface StreamParityOptions extends ParityOptions {
  /** Slots of the batched session: how many clips stream through it at once. */
  streams: number;
}

/** What the schedule made the batched session do, so a test can see that every case it is meant to cover ran. */
export interface StreamSchedule {
  calls: number;
  /** The most streams in one call. */
  widest: number;
  /** Calls whose slots were not 0..n-1 in order (gathered and scattered). */
  reordered: number;
  /** Streams that opened a slot an earlier stream had closed. */
  reused: number;
  /** Times a stream with a frame left waiting sat out a call while others stepped. */
  paused: number;
  /** The call at which each clip's stream started and after which it ended, by clip; null for a clip not run. */
  spans: ({ first: number; last: number } | null)[];
}

export interface StreamParityOutcome {
  pair: ParityPair;
  schedule: StreamSchedule;
}

/** Where a stream first parts from its own single-stream run, as parity --locate records it. */
interface Parting {
  firstFrame: number | null;
  firstLogitFrame: number | null;
  firstTop1Frame: number | null;
  states: ParityLocate['states'];
}

/** One clip streaming through a slot, with its single-stream reference beside it. */
interface Stream {
  clip: number;
  frames: Float32Array[];
  next: number;
  slot: number;
  /** The reference session's state for this clip's next frame. */
  state: State;
  logits: ClipLogits;
  parting: Parting;
}

/** A stream sits out every fifth call, shifted by its clip, so the steps of one call are seldom all the streams. */
function pausedAt(call: number, clip: number): boolean {
  return (call + clip) % 5 === 4;
}

/**
 * parity --streams: every clip of the dataset through one batched session of `streams` slots, each stream's
 * logits and states compared after every frame with the clip's own single-stream run on the backend's usual
 * graph. Streams join one per call while a slot is free (starts are staggered, and a clip that ends frees
 * its slot for the next, which starts there from zero state), a stream sometimes sits out a call, and each
 * call lists its streams rotated by one more place than the last, so slot order and arrival order part.
 * For an int8 graph a stream matches only when every frame's logits and states are identical; a float
 * graph is held to the parity rule, with its first difference recorded where it parts.
 */
export async function runStreamParity(
  model: ResolvedModel,
  backend: Backend,
  ds: Dataset,
  opts: StreamParityOptions,
): Promise<StreamParityOutcome> {
  if (!backend.facts.batch.can || !backend.loadBatched)
    throw new UserError(
      `parity --streams: backend ${backend.name} cannot batch streams: ` +
        (backend.facts.batch.can ? 'it has no batched session' : backend.facts.batch.because),
    );
  const label = `${backend.name}@batch${opts.streams}`;
  const load = { threads: opts.threads, ...(opts.cache === undefined ? {} : { cache: opts.cache }) };
  const clips: ClipLogits[] = ds.clips.map((c) => ({ file: clipName(ds, c), byBackend: [[], []] }));
  const single = await backend.load(model, load);
  let run: { partings: Map<number, Parting>; schedule: StreamSchedule };
  try {
    const batched = await backend.loadBatched(model, { ...load, slots: opts.streams });
    opts.progress.start(ds.clips.length, `parity ${model.id} ${label}`);
    try {
      run = await streamAll(single, batched, model, ds, clips, opts);
    } finally {
      opts.progress.stop();
      batched.dispose();
    }
  } finally {
    single.dispose();
  }
  const exact = graphPrecision(model.graph, backend.facts.precision) !== 'float';
  const pair = compareBackends(modelInfo(model), backend.name, label, clips, 0, 1);
  for (const [k, clip] of pair.clips.entries()) {
    const p = run.partings.get(k);
    if (!p || p.firstFrame === null) continue;
    clip.locate = { ...p, tensorNote: 'a batched run is compared at its outputs: logits and states' };
    if (exact) clip.match = false;
  }
  pair.clipsMatching = pair.clips.filter((c) => c.match).length;
  return { pair, schedule: run.schedule };
}

/** The schedule above, run: each clip's logits on both sides go into `clips`, where each stream parts is returned. */
async function streamAll(
  single: Session,
  batched: BatchedSession,
  model: ResolvedModel,
  ds: Dataset,
  clips: ClipLogits[],
  opts: StreamParityOptions,
): Promise<{ partings: Map<number, Parting>; schedule: StreamSchedule }> {
  const partings = new Map<number, Parting>();
  const schedule: StreamSchedule = {
    calls: 0,
    widest: 0,
    reordered: 0,
    reused: 0,
    paused: 0,
    spans: ds.clips.map(() => null),
  };
  const streams: Stream[] = [];
  const closed = new Set<number>();
  let [waiting, done] = [0, 0];
  try {
    for (let call = 0; waiting < ds.clips.length || streams.length > 0; call++) {
      if (waiting < ds.clips.length && streams.length < opts.streams) {
        const k = waiting++;
        const frames = await clipFrames(ds, k, model, opts, clips[k]!);
        if (frames) {
          const slot = batched.open();
          if (closed.has(slot)) schedule.reused++;
          const parting = { firstFrame: null, firstLogitFrame: null, firstTop1Frame: null, states: [] };
          partings.set(k, parting);
          streams.push({ clip: k, frames, next: 0, slot, state: single.initialState(), logits: clips[k]!, parting });
        } else opts.progress.update(++done);
      }
      const stepping = streams.filter((s) => !pausedAt(call, s.clip)).sort((a, b) => a.slot - b.slot);
      schedule.paused += streams.length - stepping.length;
      if (stepping.length === 0) continue;
      const turn = call % stepping.length;
      const order = [...stepping.slice(turn), ...stepping.slice(0, turn)];
      if (order.some((s, k) => s.slot !== k)) schedule.reordered++;
      const at = schedule.calls++;
      schedule.widest = Math.max(schedule.widest, order.length);
      const logits = await batched.step(order.map((s) => ({ slot: s.slot, frame: s.frames[s.next]! })));
      for (const [k, s] of order.entries()) {
        const f = s.next++;
        const ref = await single.step(s.frames[f]!, s.state);
        s.state = ref.state;
        const drift = () => stateDrift(single.readState(s.state), batched.readState(s.slot));
        compareFrame(f, ref.logits, logits[k]!, drift, s.parting);
        s.logits.byBackend[0]!.push(ref.logits);
        s.logits.byBackend[1]!.push(logits[k]!);
        (schedule.spans[s.clip] ??= { first: at, last: at }).last = at;
      }
      for (const s of order.filter((x) => x.next === x.frames.length)) {
        batched.close(s.slot);
        closed.add(s.slot);
        single.release(s.state);
        streams.splice(streams.indexOf(s), 1);
        opts.progress.update(++done);
      }
    }
    return { partings, schedule };
  } finally {
    for (const s of streams) single.release(s.state);
  }
}

/** A clip's frames, or undefined with the reason kept on its entry when it cannot be decoded. */
async function clipFrames(
  ds: Dataset,
  k: number,
  model: ResolvedModel,
  opts: ParityOptions,
  entry: ClipLogits,
): Promise<Float32Array[] | undefined> {
  const file = ds.clips[k]!.file;
  try {
    checkVideoFile(file);
    const frames = await collect(decodeFrames(file, decodeOptions(model, opts)));
    if (frames.length === 0) throw new UserError(`video ${file} is too short: it gives no frame at ${opts.fps} fps`);
    return frames;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    entry.error = e.message;
    entry.byBackend = [];
    return undefined;
  }
}

/**
 * Records frame f of a stream: where its logits or states first differ from the single-stream run's. The states
 * listed are those of the first frame whose logits differ, or of the first that differs at all.
 */
function compareFrame(
  f: number,
  reference: Float32Array,
  logits: Float32Array,
  drifted: () => ParityLocate['states'],
  p: Parting,
): void {
  const logitsDiffer = maxAbsDiff(reference, logits).count > 0;
  if (p.firstTop1Frame === null && argmax(reference) !== argmax(logits)) p.firstTop1Frame = f;
  // Both sessions' states are copied out only until the logits part: nothing after that is recorded.
  if (p.firstLogitFrame !== null) return;
  const drift = drifted();
  if (p.firstFrame === null && (logitsDiffer || drift.length > 0)) [p.firstFrame, p.states] = [f, drift];
  if (logitsDiffer) [p.firstLogitFrame, p.states] = [f, drift];
}
