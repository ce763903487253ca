import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { Precision } from '../convert/context.js';
import type { StateCodec } from '../convert/int8-states.js';
import { onnxOutputName } from '../convert/names.js';
import { isPassThrough, type StateSpec, type StreamSignature, type TensorSpec } from '../models/signature.js';
import {
  requireArray,
  StateLedger,
  timeEach,
  zeroArray,
  type OpProfiler,
  type RuntimeInfo,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
  type ThreadInfo,
} from './backend.js';
import { assertRuntimeTensor } from './tensor-check.js';

/**
 * What this file needs of an onnxruntime JS package: onnxruntime-node and
 * onnxruntime-web both implement onnxruntime-common's API, so one session
 * class serves the native runtime, its WASM build in Node and the page.
 */
export interface OrtApi {
  Tensor: new (
    type: 'float32' | 'int32' | 'uint8',
    data: Float32Array | Int32Array | Uint8Array,
    dims: readonly number[],
  ) => OrtTensor;
}

/** Float values to uint8 codes as QuantizeLinear does (float32 division, round half to even, saturate). */
export function quantize(values: Float32Array, c: StateCodec): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = Math.fround(values[i]! / c.scale);
    const r = Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
    out[i] = Math.min(255, Math.max(0, r + c.zeroPoint));
  }
  return out;
}

/** uint8 codes to float values as DequantizeLinear does: (code - zero point) * scale in float32. */
export function dequantize(codes: Uint8Array, c: StateCodec): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = (codes[i]! - c.zeroPoint) * c.scale;
  return out;
}
type Feeds = Record<string, OrtTensor>;

/**
 * Throws unless the session has a tensor of this name on this side. onnxruntime-common's session lists names only,
 * so the name is all there is to check: the shape and dtype are taken as the signature's.
 */
export function assertOnnxTensor(
  names: readonly string[],
  side: 'input' | 'output',
  spec: TensorSpec,
  name: string,
): void {
  assertRuntimeTensor('onnxruntime', side, { ...spec, tensorName: name }, names.includes(name) ? spec : undefined);
}

export const PRECISION_LABEL: Record<Precision, string> = {
  float: 'fp32',
  int8: 'int8 QDQ',
  'int8-exact': 'int8 arithmetic emulated in fp32 ops',
};

/** Session options shared by every onnxruntime target, and how they pin the threads (for the report). */
export function onnxSessionOptions(
  precision: Precision,
  threads: number,
): { options: InferenceSession.SessionOptions; enforcement: string } {
  // Level-1 fusions fold the exact mode's requantization Mul into the Conv weights, which makes the
  // integer accumulation inexact; that mode therefore runs the graph as written.
  const optimization = precision === 'int8-exact' ? 'disabled' : 'all';
  const threading = `intraOpNumThreads=${threads}, interOpNumThreads=${threads}, executionMode=sequential`;
  return {
    options: {
      intraOpNumThreads: threads,
      interOpNumThreads: threads,
      executionMode: 'sequential',
      graphOptimizationLevel: optimization,
      logSeverityLevel: 3,
    },
    enforcement: `${threading}, graph optimization ${optimization}`,
  };
}

/**
 * A state: the tensors of the live states (written by the graph every frame)
 * and of the pass-through states (an output that is its own input in the
 * source graph: never requested from the runtime, carried as they are).
 */
interface StateSet {
  live: Feeds;
  passThrough: Feeds;
}

/** A converted graph on an onnxruntime session, stepping a stream. */
export class OnnxSession implements Session {
  private readonly ledger = new StateLedger<StateSet>(this);
  private readonly live: StateSpec[];
  private readonly passThrough: StateSpec[];
  private readonly logitsName: string;
  /**
   * Live-state buffers free for the next frame's outputs (a stream alternates
   * between two sets), when the runtime writes into pre-allocated outputs.
   */
  private readonly free: Feeds[] = [];

