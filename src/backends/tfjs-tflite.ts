import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import type { TensorSpec } from '../models/signature.js';
import { assertRuntimeTensor } from './tensor-check.js';
import {
  requireArray,
  StateLedger,
  zeroArrays,
  type Backend,
  type LoadOptions,
  type OpProfiler,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
} from './backend.js';
import type { NodeTime } from '../metrics/profile.js';
import { packageDir, packageVersion, requireCjs } from './package-info.js';
import { installWasmShims, loadedGlue } from './wasm-shims.js';

const PACKAGE = '@tensorflow/tfjs-tflite';

/** The subset of the package's TFLiteWebModelRunner this backend uses: raw buffers, no tfjs tensors. */
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
  /** The last infer()'s node times, when loaded with enableProfiling. */
  getProfilingResults(): { nodeType: string; nodeName: string; nodeExecMs: number }[];
}
interface TfliteModule {
  loadTFLiteModel(model: ArrayBuffer, options: RunnerOptions): Promise<{ modelRunner: Runner }>;
}

let modulePromise: Promise<TfliteModule> | undefined;
/** Loads run one at a time: two concurrent first loads race the package's WASM start-up and fail inside it. */
let loadQueue: Promise<unknown> = Promise.resolve();

function loadModule(): Promise<TfliteModule> {
  modulePromise ??= (async () => {
    // The package starts fetching its WASM glue as soon as it is required, so the shims go first.
    installWasmShims(path.join(packageDir(PACKAGE), 'wasm'));
    return requireCjs(PACKAGE) as TfliteModule;
  })();
  return modulePromise;
}

type RunnerOptions = { numThreads: number; enableProfiling?: boolean; maxProfilingBufferEntries?: number };

/** A TFLite interpreter on these bytes; the one way this package is loaded, queued so loads never overlap. */
export async function loadTfliteRunner(bytes: ArrayBuffer, options: RunnerOptions): Promise<Runner> {
  const tflite = await loadModule();
  const loading = loadQueue.then(() => tflite.loadTFLiteModel(bytes, options));
  loadQueue = loading.catch(() => undefined);
  return (await loading).modelRunner;
}

function runnerTensor(tensors: RunnerTensor[], spec: TensorSpec, side: 'input' | 'output'): RunnerTensor {
  const t = tensors.find((x) => x.name === spec.tensorName);
  assertRuntimeTensor('tfjs-tflite', side, spec, t && { shape: t.shape.split(',').map(Number), dtype: t.dataType });
  return t!;
}

/**
 * Where a state's values are: zeros, JS arrays, or the runner's output
 * buffers of a given step (valid until the next infer()).
 */
type Payload = { kind: 'zero' } | { kind: 'arrays'; values: StateArrays } | { kind: 'outputs'; step: number };

class TfjsTfliteSession implements Session {
  readonly runtime = {
    package: PACKAGE,
    version: packageVersion(PACKAGE),
    build: loadedGlue.find((g) => g.startsWith('tflite_web_api')) ?? 'unknown',
  };
  private readonly image: RunnerTensor;
  private readonly logits: RunnerTensor;
  private readonly states: { name: string; input: RunnerTensor; output: RunnerTensor }[];
  private readonly ledger = new StateLedger<Payload>(this);
  private steps = 0;
  readonly profiler?: OpProfiler;
  private readonly profiled: NodeTime[][] = [];

  constructor(
    private readonly model: ResolvedModel,
    private readonly runner: Runner,
    readonly threads: Session['threads'],
    profile: boolean,
  ) {
    if (profile) {
      // TFLite's profiler keeps the last invocation only: each step's node times are collected after it.
      this.profiler = {
        source: 'TFLite op profiler (enableProfiling)',
        nodeTimes: async (skip) => this.profiled.slice(skip).flat(),
      };
    }
    const ins = runner.getInputs();
    const outs = runner.getOutputs();
    const sig = model.signature;
    this.image = runnerTensor(ins, sig.image, 'input');
    this.logits = runnerTensor(outs, sig.logits, 'output');
    this.states = sig.states.map((s) => ({
      name: s.name,
      input: runnerTensor(ins, s.input, 'input'),
      output: runnerTensor(outs, s.output, 'output'),
    }));
  }

  initialState(): State {
    return this.ledger.issue({ kind: 'zero' });
  }

  stateFrom(values: StateArrays): State {
    for (const s of this.states) requireArray(values, s.name);
    return this.ledger.issue({ kind: 'arrays', values });
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
    if (!this.runner.infer()) throw new Error('tfjs-tflite: inference failed');
    this.steps++;
    if (this.profiler) {
      this.profiled.push(
        this.runner.getProfilingResults().map((r) => ({ node: r.nodeName, op: r.nodeType, ms: r.nodeExecMs })),
      );
    }
    return {
      logits: (this.logits.data() as Float32Array).slice(),
      state: this.ledger.issue({ kind: 'outputs', step: this.steps }),
    };
  }

  readState(state: State): Map<string, StateTensor> {
    const p = this.current(this.ledger.peek(state));
    if (p.kind === 'zero') return zeroArrays(this.model);
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
    const times: number[] = [];
    for (const s of this.states) s.input.data().fill(0);
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      this.image.data().set(frames[i % frames.length]!);
      for (const s of this.states) s.input.data().set(s.output.data());
      this.runner.infer();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    this.steps++;
    return times;
  }

  dispose(): void {
    this.ledger.drain();
    this.runner.cleanUp();
  }
}

export const tfjsTfliteBackend: Backend = {
  name: 'tfjs-tflite',
  maxThreads: 1,
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const bytes = model.bytes.slice().buffer;
    // numThreads must be given: without `navigator` the package would otherwise fail computing a default.
    const profiling = {
      enableProfiling: true,
      maxProfilingBufferEntries: 4 * model.graph.subgraphs[0]!.operators.length,
    };
    const runner = await loadTfliteRunner(bytes, { numThreads: opts.threads, ...(opts.profile ? profiling : {}) });
    const threads = {
      requested: opts.threads,
      enforcement:
        'single-thread SIMD WASM build (the pthread build is never loaded) + numThreads=1 passed to the interpreter and XNNPACK',
    };
    return new TfjsTfliteSession(model, runner, threads, opts.profile ?? false);
  },
};
