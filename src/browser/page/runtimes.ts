import type { CompiledModel, Tensor as LiteRtTensor } from '@litertjs/core';
import type * as Ort from 'onnxruntime-web';
import type { PageOnnxGraph, PageRuntime, PageSignature, PageTensor } from '../protocol.js';
// Types only: erased by esbuild, so no Node code reaches the page.
import type { Runner, RunnerTensor } from '../../backends/tfjs-tflite.js';

/**
 * The page's side of each runtime: the same per-frame work as its Node
 * backend in src/backends (same buffers copied, same tensors made and freed),
 * without Node's shims. States are single-use handles here too.
 */
export interface PageSession {
  initialState(): unknown;
  step(frame: Float32Array, state: unknown): Promise<{ logits: Float32Array; state: unknown }>;
  release(state: unknown): void;
  /** The least work per frame of a correct stream, each frame timed: the overhead reference. */
  bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]>;
  dispose(): void;
}

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

interface TfliteGlobal {
  setWasmPath(path: string): void;
  loadTFLiteModel(model: ArrayBuffer, options: { numThreads: number }): Promise<{ modelRunner: Runner }>;
}

function findTensor(tensors: RunnerTensor[], spec: PageTensor, side: string): RunnerTensor {
  const t = tensors.find((x) => x.name === spec.tensorName);
  if (!t) throw new Error(`tfjs-tflite: no ${side} tensor '${spec.tensorName}' for '${spec.name}'`);
  if (t.shape !== spec.shape.join(',') || t.dataType !== spec.dtype)
    throw new Error(
      `tfjs-tflite: ${side} '${spec.name}' is [${t.shape}] ${t.dataType}, not [${spec.shape}] ${spec.dtype}`,
    );
  return t;
}

async function loadTfjsTflite(bytes: ArrayBuffer, sig: PageSignature, threads: number): Promise<PageSession> {
  const g = globalThis as unknown as { tflite?: TfliteGlobal };
  if (!g.tflite) {
    // The package's own browser build, which expects tfjs-core as the global `tf`.
    await loadScript(`${PKG}@tensorflow/tfjs-core/dist/tf-core.min.js`);
    await loadScript(`${PKG}@tensorflow/tfjs-tflite/dist/tf-tflite.min.js`);
  }
  const tflite = g.tflite!;
  // Its default WASM location is a CDN: the page must never leave loopback.
  tflite.setWasmPath(`${PKG}@tensorflow/tfjs-tflite/wasm/`);
  const { modelRunner: runner } = await tflite.loadTFLiteModel(bytes, { numThreads: threads });
  const ins = runner.getInputs();
  const outs = runner.getOutputs();
  const image = findTensor(ins, sig.image, 'input');
  const logits = findTensor(outs, sig.logits, 'output');
  const states = sig.states.map((s) => ({
    input: findTensor(ins, s.input, 'input'),
    output: findTensor(outs, s.output, 'output'),
  }));
  const live = new Set<object>();
  let steps = 0;
  const issue = (h: { zero: boolean; step: number }) => (live.add(h), h);
  const take = (state: unknown) => {
    const h = state as { zero: boolean; step: number };
    if (!live.delete(h)) throw new Error('this state was already stepped or released');
    if (!h.zero && h.step !== steps) throw new Error('this state is stale');
    return h;
  };
  return {
    initialState: () => issue({ zero: true, step: 0 }),
    async step(frame, state) {
      const h = take(state);
      // data() views are fetched per call: WASM memory growth detaches older views.
      image.data().set(frame);
      for (const s of states) {
        if (h.zero) s.input.data().fill(0);
        else s.input.data().set(s.output.data());
      }
      if (!runner.infer()) throw new Error('tfjs-tflite: inference failed');
      steps++;
      return { logits: (logits.data() as Float32Array).slice(), state: issue({ zero: false, step: steps }) };
    },
    release: (state) => void take(state),
    async bareLoop(frames, count) {
      const times: number[] = [];
      for (const s of states) s.input.data().fill(0);
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        image.data().set(frames[i % frames.length]!);
        for (const s of states) s.input.data().set(s.output.data());
        runner.infer();
        times.push(performance.now() - t0);
      }
      steps++;
      return times;
    },
    dispose() {
      live.clear();
      runner.cleanUp();
    },
  };
}

type LiteRt = typeof import('@litertjs/core');
type Tensors = Record<string, LiteRtTensor>;
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

