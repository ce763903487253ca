import { UserError } from '../util/errors.js';
import type { Backend } from './backend.js';
import { liteRtBackend } from './litert.js';
import { tfjsTfliteBackend } from './tfjs-tflite.js';
import { onnxRuntimeBackend, onnxRuntimeExactBackend, onnxRuntimeFloatBackend } from './onnxruntime.js';
import { onnxRuntimeWebBackend, onnxRuntimeWebExactBackend, onnxRuntimeWebFloatBackend } from './onnxruntime-web.js';
import { tfliteNativeBuiltinBackend, tfliteNativeXnnpackBackend } from './tflite-native.js';

const BUILT_IN: readonly Backend[] = [
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

/** The built-in backends, then any registered after them (a runtime of the user's, or a test's). */
const BACKENDS: Backend[] = [...BUILT_IN];

/**
 * Adds a backend: everything else (bench, accuracy, parity, the roofline, the browser target, the reports) reads
 * its name and its facts, so nothing else changes. A name already taken is refused.
 */
export function registerBackend(backend: Backend): void {
  if (BACKENDS.some((b) => b.name === backend.name)) throw new UserError(`a backend named '${backend.name}' exists`);
  BACKENDS.push(backend);
}

export const BACKEND_NAMES = BUILT_IN.map((b) => b.name);
/** Native TFLite stays out until every baseline `ab` may meet has it (ab refuses backends its baseline lacks). */
export const DEFAULT_BACKENDS = ['tfjs-tflite', 'litert', 'onnxruntime'];
/** The same runtimes' browser builds: onnxruntime-node has none, its WASM build stands in. */
export const BROWSER_DEFAULT_BACKENDS = ['tfjs-tflite', 'litert', 'onnxruntime-web'];

export function findBackend(name: string): Backend | undefined {
  return BACKENDS.find((x) => x.name === name);
}

export function getBackend(name: string): Backend {
  const b = findBackend(name);
  if (!b) throw new UserError(`unknown backend '${name}'; known: ${BACKENDS.map((x) => x.name).join(', ')}`);
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
    const most = `${backend.maxThreads} thread${backend.maxThreads > 1 ? 's' : ''}`;
    throw new UserError(`backend ${backend.name} runs on at most ${most}${why}; --threads ${threads} is not possible`);
  }
}
