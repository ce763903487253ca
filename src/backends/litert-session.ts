import type { CompiledModel, Tensor as LiteRtTensor } from '@litertjs/core';
import type { StreamSignature } from '../models/signature.js';
import {
  requireArray,
  StateLedger,
  timeEach,
  zeroArrays,
  type RuntimeInfo,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
  type ThreadInfo,
} from './backend.js';
import { assertRuntimeTensor } from './tensor-check.js';

export type LiteRt = typeof import('@litertjs/core');
type Tensors = Record<string, LiteRtTensor>;

/** A LiteRT compiled model stepping a stream: the same code in Node and in the browser page. */
export class LiteRtSession implements Session {
  /** A state is the runtime's own output tensors of the previous step, fed straight back in. */
  private readonly ledger = new StateLedger<Tensors>(this);

  constructor(
    private readonly litert: LiteRt,
    private readonly signature: StreamSignature,
    private readonly compiled: CompiledModel,
    readonly threads: ThreadInfo,
    readonly runtime: RuntimeInfo,
  ) {
    const sig = signature;
    const ins = compiled.getInputDetails();
    const outs = compiled.getOutputDetails();
    // LiteRT names tensors by signature name, so these are checked by that name.
    const check = (side: 'input' | 'output', details: typeof ins, spec: typeof sig.image) => {
      const d = details.find((x) => x.name === spec.name);
      assertRuntimeTensor('litert', side, { ...spec, tensorName: spec.name }, d && { shape: d.shape, dtype: d.dtype });
    };
    check('input', ins, sig.image);
    check('output', outs, sig.logits);
    for (const s of sig.states) {
      check('input', ins, s.input);
      check('output', outs, s.output);
    }
  }

  private tensors(values: StateArrays): Tensors {
    return Object.fromEntries(
      this.signature.states.map((s) => [s.name, new this.litert.Tensor(requireArray(values, s.name), s.input.shape)]),
    );
  }

  initialState(): State {
    return this.ledger.issue(this.tensors(zeroArrays(this.signature)));
  }

  stateFrom(values: StateArrays): State {
    return this.ledger.issue(this.tensors(values));
  }

  /** One frame; the input tensors are freed (LiteRT tensors live in WASM memory until delete()). */
  private async run(frame: Float32Array, states: Tensors): Promise<{ logits: LiteRtTensor; next: Tensors }> {
    const sig = this.signature;
    const image = new this.litert.Tensor(frame, sig.image.shape);
    try {
      const out = await this.compiled.run({ ...states, [sig.image.name]: image });
      return { logits: out[sig.logits.name]!, next: Object.fromEntries(sig.states.map((s) => [s.name, out[s.name]!])) };
    } finally {
      image.delete();
      for (const t of Object.values(states)) t.delete();
    }
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const { logits, next } = await this.run(frame, this.ledger.take(state));
    const values = logits.toTypedArray() as Float32Array;
    logits.delete();
    return { logits: values, state: this.ledger.issue(next) };
  }

  readState(state: State): Map<string, StateTensor> {
    const tensors = this.ledger.peek(state);
    return new Map(Object.entries(tensors).map(([name, t]) => [name, t.toTypedArray() as StateTensor]));
  }

  release(state: State): void {
    for (const t of Object.values(this.ledger.take(state))) t.delete();
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    let states = this.tensors(zeroArrays(this.signature));
    const times = await timeEach(count, async (i) => {
      const { logits, next } = await this.run(frames[i % frames.length]!, states);
      logits.delete();
      states = next;
    });
    for (const t of Object.values(states)) t.delete();
    return times;
  }

  dispose(): void {
    for (const tensors of this.ledger.drain()) for (const t of Object.values(tensors)) t.delete();
    this.compiled.delete();
  }
}
