import path from 'node:path';
import type { CompiledModel, Tensor as LiteRtTensor } from '@litertjs/core';
import type { ResolvedModel } from '../models/resolve.js';
import { assertRuntimeTensor } from './tensor-check.js';
import {
  requireArray,
  StateLedger,
  zeroArrays,
  type Backend,
  type LoadOptions,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
} from './backend.js';
import { packageDir, packageVersion } from './package-info.js';
import { installWasmShims, loadedGlue } from './wasm-shims.js';

const PACKAGE = '@litertjs/core';
type LiteRt = typeof import('@litertjs/core');

let runtimePromise: Promise<LiteRt> | undefined;

function loadRuntime(): Promise<LiteRt> {
  runtimePromise ??= (async () => {
    const wasmDir = path.join(packageDir(PACKAGE), 'wasm');
    installWasmShims(wasmDir);
    const litert = await import('@litertjs/core');
    // No `threads` option: the non-threaded build has no pthreads at all. Node 20 lacks
    // relaxed SIMD, so LiteRT picks its compat build here; the report records which.
    // LiteRT always tries WebGPU first and warns when there is none; on a CPU benchmark that is noise.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).startsWith('Failed to create default WebGPU device')) warn(...args);
    };
    try {
      await litert.loadLiteRt(wasmDir + path.sep);
    } finally {
      console.warn = warn;
    }
    return litert;
  })();
  return runtimePromise;
}

type Tensors = Record<string, LiteRtTensor>;

class LiteRtSession implements Session {
  readonly runtime = {
    package: PACKAGE,
    version: packageVersion(PACKAGE),
    build: loadedGlue.find((g) => g.startsWith('litert')) ?? 'unknown',
  };
  /** A state is the runtime's own output tensors of the previous step, fed straight back in. */
  private readonly ledger = new StateLedger<Tensors>(this);

  constructor(
    private readonly litert: LiteRt,
    private readonly model: ResolvedModel,
    private readonly compiled: CompiledModel,
    readonly threads: Session['threads'],
  ) {
    const sig = model.signature;
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
      this.model.signature.states.map((s) => [
        s.name,
        new this.litert.Tensor(requireArray(values, s.name), s.input.shape),
      ]),
    );
  }

  initialState(): State {
    return this.ledger.issue(this.tensors(zeroArrays(this.model)));
  }

  stateFrom(values: StateArrays): State {
    return this.ledger.issue(this.tensors(values));
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const sig = this.model.signature;
    const states = this.ledger.take(state);
    const image = new this.litert.Tensor(frame, sig.image.shape);
    try {
      const out = await this.compiled.run({ ...states, [sig.image.name]: image });
      const logitsTensor = out[sig.logits.name]!;
      const logits = logitsTensor.toTypedArray() as Float32Array;
      logitsTensor.delete();
      return { logits, state: this.ledger.issue(Object.fromEntries(sig.states.map((s) => [s.name, out[s.name]!]))) };
    } finally {
      // LiteRT tensors live in WASM memory and are freed only by delete().
      image.delete();
      for (const t of Object.values(states)) t.delete();
    }
  }

  readState(state: State): Map<string, StateTensor> {
    const tensors = this.ledger.peek(state);
    return new Map(Object.entries(tensors).map(([name, t]) => [name, t.toTypedArray() as StateTensor]));
  }

  release(state: State): void {
    for (const t of Object.values(this.ledger.take(state))) t.delete();
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    const sig = this.model.signature;
    const times: number[] = [];
    let states = this.tensors(zeroArrays(this.model));
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      const image = new this.litert.Tensor(frames[i % frames.length]!, sig.image.shape);
      const out = await this.compiled.run({ ...states, [sig.image.name]: image });
      image.delete();
      for (const t of Object.values(states)) t.delete();
      out[sig.logits.name]!.delete();
      states = Object.fromEntries(sig.states.map((s) => [s.name, out[s.name]!]));
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    for (const t of Object.values(states)) t.delete();
    return times;
  }

  dispose(): void {
    for (const tensors of this.ledger.drain()) for (const t of Object.values(tensors)) t.delete();
    this.compiled.delete();
  }
}

export const liteRtBackend: Backend = {
  name: 'litert',
  maxThreads: 1,
  noProfiler: '@litertjs/core exposes no per-op profiler (its CompiledModel.run has no profiling option)',
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const litert = await loadRuntime();
    const compiled = await litert.loadAndCompile(model.bytes.slice(), {
      accelerator: 'wasm',
      cpuOptions: { numThreads: opts.threads },
    });
    return new LiteRtSession(litert, model, compiled, {
      requested: opts.threads,
      enforcement: 'non-threaded LiteRT WASM build (threads option off, no pthreads) + cpuOptions.numThreads=1',
    });
  },
};