async function loadLiteRt(bytes: ArrayBuffer, sig: PageSignature, threads: number): Promise<PageSession> {
  const litert = await loadLiteRtModule(threads);
  const compiled: CompiledModel = await litert.loadAndCompile(new Uint8Array(bytes), {
    accelerator: 'wasm',
    cpuOptions: { numThreads: threads },
  });
  const zeros = (): Tensors =>
    Object.fromEntries(
      sig.states.map((s) => {
        const n = s.input.shape.reduce((a, b) => a * b, 1);
        const data = s.input.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
        return [s.name, new litert.Tensor(data, s.input.shape)];
      }),
    );
  const live = new Set<Tensors>();
  const take = (state: unknown) => {
    const t = state as Tensors;
    if (!live.delete(t)) throw new Error('this state was already stepped or released');
    return t;
  };
  const issue = (t: Tensors) => (live.add(t), t);
  return {
    initialState: () => issue(zeros()),
    async step(frame, state) {
      const states = take(state);
      const image = new litert.Tensor(frame, sig.image.shape);
      try {
        const out = await compiled.run({ ...states, [sig.image.name]: image });
        const logitsTensor = out[sig.logits.name]!;
        const logits = logitsTensor.toTypedArray() as Float32Array;
        logitsTensor.delete();
        return { logits, state: issue(Object.fromEntries(sig.states.map((s) => [s.name, out[s.name]!]))) };
      } finally {
        // LiteRT tensors live in WASM memory and are freed only by delete().
        image.delete();
        for (const t of Object.values(states)) t.delete();
      }
    },
    release(state) {
      for (const t of Object.values(take(state))) t.delete();
    },
    async bareLoop(frames, count) {
      const times: number[] = [];
      let states = zeros();
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const image = new litert.Tensor(frames[i % frames.length]!, sig.image.shape);
        const out = await compiled.run({ ...states, [sig.image.name]: image });
        image.delete();
        for (const t of Object.values(states)) t.delete();
        out[sig.logits.name]!.delete();
        states = Object.fromEntries(sig.states.map((s) => [s.name, out[s.name]!]));
        times.push(performance.now() - t0);
      }
      for (const t of Object.values(states)) t.delete();
      return times;
    },
    dispose() {
      for (const tensors of live) for (const t of Object.values(tensors)) t.delete();
      live.clear();
      compiled.delete();
    },
  };
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
declare const location: { origin: string };

type Feeds = Record<string, Ort.Tensor>;

/** The same per-frame work as OnnxSession in src/backends/onnxruntime.ts: reused output buffers, pass-through states carried. */
async function loadOnnx(
  bytes: ArrayBuffer,
  sig: PageSignature,
  graph: PageOnnxGraph,
  threads: number,
): Promise<PageSession> {
  const ort = await loadOrt(threads);
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: ['wasm'],
    intraOpNumThreads: threads,
    interOpNumThreads: threads,
    executionMode: 'sequential',
    graphOptimizationLevel: graph.optimization,
    logSeverityLevel: 3,
  });
  const tensor = (spec: { shape: number[]; dtype: 'float32' | 'int32' }) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    return spec.dtype === 'int32'
      ? new ort.Tensor('int32', new Int32Array(n), spec.shape)
      : new ort.Tensor('float32', new Float32Array(n), spec.shape);
  };
  const free: Feeds[] = [];
  const passThrough: Feeds = Object.fromEntries(graph.passThrough.map((s) => [s.name, tensor(s)]));
  const zeros = (): Feeds => Object.fromEntries(graph.live.map((s) => [s.name, tensor(s)]));
  const outputs = (): Feeds => free.pop() ?? zeros();
  const run = async (frame: Float32Array, live: Feeds) => {
    const out = outputs();
    const fetches: Record<string, Ort.Tensor | null> = { [graph.logits]: null };
    for (const s of graph.live) fetches[s.output] = out[s.name]!;
    const result = await session.run(
      { ...live, ...passThrough, [sig.image.name]: new ort.Tensor('float32', frame, sig.image.shape) },
      fetches as Ort.InferenceSession.FetchesType,
    );
    free.push(live);
    return { logits: result[graph.logits]!.data as Float32Array, next: out };
  };
  const liveStates = new Set<Feeds>();
  const take = (state: unknown) => {
    const f = state as Feeds;
    if (!liveStates.delete(f)) throw new Error('this state was already stepped or released');
    return f;
  };
  const issue = (f: Feeds) => (liveStates.add(f), f);
  return {
    initialState: () => issue(zeros()),
    async step(frame, state) {
      const { logits, next } = await run(frame, take(state));
      return { logits, state: issue(next) };
    },
    release: (state) => void free.push(take(state)),
    async bareLoop(frames, count) {
      const times: number[] = [];
      let live = zeros();
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        live = (await run(frames[i % frames.length]!, live)).next;
        times.push(performance.now() - t0);
      }
      free.push(live);
      return times;
    },
    dispose() {
      liveStates.clear();
      void session.release();
    },
  };
}

export function loadSession(
  runtime: PageRuntime,
  bytes: ArrayBuffer,
  sig: PageSignature,
  threads: number,
  onnx?: PageOnnxGraph,
): Promise<PageSession> {
  switch (runtime) {
    case 'tfjs-tflite':
      return loadTfjsTflite(bytes, sig, threads);
    case 'litert':
      return loadLiteRt(bytes, sig, threads);
    case 'onnxruntime':
    case 'onnxruntime-float':
    case 'onnxruntime-exact':
      if (!onnx) throw new Error(`${runtime}: no graph description`);
      return loadOnnx(bytes, sig, onnx, threads);
  }
}
