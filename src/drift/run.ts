import type { Backend, Session, StateArrays } from '../backends/backend.js';
import { graphPrecision } from '../convert/tflite-to-onnx.js';
import type {
  DriftCounterfactual,
  DriftInside,
  DriftResult,
  DriftState,
  Runtime,
  SameNetwork,
} from '../core/results.js';
import type { Dataset } from '../datasets/dataset.js';
import { modelInfo } from '../models/info.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { StateSpec } from '../models/signature.js';
import { maxOr } from '../metrics/stats.js';
import { leastSquares, streamTrend } from '../metrics/trend.js';
import type { Progress } from '../util/progress.js';
import type { DecodeOptions } from '../video/decode.js';
import { insideFrames, type TakenFrame } from './inside.js';
import { logitsError, mean, perFrameMean, squaredError } from './measure.js';
import { liveStates, stateGroup, stateUnit, type StateUnit } from './network.js';
import { StreamChainer } from './streams.js';

/** How many states the verdict names. */
const TOP_STATES = 3;

export interface DriftSide {
  backend: Backend;
  model: ResolvedModel;
}

export interface DriftPair {
  quantized: DriftSide;
  reference: DriftSide & { kind: 'dequantized' | 'file'; sameNetwork: SameNetwork };
}

export interface DriftOptions {
  framesPerStream: number;
  streams: number;
  /** Frames before the trends and means start. */
  fillUp: number;
  /** Frames of the first stream whose intermediate tensors are read (same-graph pairs); empty for none. */
  inside: readonly number[];
  counterfactual: boolean;
  threads: number;
  /** False with --no-cache: model conversions are neither read from nor written to the cache. */
  cache?: boolean;
  decode: DecodeOptions;
  progress: Progress;
}

/** What one stream leaves behind: per-frame figures, and per live state its RMS error frame by frame. */
interface StreamRecord {
  clips: string[];
  maxAbs: number[];
  meanAbs: number[];
  cosine: number[];
  agree: number[];
  probLost: number[];
  margin: number[];
  cfAgree: number[];
  cfMeanAbs: number[];
  /** By live state: the RMS difference at each frame, and the mean signed difference. */
  rms: Map<string, number[]>;
  signed: Map<string, number[]>;
}

/** Sums over the frames after the fill-up, per live state: squared error and the reference's square. */
interface StateSums {
  mse: number;
  ms: number;
  frames: number;
}

const runtimeOf = (backend: Backend, s: Session): Runtime => ({
  backend: backend.name,
  ...s.runtime,
  threads: s.threads,
});

/** Why the intermediate tensors are not read for this pair, or null when they are. */
function insideNote(pair: DriftPair, asked: readonly number[]): string | null {
  const { quantized: q, reference: r } = pair;
  if (asked.length === 0) return 'no frame asked for (--no-inside)';
  if (q.model.sha256 !== r.model.sha256)
    return 'the two sides are different files, whose tensors do not match one to one (read for one file as two graphs)';
  for (const side of [q, r])
    if (side.backend.facts.family !== 'onnx' || side.backend.facts.locate.via !== 'onnx')
      return (
        `${side.backend.name} is not an ONNX graph, whose tensors are all read in one run ` +
        '(TFLite needs one load per tensor): use onnxruntime-exact and onnxruntime-float'
      );
  return null;
}

/** Streams one chained stream through both sides (and the counterfactual), recording every figure per frame. */
async function runStream(
  sessions: { q: Session; r: Session; cf: Session | null },
  live: readonly StateSpec[],
  frames: readonly Float32Array[],
  clips: string[],
  sums: Map<string, StateSums>,
  fillUp: number,
  take: ReadonlySet<number>,
  taken: TakenFrame[],
  progress: () => void,
): Promise<StreamRecord> {
  const { q, r, cf } = sessions;
  const rec: StreamRecord = {
    clips,
    maxAbs: [],
    meanAbs: [],
    cosine: [],
    agree: [],
    probLost: [],
    margin: [],
    cfAgree: [],
    cfMeanAbs: [],
    rms: new Map(live.map((s) => [s.name, []])),
    signed: new Map(live.map((s) => [s.name, []])),
  };
  let [qs, rs] = [q.initialState(), r.initialState()];
  // The states each side carries into the next frame, as values: the counterfactual and the tensor reads need them.
  let qBefore: StateArrays = q.readState(qs);
  let rBefore: StateArrays = r.readState(rs);
  try {
    for (const [t, frame] of frames.entries()) {
      if (take.has(t)) taken.push({ frame: t, image: frame, quantized: qBefore, reference: rBefore });
      const a = await q.step(frame, qs);
      qs = a.state;
      const b = await r.step(frame, rs);
      rs = b.state;
      const e = logitsError(a.logits, b.logits);
      rec.maxAbs.push(e.maxAbs);
      rec.meanAbs.push(e.meanAbs);
      rec.cosine.push(e.cosine);
      rec.agree.push(e.agree ? 1 : 0);
      rec.probLost.push(e.probLost);
      rec.margin.push(e.margin);
      if (cf) {
        const c = await cf.step(frame, cf.stateFrom(rBefore));
        cf.release(c.state);
        const ce = logitsError(c.logits, b.logits);
        rec.cfAgree.push(ce.agree ? 1 : 0);
        rec.cfMeanAbs.push(ce.meanAbs);
      }
      const [qv, rv] = [q.readState(qs), r.readState(rs)];
      for (const st of live) {
        const { mse, ms, md } = squaredError(qv.get(st.name)!, rv.get(st.name)!);
        rec.rms.get(st.name)!.push(Math.sqrt(mse));
        rec.signed.get(st.name)!.push(md);
        if (t >= fillUp) {
          const s = sums.get(st.name)!;
          s.mse += mse;
          s.ms += ms;
          s.frames++;
        }
      }
      [qBefore, rBefore] = [qv, rv];
      progress();
    }
  } finally {
    q.release(qs);
    r.release(rs);
  }
  return rec;
}

