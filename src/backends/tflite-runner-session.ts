import type { StreamSignature, TensorSpec } from '../models/signature.js';
import {
  requireArray,
  StateLedger,
  timeEach,
  zeroArrays,
  type ProfileWindow,
  type RuntimeInfo,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
  type ThreadInfo,
} from './backend.js';
import { assertRuntimeTensor } from './tensor-check.js';
import { SummaryProfiler } from './tflite-profile.js';

/** The subset of @tensorflow/tfjs-tflite's TFLiteWebModelRunner used here: raw buffers, no tfjs tensors. */
export interface RunnerTensor {
  name: string;
  shape: string;
  dataType: string;
  data(): Float32Array | Int32Array | Int8Array | Uint8Array;
}
export interface Runner {
  getInputs(): RunnerTensor[];
  getOutputs(): RunnerTensor[];
  infer(): boolean;
  cleanUp(): void;
  /** The op profiler's summary, when loaded with enableProfiling (see tflite-profile.ts). */
  getProfilingSummary(): string;
}

function runnerTensor(
  label: string,
  tensors: RunnerTensor[],
  spec: TensorSpec,
  side: 'input' | 'output',
): RunnerTensor {
  const t = tensors.find((x) => x.name === spec.tensorName);
  assertRuntimeTensor(label, side, spec, t && { shape: t.shape.split(',').map(Number), dtype: t.dataType });
  return t!;
}

/**
 * Where a state's values are: zeros, JS arrays, or the runner's output
 * buffers of a given step (valid until the next infer()).
 */
type Payload = { kind: 'zero' } | { kind: 'arrays'; values: StateArrays } | { kind: 'outputs'; step: number };

/**
 * A TFLite interpreter stepping a stream: tfjs-tflite's in Node and in the browser page, and the native
 * C library's (tflite-native.ts), whose runner gives the same raw-buffer view of its tensors.
 */
export class TfliteRunnerSession implements Session {
  private readonly image: RunnerTensor;
  private readonly logits: RunnerTensor;
  private readonly states: { name: string; input: RunnerTensor; output: RunnerTensor }[];
  private readonly ledger = new StateLedger<Payload>(this);
  private steps = 0;
  readonly profiler?: SummaryProfiler;

  constructor(
    private readonly signature: StreamSignature,
    private readonly runner: Runner,
    readonly threads: ThreadInfo,
    readonly runtime: RuntimeInfo,
    profile?: ProfileWindow,
  ) {
    if (profile) this.profiler = new SummaryProfiler(runner, profile);
    const ins = runner.getInputs();
    const outs = runner.getOutputs();
    const label = runtime.package;
    this.image = runnerTensor(label, ins, signature.image, 'input');
    this.logits = runnerTensor(label, outs, signature.logits, 'output');
    this.states = signature.states.map((s) => ({
      name: s.name,
      input: runnerTensor(label, ins, s.input, 'input'),
      output: runnerTensor(label, outs, s.output, 'output'),
    }));
  }

  initialState(): State {
    return this.ledger.issue({ kind: 'zero' });
  }

  /** Copies the values in, so a caller that changes its arrays later does not change this state. */
  stateFrom(values: StateArrays): State {
    const copy = new Map(this.states.map((s) => [s.name, requireArray(values, s.name).slice()]));
    return this.ledger.issue({ kind: 'arrays', values: copy });
  }

  private current(p: Payload): Payload {
    if (p.kind === 'outputs' && p.step !== this.steps)
      throw new Error('this state is stale: the runner has stepped since it was made');
    return p;
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const p = this.current(this.ledger.take(state));
    // data() views are fetched per call: WASM memory growth detaches older views.
    this.image.data().set(frame);
    for (const s of this.states) {
      const input = s.input.data();
      if (p.kind === 'zero') input.fill(0);
      else if (p.kind === 'arrays') input.set(requireArray(p.values, s.name));
      else input.set(s.output.data());
    }
    if (!this.runner.infer()) throw new Error(`${this.runtime.package}: inference failed`);
    this.steps++;
    this.profiler?.stepped();
    return {
      logits: (this.logits.data() as Float32Array).slice(),
      state: this.ledger.issue({ kind: 'outputs', step: this.steps }),
    };
  }

  readState(state: State): Map<string, StateTensor> {
    const p = this.current(this.ledger.peek(state));
    if (p.kind === 'zero') return zeroArrays(this.signature);
    const out = new Map<string, StateTensor>();
    for (const s of this.states)
      out.set(
        s.name,
        (p.kind === 'arrays' ? requireArray(p.values, s.name) : (s.output.data() as StateTensor)).slice(),
      );
    return out;
  }

  release(state: State): void {
    this.ledger.take(state);
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    for (const s of this.states) s.input.data().fill(0);
    const times = await timeEach(count, (i) => {
      this.image.data().set(frames[i % frames.length]!);
      for (const s of this.states) s.input.data().set(s.output.data());
      this.runner.infer();
    });
    this.steps++;
    return times;
  }

  dispose(): void {
    this.ledger.drain();
    this.runner.cleanUp();
  }
}
