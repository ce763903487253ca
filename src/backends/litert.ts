import path from 'node:path';
import type { CompiledModel, Tensor as LiteRtTensor } from '@litertjs/core';
import type { ResolvedModel } from '../models/resolve.js';
import { assertRuntimeTensor } from './bind.js';
import { requireState, zeroState, type Backend, type LoadOptions, type Session, type State, type StepResult } from './backend.js';
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

class LiteRtSession implements Session {
  readonly runtime = { package: PACKAGE, version: packageVersion(PACKAGE), build: loadedGlue.find((g) => g.startsWith('litert')) ?? 'unknown' };

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

  initialState(): State {
    return zeroState(this.model);
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const sig = this.model.signature;
    const inputs: Record<string, LiteRtTensor> = { [sig.image.name]: new this.litert.Tensor(frame, sig.image.shape) };
    for (const s of sig.states) inputs[s.name] = new this.litert.Tensor(requireState(state, s.name), s.input.shape);
    let outputs: Record<string, LiteRtTensor> | undefined;
    try {
      outputs = await this.compiled.run(inputs);
      const next = new Map<string, Float32Array | Int32Array>();
      for (const s of sig.states) next.set(s.name, outputs[s.name]!.toTypedArray() as Float32Array | Int32Array);
      return { logits: outputs[sig.logits.name]!.toTypedArray() as Float32Array, state: next };
    } finally {
      // LiteRT tensors live in WASM memory and are freed only by delete().
      for (const t of Object.values(inputs)) t.delete();
      for (const t of Object.values(outputs ?? {})) t.delete();
    }
  }

  dispose(): void {
    this.compiled.delete();
  }
}

export const liteRtBackend: Backend = {
  name: 'litert',
  maxThreads: 1,
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const litert = await loadRuntime();
    const compiled = await litert.loadAndCompile(model.bytes.slice(), { accelerator: 'wasm', cpuOptions: { numThreads: opts.threads } });
    return new LiteRtSession(litert, model, compiled, {
      requested: opts.threads,
      enforcement: 'non-threaded LiteRT WASM build (threads option off, no pthreads) + cpuOptions.numThreads=1',
    });
  },
};
