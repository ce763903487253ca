import type { DriftState } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import { isPassThrough, type StateSpec } from '../models/signature.js';

const shapeText = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Why two files cannot be compared as one network from their signatures alone: frame size, classes, and every
 * state matched by signature name and shape (raw tensor names differ between exports). Null when they match.
 */
export function signatureMismatch(quantized: ResolvedModel, reference: ResolvedModel): string | null {
  const [q, r] = [quantized.signature, reference.signature];
  if (q.numClasses !== r.numClasses)
    return `${quantized.id} gives ${q.numClasses} classes, ${reference.id} ${r.numClasses}`;
  if (q.height !== r.height || q.width !== r.width)
    return `${quantized.id} takes ${q.height}x${q.width} frames, ${reference.id} ${r.height}x${r.width}`;
  const theirs = new Map(r.states.map((s) => [s.name, s]));
  for (const st of q.states) {
    const other = theirs.get(st.name);
    if (!other) return `${reference.id} has no state '${st.name}'`;
    const [a, b] = [shapeText(st.input.shape), shapeText(other.input.shape)];
    if (a !== b || st.input.dtype !== other.input.dtype)
      return (
        `state '${st.name}' is ${a} ${st.input.dtype} in ${quantized.id}, ` +
        `${b} ${other.input.dtype} in ${reference.id}`
      );
  }
  const extra = r.states.find((s) => !q.states.some((x) => x.name === s.name));
  return extra ? `${quantized.id} has no state '${extra.name}'` : null;
}

/** A live state's unit: a fixed size in its own values, or (null) the reference's RMS, known after the streams. */
export interface StateUnit {
  unit: DriftState['unit'];
  value: number | null;
}

/**
 * The unit a state's error is measured in. The quantization step the quantized model writes it with (the scale of
 * the int8 tensor its DEQUANTIZE reads, else of the QUANTIZE that reads it in): a property of the model, so a
 * figure means the same on any clips and from the first frame, while the reference state is still all zeros, and a
 * state that only carries its own rounding sits near the RMS of a uniform rounding error, 1/√12 of a step, so a
 * value far above it is error carried in. An int32 state counts frames: its unit is one count. A state the model
 * holds unquantized (a dynamic-range or float model on the quantized side) has no step, and falls back to the RMS of
 * the reference's state over the streams, a relative error.
 */
export function stateUnit(model: ResolvedModel, st: StateSpec): StateUnit {
  if (st.output.dtype === 'int32') return { unit: 'count', value: 1 };
  const sg = model.graph.subgraphs[0]!;
  const scaleOf = (t: number | undefined) => {
    const q = t === undefined ? undefined : sg.tensors[t];
    return q && (q.type === 'int8' || q.type === 'uint8') && q.quantization?.scale.length === 1
      ? q.quantization.scale[0]!
      : undefined;
  };
  const writer = sg.operators.find((op) => op.outputs.includes(st.output.tensorIndex));
  const readers = sg.operators.filter((op) => op.inputs.includes(st.input.tensorIndex));
  const step =
    (writer?.opcode === 'DEQUANTIZE' ? scaleOf(writer.inputs[0]) : undefined) ??
    scaleOf(st.output.tensorIndex) ??
    (readers.length === 1 && readers[0]!.opcode === 'QUANTIZE' ? scaleOf(readers[0]!.outputs[0]) : undefined);
  return step ? { unit: 'step', value: step } : { unit: 'reference-rms', value: null };
}

/** The live states of the quantized model (measured) and those it passes through unchanged (listed only). */
export function liveStates(model: ResolvedModel): { live: StateSpec[]; passThrough: string[] } {
  const states = model.signature.states;
  return {
    live: states.filter((s) => !isPassThrough(s)),
    passThrough: states.filter(isPassThrough).map((s) => s.name),
  };
}

/**
 * The group a state is charted in: its block and its kind of buffer (MoViNet names states
 * `state_block<b>_layer<l>_<kind>`), so the layers of one block draw one line; other names stand alone.
 */
export function stateGroup(name: string): string {
  const bare = name.replace(/^state_/, '');
  const m = /^(block\d+)_layer\d+_(.+)$/.exec(bare);
  return (m ? `${m[1]} ${m[2]}` : bare).replace(/_/g, ' ');
}

/**
 * Frames until every stream buffer has been written once: the longest time axis among the states (a buffer
 * [1, T, H, W, C] holds the last T frames). Before it, error changes because the buffers fill, not because it
 * accumulates.
 */
export function longestBuffer(states: readonly StateSpec[]): number {
  return states.reduce((n, s) => (s.input.shape.length === 5 ? Math.max(n, s.input.shape[1]!) : n), 0);
}

/** The share of a stream left out of the trends by default, beyond the buffers. */
const SETTLING_SHARE = 0.1;

/**
 * Frames left out of the trends and means: the longest buffer, or the first tenth of the stream when that is
 * longer. A cumulative pool (MoViNet's head, and every squeeze-excite pool in some exports) averages every frame
 * so far, so no buffer length bounds its fill-up: its error settles as 1/t from the first frame, and a slope
 * fitted across that settling would read as error shrinking. Leaving the first tenth out keeps it out of the fit
 * while fitting nine tenths of the stream.
 */
export function fillUpFrames(states: readonly StateSpec[], framesPerStream: number): number {
  return Math.max(longestBuffer(states), Math.ceil(framesPerStream * SETTLING_SHARE));
}
