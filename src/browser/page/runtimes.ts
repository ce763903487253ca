import type * as Ort from 'onnxruntime-web';
import type { RuntimeInfo, Session } from '../../backends/backend.js';
import { LiteRtSession, type LiteRt } from '../../backends/litert-session.js';
import { OnnxSession, onnxSessionOptions } from '../../backends/onnx-session.js';
import { TfliteRunnerSession, type Runner } from '../../backends/tflite-runner-session.js';
import type { Precision } from '../../convert/context.js';
import type { StateCodec } from '../../convert/int8-states.js';
import type { StreamSignature } from '../../models/signature.js';
import type { PageOnnx, PageRuntime } from '../protocol.js';

/**
 * How the page loads each runtime's browser build. Stepping is not here: the
 * sessions are the Node backends' own classes (src/backends/*-session.ts),
 * bundled into the page, so both targets run the same per-frame code. Only
 * loading differs (script tags and WASM paths instead of Node's shims).
 */

/** The DOM pieces the page uses; the project compiles without the DOM library. */
interface ScriptElement {
  src: string;
  onload: (() => void) | null;
  onerror: (() => void) | null;
}
interface PageDocument {
  createElement(tag: 'script'): ScriptElement;
  head: { appendChild(el: ScriptElement): void };
}
const doc = (globalThis as unknown as { document: PageDocument }).document;
declare const location: { origin: string };

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const el = doc.createElement('script');
    el.src = src;
    el.onload = () => resolve();
    el.onerror = () => reject(new Error(`cannot load ${src}`));
    doc.head.appendChild(el);
  });
}

export const PKG = '/pkg/';

/** The Node side records the build the page actually fetched (from the server's log) and how threads were pinned. */
const pageInfo = (pkg: string, threads: number): { runtime: RuntimeInfo; threads: Session['threads'] } => ({
  runtime: { package: pkg, version: 'see report', build: 'see report' },
  threads: { requested: threads, enforcement: 'see report' },
});

interface TfliteGlobal {
  setWasmPath(path: string): void;
  loadTFLiteModel(model: ArrayBuffer, options: { numThreads: number }): Promise<{ modelRunner: Runner }>;
}

async function loadTfjsTflite(bytes: ArrayBuffer, sig: StreamSignature, threads: number): Promise<Session> {
  const g = globalThis as unknown as { tflite?: TfliteGlobal };
  if (!g.tflite) {
    // The package's own browser build, which expects tfjs-core as the global `tf`.
    await loadScript(`${PKG}@tensorflow/tfjs-core/dist/tf-core.min.js`);
    await loadScript(`${PKG}@tensorflow/tfjs-tflite/dist/tf-tflite.min.js`);
  }
  const tflite = g.tflite!;
  // Its default WASM location is a CDN: the page must never leave loopback.
  tflite.setWasmPath(`${PKG}@tensorflow/tfjs-tflite/wasm/`);
  const { modelRunner } = await tflite.loadTFLiteModel(bytes, { numThreads: threads });
  const info = pageInfo('@tensorflow/tfjs-tflite', threads);
  return new TfliteRunnerSession(sig, modelRunner, info.threads, info.runtime);
}

let liteRt: Promise<LiteRt> | undefined;

function loadLiteRtModule(threads: number): Promise<LiteRt> {
  liteRt ??= (async () => {
    const litert = await import('@litertjs/core');
    // LiteRT picks its own build from the browser's features; the server's log says which it fetched.
    await litert.loadLiteRt(`${PKG}@litertjs/core/wasm/`, { threads: threads > 1 });
    return litert;
  })();
  return liteRt;
}

async function loadLiteRt(bytes: ArrayBuffer, sig: StreamSignature, threads: number): Promise<Session> {
  const litert = await loadLiteRtModule(threads);
  const compiled = await litert.loadAndCompile(new Uint8Array(bytes), {
    accelerator: 'wasm',
    cpuOptions: { numThreads: threads },
  });
  const info = pageInfo('@litertjs/core', threads);
  return new LiteRtSession(litert, sig, compiled, info.threads, info.runtime);
}

type OrtModule = typeof Ort;
let ortModule: Promise<OrtModule> | undefined;

/** onnxruntime-web's WASM-only entry; its glue and .wasm come from the package's dist folder on this server. */
function loadOrt(threads: number): Promise<OrtModule> {
  ortModule ??= (async () => {
    const ort = (await import('onnxruntime-web/wasm')) as unknown as OrtModule;
    ort.env.wasm.wasmPaths = `${location.origin}${PKG}onnxruntime-web/dist/`;
    // One thread starts no worker: the pthread-capable build then runs on the page's thread alone.
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ortModule;
}

async function loadOnnx(
  bytes: ArrayBuffer,
  sig: StreamSignature,
  precision: Precision,
  codecs: [string, StateCodec][],
  threads: number,
) {
  const ort = await loadOrt(threads);
  const { options } = onnxSessionOptions(precision, threads);
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    ...options,
    executionProviders: ['wasm'],
  });
  const info = pageInfo('onnxruntime-web', threads);
  return new OnnxSession(ort, sig, session, info.threads, info.runtime, false, new Map(codecs));
}

export function loadSession(
  runtime: PageRuntime,
  bytes: ArrayBuffer,
  sig: StreamSignature,
  threads: number,
  onnx?: PageOnnx,
): Promise<Session> {
  switch (runtime) {
    case 'tfjs-tflite':
      return loadTfjsTflite(bytes, sig, threads);
    case 'litert':
      return loadLiteRt(bytes, sig, threads);
    case 'onnxruntime-web':
    case 'onnxruntime-web-float':
    case 'onnxruntime-web-exact':
      if (!onnx) throw new Error(`${runtime}: no description of the converted graph`);
      return loadOnnx(bytes, sig, onnx.precision, onnx.stateCodes, threads);
  }
}
