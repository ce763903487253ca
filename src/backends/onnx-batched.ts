import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { StateCodec } from '../convert/int8-states.js';
import { onnxOutputName } from '../convert/names.js';
import { isPassThrough, type StreamSignature, type TensorSpec } from '../models/signature.js';
import type { BatchedSession, OpProfiler, RuntimeInfo, SlotFrame, StateTensor, ThreadInfo } from './backend.js';
import { assertOnnxTensor, dequantize, quantize, releaseSession, type OrtApi } from './onnx-session.js';

type RowType = 'float32' | 'int32' | 'uint8';
type Rows = Float32Array | Int32Array | Uint8Array;

function rowsOf(type: RowType, length: number): Rows {
  return type === 'uint8'
    ? new Uint8Array(length)
    : type === 'int32'
      ? new Int32Array(length)
      : new Float32Array(length);
}

/** One state input of the batch: every slot's row of it, and what a reset writes there. */
interface BatchedState {
  name: string;
  /** The graph output of a live state; a pass-through state is fed and never fetched. */
  output: string | null;
  type: RowType;
  /** One stream's shape (leading 1) and number of values. */
  shape: readonly number[];
  row: number;
  /** What zero is in this state's rows: a quantized state's zero point, not 0. */
  zero: number;
  codec?: StateCodec;
  /** Every slot's states, as the last call that stepped it left them. */
  rows: Rows;
  /** Where the runtime writes the next states of a call; it changes place with `rows` after a call of every slot. */
  spare: Rows | null;
  /** A call's rows gathered in its order, when its slots are not the first ones in order. */
  gathered: Rows | null;
}

/**
 * A free-batch graph on an onnxruntime session (onnxruntime-common's API, so the node and WASM builds share it):
 * `slots` streams whose states stay in this object's arrays between calls, one row per slot. A call whose
 * slots are 0..n-1 in order reads those rows in place; any other order is gathered into rows of its own and
 * scattered back, so a slot's states follow the slot whatever the order of arrival. Where the runtime writes
 * into given outputs (onnxruntime-node), the output arrays are allocated once per session and a call of every
 * slot swaps them with the states instead of copying.
 */
export class OnnxBatchedSession implements BatchedSession {
  private readonly states: BatchedState[];
  private readonly image: Float32Array;
  private readonly imageRow: number;
  private readonly logits: Float32Array;
  private readonly classes: number;
  private readonly logitsName: string;
  private readonly taken: boolean[];
  /** Runtime tensors over the first n rows of an array, made once per array and n. */
  private readonly views = new WeakMap<Rows, Map<number, OrtTensor>>();

