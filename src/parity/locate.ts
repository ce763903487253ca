import type { Session, StateArrays, StateTensor } from '../backends/backend.js';
import { probeSession } from '../backends/onnx-probe.js';
import { findBackend } from '../backends/index.js';
import { loadNativeRunner, type NativeVariant } from '../backends/tflite-native.js';
import { graphPrecision, type Precision } from '../convert/tflite-to-onnx.js';
import type { ParityLocate, ParityTensor } from '../core/results.js';
import { argmax } from '../metrics/probabilities.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { TfliteOperator } from '../models/tflite.js';
import { TfliteTensorReader } from './tflite-tensors.js';

/** How many states the report lists, the most drifted first. */
const STATES_LISTED = 8;

/** Ops that move values without computing new ones: a difference cannot start at them. */
const MOVING = new Set([
  'RESHAPE',
  'SQUEEZE',
  'EXPAND_DIMS',
  'STRIDED_SLICE',
  'CONCATENATION',
  'TRANSPOSE',
  'PAD',
  'BROADCAST_TO',
]);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; count: number; at: number } {
  let [max, count, at] = [0, 0, -1];
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    if (d > 0) count++;
    if (d > max) [max, at] = [d, k];
  }
  return { max, count, at };
}

export function stateDrift(a: Map<string, StateTensor>, b: Map<string, StateTensor>): ParityLocate['states'] {
  return [...a]
    .map(([name, v]) => {
      const d = maxAbsDiff(v, b.get(name) ?? new Float32Array(v.length));
      return { name, maxAbsDiff: d.max, values: d.count };
    })
    .filter((s) => s.values > 0)
    .sort((x, y) => y.maxAbsDiff - x.maxAbsDiff)
    .slice(0, STATES_LISTED);
}

/**
 * Where `session` parts from `reference` on one clip: the first frame whose
 * states or logits differ, the first whose logits differ, the first whose
 * top-1 differs, and the states that differ most after the first logit
 * difference. Both are stepped afresh from zero state; only the frame the
 * tensor search needs (and the reference's states before it) is kept.
 */
export async function locateClip(
  model: ResolvedModel,
  reference: { name: string; session: Session },
  other: { name: string; session: Session },
  frames: readonly Float32Array[],
): Promise<ParityLocate> {
  const [ra, rb] = [reference.session, other.session];
  let [sa, sb] = [ra.initialState(), rb.initialState()];
  const found: ParityLocate = { firstFrame: null, firstLogitFrame: null, firstTop1Frame: null, states: [] };
  let origin: { frame: Float32Array; states: StateArrays } | undefined;
  try {
    for (const [f, frame] of frames.entries()) {
      const before = found.firstFrame === null ? ra.readState(sa) : undefined;
      const [a, b] = [await ra.step(frame, sa), await rb.step(frame, sb)];
      [sa, sb] = [a.state, b.state];
      const logitsDiffer = maxAbsDiff(a.logits, b.logits).count > 0;
      if (found.firstTop1Frame === null && argmax(a.logits) !== argmax(b.logits)) found.firstTop1Frame = f;
      if (found.firstFrame === null || (logitsDiffer && found.firstLogitFrame === null)) {
        const [xa, xb] = [ra.readState(sa), rb.readState(sb)];
        const drift = stateDrift(xa, xb);
        if (found.firstFrame === null && (logitsDiffer || drift.length > 0)) {
          found.firstFrame = f;
          origin = { frame, states: before! };
        }
        if (logitsDiffer && found.firstLogitFrame === null) {
          found.firstLogitFrame = f;
          found.states = drift;
        }
      }
      if (found.firstLogitFrame !== null && found.firstTop1Frame !== null) break;
    }
  } finally {
    ra.release(sa);
    rb.release(sb);
  }
  if (origin) Object.assign(found, await locateTensor(model, reference.name, other.name, origin.frame, origin.states));
  return found;
}

/** A backend's value of a TFLite tensor, in the reference's units (int8 codes for a quantized tensor). */
type TensorRead = (tensor: number) => Promise<ArrayLike<number>>;

/** The ONNX graph the backend runs, with every computed tensor exposed as a probe output, run once. */
async function onnxTensors(
  model: ResolvedModel,
  precision: Precision | 'native',
  computing: number[],
  frame: Float32Array,
  states: StateArrays,
): Promise<TensorRead> {
  // The graph the backend runs, so the probes see its tensors (a float source is fp32 in every variant).
  const p = graphPrecision(model.graph, precision);
  const { session, feeds } = await probeSession(model, p, computing);
  const probed = await session.run(feeds(frame, states));
  await session.release();
  const sg = model.graph.subgraphs[0]!;
  return async (t) => {
    const raw = probed[`probe_${t}`]!.data as Float32Array | Int32Array;
    const q = sg.tensors[t]!.type === 'int8' ? sg.tensors[t]!.quantization : undefined;
    return q ? Array.from(raw, (v) => Math.round(v / q.scale[0]!) + q.zeroPoint[0]!) : raw;
  };
}

