import { UserError } from '../util/errors.js';
import type { Backend } from './backend.js';
import { liteRtBackend } from './litert.js';
import { tfjsTfliteBackend } from './tfjs-tflite.js';
import { onnxRuntimeBackend, onnxRuntimeExactBackend, onnxRuntimeFloatBackend } from './onnxruntime.js';
import { onnxRuntimeWebBackend, onnxRuntimeWebExactBackend, onnxRuntimeWebFloatBackend } from './onnxruntime-web.js';
import { tfliteNativeBuiltinBackend, tfliteNativeXnnpackBackend } from './tflite-native.js';

const BACKENDS: readonly Backend[] = [
  tfjsTfliteBackend,
  liteRtBackend,
  onnxRuntimeBackend,
  onnxRuntimeExactBackend,
  onnxRuntimeFloatBackend,
  onnxRuntimeWebBackend,
  onnxRuntimeWebFloatBackend,
  onnxRuntimeWebExactBackend,
  tfliteNativeXnnpackBackend,
  tfliteNativeBuiltinBackend,
];

export const BACKEND_NAMES = BACKENDS.map((b) => b.name);
/** Native TFLite stays out until every baseline `ab` may meet has it (ab refuses backends its baseline lacks). */
export const DEFAULT_BACKENDS = ['tfjs-tflite', 'litert', 'onnxruntime'];
/** The same runtimes' browser builds: onnxruntime-node has none, its WASM build stands in. */
export const BROWSER_DEFAULT_BACKENDS = ['tfjs-tflite', 'litert', 'onnxruntime-web'];

export function getBackend(name: string): Backend {
  const b = BACKENDS.find((x) => x.name === name);
  if (!b) throw new UserError(`unknown backend '${name}'; known: ${BACKEND_NAMES.join(', ')}`);
  return b;
}

/** Thread counts are checked before anything is loaded, so a bad flag costs nothing. */
export function checkThreads(backend: Backend, threads: number): void {
  if (threads > backend.maxThreads) {
    const why = backend.maxThreadsWhy
      ? ` ${backend.maxThreadsWhy}`
      : backend.maxThreads === 1
        ? ' in Node (its multi-threaded WASM build needs browser Workers)'
        : ` on this ${backend.maxThreads}-core machine`;
    throw new UserError(
      `backend ${backend.name} runs on at most ${backend.maxThreads} thread${backend.maxThreads > 1 ? 's' : ''}${why}; --threads ${threads} is not possible`,
    );
  }
}