/** The states' figures in their units, the largest mean error first. */
function stateFigures(
  live: readonly StateSpec[],
  units: ReadonlyMap<string, StateUnit>,
  records: readonly StreamRecord[],
  sums: ReadonlyMap<string, StateSums>,
  fillUp: number,
): DriftState[] {
  return live
    .map((st): DriftState => {
      const u = units.get(st.name)!;
      const s = sums.get(st.name)!;
      const refRms = s.frames ? Math.sqrt(s.ms / s.frames) : 0;
      const unitValue = u.value ?? refRms;
      const divisor = unitValue > 0 ? unitValue : 1;
      const series = records.map((rec) => rec.rms.get(st.name)!.map((v) => v / divisor));
      const perFrame = perFrameMean(series);
      return {
        name: st.name,
        group: stateGroup(st.name),
        shape: st.input.shape,
        unit: u.unit,
        unitValue,
        mean: mean(series.flatMap((x) => x.slice(fillUp))),
        bias: mean(records.flatMap((rec) => rec.signed.get(st.name)!.slice(fillUp))) / divisor,
        final: perFrame[perFrame.length - 1] ?? 0,
        max: maxOr(series.flat(), 0),
        relativeRms: s.ms > 0 ? Math.sqrt(s.mse / s.ms) : null,
        trend: streamTrend(series, fillUp),
        perFrame,
      };
    })
    .sort((a, b) => b.mean - a.mean);
}

