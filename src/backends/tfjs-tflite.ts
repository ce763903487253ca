import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import type { Backend, LoadOptions, Session } from './backend.js';
import { packageDir, packageVersion, requireCjs } from './package-info.js';
import { TfliteRunnerSession, type Runner } from './tflite-runner-session.js';
import { installWasmShims, loadedGlue } from './wasm-shims.js';
import { profileBufferEntries } from './tflite-profile.js';

const PACKAGE = '@tensorflow/tfjs-tflite';

export type { Runner, RunnerTensor } from './tflite-runner-session.js';

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

const SINGLE_THREAD_BUILD = 'single-thread SIMD WASM build';

/** The page's thread settings: at one thread the page server hands over the single-thread build. */
function pageEnforcement(threads: number): string {
  const build =
    threads === 1
      ? `${SINGLE_THREAD_BUILD} (the page server answers its request for the pthread build with it)`
      : 'pthread SIMD WASM build (Web Workers, SharedArrayBuffer)';
  return `${build} + numThreads=${threads}`;
}

/** In Node only the single-thread build is ever loaded, and its one thread is passed on. */
const NODE_ENFORCEMENT = [
  `${SINGLE_THREAD_BUILD} (the pthread build is never loaded)`,
  'numThreads=1 passed to the interpreter and XNNPACK',
].join(' + ');

type RunnerOptions = { numThreads: number; enableProfiling?: boolean; maxProfilingBufferEntries?: number };

/** A TFLite interpreter on these bytes; the one way this package is loaded, queued so loads never overlap. */
export async function loadTfliteRunner(bytes: ArrayBuffer, options: RunnerOptions): Promise<Runner> {
  const tflite = await loadModule();
  const loading = loadQueue.then(() => tflite.loadTFLiteModel(bytes, options));
  loadQueue = loading.catch(() => undefined);
  return (await loading).modelRunner;
}

export const tfjsTfliteBackend: Backend = {
  name: 'tfjs-tflite',
  facts: {
    family: 'tflite',
    runtime: PACKAGE,
    precision: 'native',
    probe: 'tfjs-tflite',
    browser: {
      page: {
        glue: /\/(tflite_web_api_cc[a-z_]*\.js)$/,
        enforcement: pageEnforcement,
        // The package asks for its pthread build whenever SharedArrayBuffer exists; at one thread it never runs.
        singleThreadFile: (f) =>
          f.replace(/_simd_threaded\.(js|wasm)$/, '_simd.$1').replace(/_threaded\.(js|wasm)$/, '.$1'),
      },
    },
    batch: { can: false, because: "TFLite graphs' reshape targets are constant [1,...]" },
    locate: { via: 'reference' },
    nativeLibrary: null,
  },
  maxThreads: 1,
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const bytes = model.bytes.slice().buffer;
    // numThreads must be given: without `navigator` the package would otherwise fail computing a default.
    const operators = model.graph.subgraphs[0]?.operators.length ?? 0;
    const profiling = opts.profile
      ? { enableProfiling: true, maxProfilingBufferEntries: profileBufferEntries(operators, opts.profile) }
      : {};
    const runner = await loadTfliteRunner(bytes, { numThreads: opts.threads, ...profiling });
    const threads = {
      requested: opts.threads,
      enforcement: NODE_ENFORCEMENT,
    };
    const runtime = {
      package: PACKAGE,
      version: packageVersion(PACKAGE),
      build: loadedGlue.find((g) => g.startsWith('tflite_web_api')) ?? 'unknown',
    };
    return new TfliteRunnerSession(model.signature, runner, threads, runtime, opts.profile);
  },
};
