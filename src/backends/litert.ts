import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import type { Backend, LoadOptions, Session } from './backend.js';
import { LiteRtSession, type LiteRt } from './litert-session.js';
import { packageDir, packageVersion } from './package-info.js';
import { installWasmShims, loadedGlue } from './wasm-shims.js';

const PACKAGE = '@litertjs/core';

let runtimePromise: Promise<LiteRt> | undefined;

/** The runtime, loaded once for the process (also used by the roofline probe). */
export function loadLiteRtRuntime(): Promise<LiteRt> {
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

export const liteRtBackend: Backend = {
  name: 'litert',
  facts: {
    family: 'tflite',
    runtime: PACKAGE,
    precision: 'native',
    probe: 'litert',
    browser: {
      page: {
        glue: /\/(litert_wasm[a-z_]*\.js)$/,
        enforcement: (threads) =>
          threads === 1
            ? 'non-threaded LiteRT WASM build (loadLiteRt threads: false) + cpuOptions.numThreads=1'
            : `threaded LiteRT WASM build (loadLiteRt threads: true) + cpuOptions.numThreads=${threads}`,
      },
    },
    batch: { can: false, because: "TFLite graphs' reshape targets are constant [1,...]" },
    locate: { via: null, because: 'neither an ONNX graph nor native TFLite: no probes' },
    nativeLibrary: null,
  },
  maxThreads: 1,
  noProfiler: '@litertjs/core exposes no per-op profiler (its CompiledModel.run has no profiling option)',
  async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
    const litert = await loadLiteRtRuntime();
    const compiled = await litert.loadAndCompile(model.bytes.slice(), {
      accelerator: 'wasm',
      cpuOptions: { numThreads: opts.threads },
    });
    const threads = {
      requested: opts.threads,
      enforcement: 'non-threaded LiteRT WASM build (threads option off, no pthreads) + cpuOptions.numThreads=1',
    };
    const runtime = {
      package: PACKAGE,
      version: packageVersion(PACKAGE),
      build: loadedGlue.find((g) => g.startsWith('litert')) ?? 'unknown',
    };
    return new LiteRtSession(litert, model.signature, compiled, threads, runtime);
  },
};