  constructor(
    private readonly ort: OrtApi,
    private readonly signature: StreamSignature,
    private readonly session: InferenceSession,
    readonly threads: ThreadInfo,
    readonly runtime: RuntimeInfo,
    /**
     * Whether the live states' outputs are given to the runtime pre-allocated.
     * onnxruntime-node writes into them; onnxruntime-web returns wrong values
     * for pre-allocated outputs (the states part from the second frame on:
     * test/backends.test.ts), so it allocates its own.
     */
    private readonly preallocate: boolean,
    /** Live states the graph takes and gives as uint8 codes (int8-states.ts); the rest are float or int32. */
    private readonly codecs: ReadonlyMap<string, StateCodec>,
    readonly profiler?: OpProfiler,
  ) {
    this.live = signature.states.filter((st) => !isPassThrough(st));
    this.passThrough = signature.states.filter(isPassThrough);
    this.logitsName = onnxOutputName(signature.logits.name, false);
    assertOnnxTensor(session.inputNames, 'input', signature.image, signature.image.name);
    assertOnnxTensor(session.outputNames, 'output', signature.logits, this.logitsName);
    for (const st of signature.states) {
      assertOnnxTensor(session.inputNames, 'input', st.input, st.name);
      assertOnnxTensor(session.outputNames, 'output', st.output, onnxOutputName(st.name, true));
    }
  }

  /** A state's runtime tensor holding `data` (zeros when absent), as codes for an int8 state. */
  private tensor(name: string, spec: TensorSpec, data?: StateTensor): OrtTensor {
    const values = data ?? zeroArray(spec);
    const codec = this.codecs.get(name);
    if (codec && values instanceof Float32Array)
      return new this.ort.Tensor('uint8', quantize(values, codec), spec.shape);
    return values instanceof Int32Array
      ? new this.ort.Tensor('int32', values, spec.shape)
      : new this.ort.Tensor('float32', values, spec.shape);
  }

  /** Copies the values in, so the runtime never writes into an array the caller still holds. */
  private stateSet(values: StateArrays | null): StateSet {
    const make = (specs: StateSpec[]) =>
      Object.fromEntries(
        specs.map((st) => [
          st.name,
          this.tensor(st.name, st.input, values ? requireArray(values, st.name).slice() : undefined),
        ]),
      );
    return { live: make(this.live), passThrough: make(this.passThrough) };
  }

  initialState(): State {
    return this.ledger.issue(this.stateSet(null));
  }

  stateFrom(values: StateArrays): State {
    return this.ledger.issue(this.stateSet(values));
  }

  private outputBuffers(): Feeds {
    if (!this.preallocate) return {};
    return this.free.pop() ?? Object.fromEntries(this.live.map((st) => [st.name, this.tensor(st.name, st.output)]));
  }

  /** A stream alternates between two sets; more would only grow with every stream started. */
  private recycle(live: Feeds): void {
    if (this.preallocate && this.free.length < 2) this.free.push(live);
  }

  /** One frame; the runtime writes the next live states into reused buffers and the inputs' buffers become free. */
  private async run(frame: Float32Array, states: StateSet): Promise<{ logits: Float32Array; next: StateSet }> {
    const sig = this.signature;
    const out = this.outputBuffers();
    const fetches: Record<string, OrtTensor | null> = { [this.logitsName]: null };
    for (const st of this.live) fetches[onnxOutputName(st.name, true)] = this.preallocate ? out[st.name]! : null;
    const result = await this.session.run(
      {
        ...states.live,
        ...states.passThrough,
        [sig.image.name]: new this.ort.Tensor('float32', frame, sig.image.shape),
      },
      fetches as InferenceSession.FetchesType,
    );
    this.recycle(states.live);
    const next = Object.fromEntries(this.live.map((st) => [st.name, result[onnxOutputName(st.name, true)]!]));
    return {
      logits: result[this.logitsName]!.data as Float32Array,
      next: { live: next, passThrough: states.passThrough },
    };
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const { logits, next } = await this.run(frame, this.ledger.take(state));
    return { logits, state: this.ledger.issue(next) };
  }

  readState(state: State): Map<string, StateTensor> {
    const set = this.ledger.peek(state);
    return new Map(
      Object.entries({ ...set.live, ...set.passThrough }).map(([name, t]) => {
        const codec = this.codecs.get(name);
        return [name, codec ? dequantize(t.data as Uint8Array, codec) : (t.data as StateTensor).slice()];
      }),
    );
  }

  release(state: State): void {
    this.recycle(this.ledger.take(state).live);
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    let states = this.stateSet(null);
    const times = await timeEach(count, async (i) => {
      states = (await this.run(frames[i % frames.length]!, states)).next;
    });
    this.recycle(states.live);
    return times;
  }

  dispose(): void {
    this.ledger.drain();
    releaseSession(this.session, this.profiler);
  }
}

/**
 * Frees a session, then what its profiler kept (onnxruntime ends an unread trace when the session is freed).
 * Nothing waits on a released session; a failure to free it has no one to tell.
 */
export function releaseSession(session: InferenceSession, profiler: OpProfiler | undefined): void {
  const freed = () => profiler?.dispose?.();
  session.release().then(freed, freed);
}