  constructor(
    private readonly ort: OrtApi,
    private readonly signature: StreamSignature,
    private readonly session: InferenceSession,
    readonly threads: ThreadInfo,
    readonly runtime: RuntimeInfo,
    /** Whether the runtime writes into pre-allocated outputs correctly (see OnnxSession). */
    private readonly preallocate: boolean,
    codecs: ReadonlyMap<string, StateCodec>,
    readonly slots: number,
    readonly profiler?: OpProfiler,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`a batched session needs 1 or more slots, not ${slots}`);
    const size = (spec: TensorSpec) => spec.shape.reduce((a, b) => a * b, 1);
    this.logitsName = onnxOutputName(signature.logits.name, false);
    assertOnnxTensor(session.inputNames, 'input', signature.image, signature.image.name);
    assertOnnxTensor(session.outputNames, 'output', signature.logits, this.logitsName);
    this.states = signature.states.map((st) => {
      const live = !isPassThrough(st);
      const output = live ? onnxOutputName(st.name, true) : null;
      assertOnnxTensor(session.inputNames, 'input', st.input, st.name);
      if (output) assertOnnxTensor(session.outputNames, 'output', st.output, output);
      const codec = codecs.get(st.name);
      const type: RowType = codec ? 'uint8' : st.input.dtype === 'int32' ? 'int32' : 'float32';
      const row = size(st.input);
      // The zero state initialState() gives a single stream: float zeros, quantized as the graph reads them.
      const zero = codec ? quantize(Float32Array.of(0), codec)[0]! : 0;
      const rows = rowsOf(type, slots * row).fill(zero);
      const spare = live && preallocate ? rowsOf(type, slots * row) : null;
      return { name: st.name, output, type, shape: st.input.shape, row, zero, codec, rows, spare, gathered: null };
    });
    this.imageRow = size(signature.image);
    this.image = new Float32Array(slots * this.imageRow);
    this.classes = size(signature.logits);
    this.logits = new Float32Array(slots * this.classes);
    this.taken = new Array<boolean>(slots).fill(false);
  }

  private view(rows: Rows, type: RowType, shape: readonly number[], n: number): OrtTensor {
    let byCount = this.views.get(rows);
    if (!byCount) this.views.set(rows, (byCount = new Map()));
    let t = byCount.get(n);
    if (!t) {
      const length = n * (rows.length / this.slots);
      t = new this.ort.Tensor(type, rows.subarray(0, length), [n, ...shape.slice(1)]);
      byCount.set(n, t);
    }
    return t;
  }

  open(): number {
    const slot = this.taken.indexOf(false);
    if (slot < 0) throw new Error(`all ${this.slots} slots of this batched session are taken`);
    this.taken[slot] = true;
    for (const st of this.states) st.rows.fill(st.zero, slot * st.row, (slot + 1) * st.row);
    return slot;
  }

  close(slot: number): void {
    this.requireOpen(slot);
    this.taken[slot] = false;
  }

  private requireOpen(slot: number): void {
    if (!this.taken[slot]) throw new Error(`slot ${slot} is not open in this batched session`);
  }

  async step(frames: readonly SlotFrame[]): Promise<Float32Array[]> {
    const n = frames.length;
    if (n < 1 || n > this.slots) throw new Error(`a call steps 1 to ${this.slots} streams, not ${n}`);
    const seen = new Set<number>();
    for (const { slot, frame } of frames) {
      this.requireOpen(slot);
      if (seen.has(slot)) throw new Error(`slot ${slot} is stepped twice in one call`);
      seen.add(slot);
      if (frame.length !== this.imageRow)
        throw new Error(`a frame has ${frame.length} values; the model takes ${this.imageRow}`);
    }
    const inPlace = frames.every((f, k) => f.slot === k);
    const sig = this.signature;
    for (const [k, f] of frames.entries()) this.image.set(f.frame, k * this.imageRow);
    const feeds: Record<string, OrtTensor> = { [sig.image.name]: this.view(this.image, 'float32', sig.image.shape, n) };
    for (const st of this.states) {
      let rows = st.rows;
      if (!inPlace) {
        rows = st.gathered ??= rowsOf(st.type, this.slots * st.row);
        for (const [k, f] of frames.entries())
          rows.set(st.rows.subarray(f.slot * st.row, (f.slot + 1) * st.row), k * st.row);
      }
      feeds[st.name] = this.view(rows, st.type, st.shape, n);
    }
    const fetches: Record<string, OrtTensor | null> = {
      [this.logitsName]: this.preallocate ? this.view(this.logits, 'float32', sig.logits.shape, n) : null,
    };
    for (const st of this.states)
      if (st.output) fetches[st.output] = st.spare ? this.view(st.spare, st.type, st.shape, n) : null;
    const result = await this.session.run(feeds, fetches as InferenceSession.FetchesType);
    for (const st of this.states) {
      if (!st.output) continue;
      const next = st.spare ?? (result[st.output]!.data as Rows);
      if (st.spare && inPlace && n === this.slots) [st.rows, st.spare] = [st.spare, st.rows];
      else if (inPlace) st.rows.set(next.subarray(0, n * st.row));
      else
        for (const [k, f] of frames.entries())
          st.rows.set(next.subarray(k * st.row, (k + 1) * st.row), f.slot * st.row);
    }
    const logits = this.preallocate ? this.logits : (result[this.logitsName]!.data as Float32Array);
    return frames.map((_, k) => logits.slice(k * this.classes, (k + 1) * this.classes));
  }

  readState(slot: number): Map<string, StateTensor> {
    this.requireOpen(slot);
    return new Map(
      this.states.map((st) => {
        const row = st.rows.subarray(slot * st.row, (slot + 1) * st.row);
        return [st.name, row instanceof Uint8Array ? dequantize(row, st.codec!) : row.slice()];
      }),
    );
  }

  dispose(): void {
    this.taken.fill(false);
    releaseSession(this.session, this.profiler);
  }
}
