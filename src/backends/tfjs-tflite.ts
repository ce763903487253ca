import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import type { TensorSpec } from '../models/signature.js';
import { requireState, zeroState, type Backend, type LoadOptions, type Session, type State, type StepResult } from './backend.js';
import { packageDir, packageVersion, requireCjs } from './package-info.js';
import { installWasmShims, loadedGlue } from './wasm-shims.js';
import { assertRuntimeTensor } from './bind.js';

const PACKAGE = '@tensorflow/tfjs-tflite';

/** The subset of the package's TFLiteWebModelRunner this backend uses: raw buffers, no tfjs tensors. */
interface RunnerTensor {
  name: string;
  shape: string;
  dataType: string;
  data(): Float32Array | Int32Array | Int8Array | Uint8Array;
}
interface Runner {
  getInputs(): RunnerTensor[];
  getOutputs(): RunnerTensor[];
  infer(): boolean;
  cleanUp(): void;
}
interface TfliteModule {
  loadTFLiteModel(model: ArrayBuffer, options: { numThreads: number }): Promise<{ modelRunner: Runner }>;
}

let modulePromise: Promise<TfliteModule> | undefined;

function loadModule(): Promise<TfliteModule> {
  modulePromise ??= (async () => {
    // The package starts fetching its WASM glue as soon as it is required, so the shims go first.
    installWasmShims(path.join(packageDir(PACKAGE), 'wasm'));
    return requireCjs(PACKAGE) as TfliteModule;
  })();
  return modulePromise;
}

function bind(tensors: RunnerTensor[], spec: TensorSpec, side: 'input' | 'output'): RunnerTensor {
  const t = tensors.find((x) => x.name === spec.tensorName);
  assertRuntimeTensor('tfjs-tflite', side, spec, t && { shape: t.shape.split(',').map(Number), dtype: t.dataType });
  return t!;
}

class TfjsTfliteSession implements Session {
  private readonly image: RunnerTensor;
  private readonly logits: RunnerTensor;
  private readonly states: { name: string; input: RunnerTensor; output: RunnerTensor }[];

  constructor(
    private readonly model: ResolvedModel,
    private readonly runner: Runner,
    readonly threads: Session['threads'],
  ) {
    const ins = runner.getInputs();
    const outs = runner.getOutputs();
    const sig = model.signature;
    this.image = bind(ins, sig.image, 'input');
    this.logits = bind(outs, sig.logits, 'output');
    this.states = sig.states.map((s) => ({ name: s.name, input: bind(ins, s.input, 'input'), output: bind(outs, s.output, 'output') }));
  }

  readonly runtime = { package: PACKAGE, version: packageVersion(PACKAGE), build: loadedGlue.find((g) => g.startsWith('tflite_web_api')) ?? 'unknown' };

  initialState(): State {
    return zeroState(this.model);
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    // data() views are fetched per call: WASM memory growth detaches older views.
    this.image.data().set(frame);
    for (const s of this.states) s.input.data().set(requireState(state, s.name));
    if (!this.runner.infer()) throw new Error('tfjs-tflite: inference failed');
    const next = new Map<string, Float32Array | Int32Array>();
    for (const s of this.states) next.set(s.name, (s.output.data() as Float32Array | Int32Array).slice());
    return { logits: (this.logits.data() as Float32Array).slice(), state: next };
  }

  dispose(): void {
    this.runner.cleanUp();
  }
}

export const tfjsTfliteBackend: Backend = {
  name: 'tfjs-tflite',
  maxThreads: 1,
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const tflite = await loadModule();
    const bytes = model.bytes.slice().buffer;
    // numThreads must be given: without `navigator` the package would otherwise fail computing a default.
    const loaded = await tflite.loadTFLiteModel(bytes, { numThreads: opts.threads });
    return new TfjsTfliteSession(model, loaded.modelRunner, {
      requested: opts.threads,
      enforcement: 'single-thread SIMD WASM build (the pthread build is never loaded) + numThreads=1 passed to the interpreter and XNNPACK',
    });
  },
};
