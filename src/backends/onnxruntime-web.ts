import { onnxBackend, type OnnxPlacement, type OrtPackage } from './onnx-backend.js';

type OrtWeb = typeof import('onnxruntime-web');
let loaded: Promise<OrtWeb> | undefined;

/**
 * onnxruntime-web's Node entry (its WASM CPU build), once per process: its
 * thread count is read when the WASM starts, so the first load fixes it and a
 * later load asking for another count is refused.
 */
async function loadWeb(threads: number): Promise<OrtWeb> {
  loaded ??= (async () => {
    const ort = await import('onnxruntime-web');
    // One thread starts no worker: the SIMD build then runs on the calling thread alone, as in the page.
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  })();
  const ort = await loaded;
  if (ort.env.wasm.numThreads !== threads) {
    const started = `onnxruntime-web started with ${String(ort.env.wasm.numThreads)} threads in this process`;
    throw new Error(`${started}; ${threads} is not possible now`);
  }
  return ort;
}

/** onnxruntime's WASM build in Node, as its backends (and the roofline probe) load it. */
export const WEB: OrtPackage = {
  name: 'onnxruntime-web',
  load: loadWeb,
  build: 'ort-wasm-simd-threaded.wasm (no worker threads), WASM EP',
  executionProviders: ['wasm'],
  preallocatedOutputs: false,
  maxThreads: 1,
  maxThreadsWhy:
    'in Node (this backend measures the single-thread SIMD build; threaded runs are for --target chromium)',
  noProfiler:
    "onnxruntime-web writes its enableProfiling trace into the WASM module's in-memory file system and returns no data",
};

/** The page's thread settings: one thread starts no worker, more start pthread workers. */
function pageEnforcement(threads: number): string {
  const wasm =
    threads === 1
      ? 'env.wasm.numThreads=1 (no worker started: the SIMD build runs on the page thread alone)'
      : `env.wasm.numThreads=${threads} (pthread workers, SharedArrayBuffer)`;
  const session = threads === 1 ? ['intraOpNumThreads=1', 'interOpNumThreads=1'] : [`intraOpNumThreads=${threads}`];
  return [wasm, ...session, 'executionMode=sequential'].join(', ');
}

/** The same converted graphs on onnxruntime's WASM build (single-thread SIMD) in Node: what native buys. */
const WEB_PLACEMENT: OnnxPlacement = {
  probe: 'onnxruntime-web',
  browser: {
    page: {
      glue: /\/(ort-wasm[a-z.-]*\.wasm)$/,
      enforcement: pageEnforcement,
    },
  },
};

export const onnxRuntimeWebBackend = onnxBackend('onnxruntime-web', WEB, 'native', WEB_PLACEMENT);
export const onnxRuntimeWebFloatBackend = onnxBackend('onnxruntime-web-float', WEB, 'float', WEB_PLACEMENT);
export const onnxRuntimeWebExactBackend = onnxBackend('onnxruntime-web-exact', WEB, 'int8-exact', WEB_PLACEMENT);