/** Each group's states averaged frame by frame (a group mixes no units: the unit is part of its key). */
function groupFigures(states: readonly DriftState[]): DriftResult['groups'] {
  const groups = new Map<string, DriftState[]>();
  for (const s of states) {
    const key = `${s.group}\u0000${s.unit}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((members) => ({
    name: members[0]!.group,
    unit: members[0]!.unit,
    states: members.map((s) => s.name),
    perFrame: perFrameMean(members.map((s) => s.perFrame)),
  }));
}

/** One per-frame series of every stream, the fill-up frames left out, the streams one after another. */
function afterFillUp(records: readonly StreamRecord[], fillUp: number): (f: (r: StreamRecord) => number[]) => number[] {
  return (f) => records.flatMap((r) => f(r).slice(fillUp));
}

function counterfactualFigures(records: readonly StreamRecord[], fillUp: number): DriftCounterfactual {
  const after = afterFillUp(records, fillUp);
  const carried = after((r) => r.agree);
  const fed = after((r) => r.cfAgree);
  const disagreeing = carried.flatMap((a, i) => (a ? [] : [fed[i]!]));
  const last = (f: (r: StreamRecord) => number[]) => mean(records.map((r) => f(r)[f(r).length - 1] ?? 0));
  return {
    top1Agreement: mean(fed),
    carriedTop1Agreement: mean(carried),
    difference: mean(fed) - mean(carried),
    finalTop1Agreement: last((r) => r.cfAgree),
    finalCarriedTop1Agreement: last((r) => r.agree),
    carriedShare: disagreeing.length ? mean(disagreeing) : null,
    meanAbs: mean(after((r) => r.cfMeanAbs)),
    agreementTrend: streamTrend(
      records.map((r) => r.cfAgree),
      fillUp,
    ),
    perFrame: {
      top1Agreement: perFrameMean(records.map((r) => r.cfAgree)),
      meanAbs: perFrameMean(records.map((r) => r.cfMeanAbs)),
    },
  };
}

/**
 * A quantized model against its float reference on the same long streams, each side carrying its own states:
 * per frame the logits' error and every live state's error against the reference's state of the same name; the
 * trends after the fill-up; optionally the counterfactual (the quantized model fed the reference's states at
 * every frame, in a session of its own) and, for one file run as two ONNX graphs, the error of every
 * intermediate tensor on chosen frames of the first stream.
 */
export async function runDrift(pair: DriftPair, ds: Dataset, opts: DriftOptions): Promise<DriftResult> {
  const t0 = performance.now();
  const { quantized: q, reference: r } = pair;
  const { live, passThrough } = liveStates(q.model);
  const units = new Map(live.map((st) => [st.name, stateUnit(q.model, st)]));
  const load = { threads: opts.threads, cache: opts.cache };
  const sessions: Session[] = [];
  const chainer = new StreamChainer(ds, opts.decode);
  try {
    const qs = await q.backend.load(q.model, load);
    sessions.push(qs);
    const rs = await r.backend.load(r.model, load);
    sessions.push(rs);
    const cf = opts.counterfactual ? await q.backend.load(q.model, load) : null;
    if (cf) sessions.push(cf);
    const note = insideNote(pair, opts.inside);
    const take = new Set(note === null ? opts.inside : []);
    const taken: TakenFrame[] = [];
    const sums = new Map(live.map((s) => [s.name, { mse: 0, ms: 0, frames: 0 }]));
    const records: StreamRecord[] = [];
    let done = 0;
    opts.progress.start(opts.streams * opts.framesPerStream, `drift ${q.model.id}`);
    for (let s = 0; s < opts.streams; s++) {
      const stream = await chainer.stream(s, opts.framesPerStream);
      const rec = await runStream(
        { q: qs, r: rs, cf },
        live,
        stream.frames,
        stream.clips,
        sums,
        opts.fillUp,
        s === 0 ? take : new Set(),
        taken,
        () => opts.progress.update(++done),
      );
      records.push(rec);
    }
    opts.progress.stop();
    const inside: DriftInside =
      note === null && taken.length
        ? await insideFrames(
            q.model,
            {
              quantized: graphPrecision(q.model.graph, q.backend.facts.precision),
              reference: graphPrecision(r.model.graph, r.backend.facts.precision),
            },
            taken,
            0,
          )
        : { note: note ?? 'no asked frame lies in the stream', stream: 0, frames: [], tensors: 0, top: [], byOp: [] };
    const states = stateFigures(live, units, records, sums, opts.fillUp);
    const after = afterFillUp(records, opts.fillUp);
    const cosines = after((x) => x.cosine);
    const trend = streamTrend(
      records.map((x) => x.meanAbs),
      opts.fillUp,
    );
    return {
      model: modelInfo(q.model),
      backend: q.backend.name,
      runtime: runtimeOf(q.backend, qs),
      reference: {
        kind: r.kind,
        model: modelInfo(r.model),
        backend: r.backend.name,
        runtime: runtimeOf(r.backend, rs),
        sameNetwork: r.sameNetwork,
      },
      framesPerStream: opts.framesPerStream,
      fillUp: opts.fillUp,
      streams: records.map((x) => ({
        clips: x.clips,
        frames: x.meanAbs.length,
        top1Agreement: mean(x.agree.slice(opts.fillUp)),
        slopePerFrame: leastSquares(x.meanAbs.slice(opts.fillUp)).slope,
      })),
      logits: {
        maxAbs: maxOr(
          after((x) => x.maxAbs),
          0,
        ),
        meanAbs: mean(after((x) => x.meanAbs)),
        cosine: mean(cosines),
        minCosine: cosines.reduce((a, b) => Math.min(a, b), 1),
        top1Agreement: mean(after((x) => x.agree)),
        probLost: mean(after((x) => x.probLost)),
        referenceMargin: mean(after((x) => x.margin)),
        finalTop1Agreement: mean(records.map((x) => x.agree[x.agree.length - 1] ?? 0)),
        trend,
        agreementTrend: streamTrend(
          records.map((x) => x.agree),
          opts.fillUp,
        ),
        cosineTrend: streamTrend(
          records.map((x) => x.cosine),
          opts.fillUp,
        ),
        perFrame: {
          maxAbs: perFrameMean(records.map((x) => x.maxAbs)),
          meanAbs: perFrameMean(records.map((x) => x.meanAbs)),
          cosine: perFrameMean(records.map((x) => x.cosine)),
          top1Agreement: perFrameMean(records.map((x) => x.agree)),
          probLost: perFrameMean(records.map((x) => x.probLost)),
          referenceMargin: perFrameMean(records.map((x) => x.margin)),
        },
      },
      states,
      passThrough,
      groups: groupFigures(states),
      counterfactual: cf ? counterfactualFigures(records, opts.fillUp) : null,
      inside,
      verdict: {
        growth: trend.verdict,
        topStates: states
          .filter((s) => s.mean > 0)
          .slice(0, TOP_STATES)
          .map((s) => s.name),
        growingStates: states.filter((s) => s.trend.verdict === 'grows').map((s) => s.name),
      },
      wallMs: performance.now() - t0,
    };
  } finally {
    opts.progress.stop();
    for (const s of sessions) s.dispose();
  }
}