/**
 * The native TFLite runtime's tensors (built-in kernels), read as the reference's are: the tensor made the graph
 * output.
 */
async function nativeTensors(
  model: ResolvedModel,
  variant: NativeVariant,
  frame: Float32Array,
  states: StateArrays,
): Promise<TensorRead> {
  const reader = new TfliteTensorReader(model, frame, states, (bytes) => loadNativeRunner(bytes, variant, 1));
  return (t) => reader.read(t);
}

/**
 * The tensor where an ONNX backend's graph first parts from TFLite's on the
 * frame where the runtimes part, both fed the reference's states from before
 * that frame: an op whose activation inputs agree and whose output does not.
 */
async function locateTensor(
  model: ResolvedModel,
  reference: string,
  backend: string,
  frame: Float32Array,
  states: StateArrays,
): Promise<Pick<ParityLocate, 'tensor' | 'tensorNote'>> {
  // A browser row (`name@chromium`) is no backend of this process: its tensors cannot be read here.
  const facts = findBackend(backend)?.facts;
  const how = facts?.locate ?? { via: null, because: 'neither an ONNX graph nor native TFLite: no probes' };
  const precision = how.via === 'onnx' ? facts?.precision : undefined;
  const native = how.via === 'native' ? how.variant : undefined;
  if (how.via === null) return { tensorNote: `${backend} is ${how.because}` };
  if (precision === undefined && native === undefined)
    return { tensorNote: `${backend} is neither an ONNX graph nor native TFLite: no probes` };
  if (findBackend(reference)?.facts.locate.via !== 'reference')
    return { tensorNote: 'intermediate tensors of the reference are read from tfjs-tflite only' };
  if (native === 'xnnpack')
    return {
      tensorNote:
        "intermediate tensors are not read from native XNNPACK: TFLite 2.9's delegate crashes the process when an " +
        'intermediate tensor is made the graph output (seen on A0 and both fine-tuned builds)',
    };
  const sg = model.graph.subgraphs[0]!;
  const producer = new Map<number, TfliteOperator>();
  for (const op of sg.operators) for (const o of op.outputs) producer.set(o, op);
  const computing = sg.operators.filter((op) => !MOVING.has(op.opcode)).map((op) => op.outputs[0]!);
  const readBackend =
    native !== undefined
      ? await nativeTensors(model, native, frame, states)
      : await onnxTensors(model, precision!, computing, frame, states);
  const reader = new TfliteTensorReader(model, frame, states);
  const compared = new Map<number, ParityTensor | null>();
  const compare = async (t: number): Promise<ParityTensor | null> => {
    if (compared.has(t)) return compared.get(t)!;
    const tensor = sg.tensors[t]!;
    const ref = await reader.read(t);
    const got = await readBackend(t);
    const q = tensor.type === 'int8' ? tensor.quantization : undefined;
    const d = maxAbsDiff(ref, got);
    const op = producer.get(t)!;
    const result: ParityTensor | null =
      d.count === 0
        ? null
        : {
            index: t,
            name: tensor.name,
            op: op.opcode,
            opIndex: op.index,
            values: d.count,
            of: ref.length,
            maxAbsDiff: d.max,
            unit: q ? 'code' : 'value',
            reference: ref[d.at]!,
            backend: got[d.at]!,
          };
    compared.set(t, result);
    return result;
  };
  // A difference usually persists downstream, so bisection finds one quickly; it can also be absorbed
  // (a clamp, a mean), so the found op's inputs are then followed up until every input agrees.
  let [lo, hi] = [0, computing.length - 1];
  let hit: ParityTensor | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = await compare(computing[mid]!);
    if (r) [hit, hi] = [r, mid - 1];
    else lo = mid + 1;
  }
  if (!hit) {
    const fed = "every computed tensor agrees when both are fed the reference's states";
    return { tensorNote: `${fed} (${reader.loads} tensors read)` };
  }
  const upstream = (t: number): number[] => {
    const op = producer.get(t);
    if (!op) return [];
    return op.inputs.flatMap((i) => {
      if (i < 0 || model.graph.buffer(sg.tensors[i]!.buffer).length > 0) return [];
      const from = producer.get(i);
      if (!from) return [];
      return MOVING.has(from.opcode) ? upstream(i) : [i];
    });
  };
  for (let moved = true; moved;) {
    moved = false;
    for (const i of upstream(hit.index)) {
      const r = await compare(i);
      if (r) {
        hit = r;
        moved = true;
        break;
      }
    }
  }
  return { tensor: hit };
}
