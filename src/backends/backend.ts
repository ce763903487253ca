import type { KernelPlacement, Runtime } from '../core/results.js';
import type { NodeTime } from '../metrics/profile.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { StreamSignature, TensorSpec } from '../models/signature.js';
import type { Precision } from '../convert/tflite-to-onnx.js';

/*
 * This file and the *-session.ts files hold the per-frame code of each runtime.
 * They import types only (and each other), so the browser page bundles the very
 * same code as Node; Node-only loading lives in the backend files.
 */

export type StateTensor = Float32Array | Int32Array;
/** Stream states by signature name, as plain arrays (for tests, parity and hand-made states). */
export type StateArrays = ReadonlyMap<string, StateTensor>;

/**
 * An opaque handle on the stream states, owned by the session that made it.
 * States stay inside the runtime between frames (copying 2.7 MB out and back
 * in per frame would cost A0 about 10% of its step time), so a handle is
 * single-use: step() consumes it and returns the next one. readState() copies
 * the values out when they are needed.
 */
export interface State {
  readonly owner: object;
}

export interface StepResult {
  logits: Float32Array;
  state: State;
}

/** How the thread count was pinned, recorded verbatim in every report. */
export interface ThreadInfo {
  requested: number;
  enforcement: string;
  /** OS threads the load started, beside the number its settings account for, where the backend counts them. */
  osThreads?: Runtime['threads']['osThreads'];
}

export interface RuntimeInfo {
  /** npm package that provides the runtime, and its installed version. */
  package: string;
  version: string;
  /** Build or variant actually loaded (e.g. the WASM file), for the environment fingerprint. */
  build: string;
  /** Which kernels ran, where the runtime can tell (native TFLite). */
  kernels?: KernelPlacement;
  /** Whether the runtime's own telemetry ran in this process, where it has one (onnxruntime-node). */
  telemetry?: Runtime['telemetry'];
}

export interface Session {
  readonly threads: ThreadInfo;
  readonly runtime: RuntimeInfo;
  /** A fresh all-zero state (float32 buffers, int32 frame counts). */
  initialState(): State;
  /** A state with the given values, e.g. another backend's state (parity) or a test's. */
  stateFrom(values: StateArrays): State;
  step(frame: Float32Array, state: State): Promise<StepResult>;
  /** Copies the values out of a state that has not been consumed yet. */
  readState(state: State): Map<string, StateTensor>;
  /** Frees a state that will not be stepped (e.g. the last one of a clip). */
  release(state: State): void;
  /**
   * The least work the runtime needs per frame of a correct stream, timed per
   * frame in ms. Used only to measure the harness's own overhead against step().
   */
  bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]>;
  /** Present when the session was loaded with `profile` and the runtime has a profiler. */
  readonly profiler?: OpProfiler;
  dispose(): void;
}

/** A stream's frame for one batched call: which slot holds the stream's states. */
export interface SlotFrame {
  slot: number;
  frame: Float32Array;
}

/**
 * Several streams in one session, one call for all of those with a frame waiting (BackendFacts.batch). Each
 * stream holds a slot, the rows of the batch its states live in between calls; a call gathers the states of
 * the slots it steps, in the order given, and scatters the next states back to the same slots.
 */
export interface BatchedSession {
  readonly threads: ThreadInfo;
  readonly runtime: RuntimeInfo;
  /** The most streams it holds, and the largest call. */
  readonly slots: number;
  /** A stream joins: the lowest free slot, its states reset to the model's zero state. */
  open(): number;
  /** A stream leaves: its slot is free for the next to open. */
  close(slot: number): void;
  /** One frame for each of these open slots (each at most once), in one call; the logits in the same order. */
  step(frames: readonly SlotFrame[]): Promise<Float32Array[]>;
  /** Copies the values out of an open slot's states. */
  readState(slot: number): Map<string, StateTensor>;
  readonly profiler?: OpProfiler;
  dispose(): void;
}

export interface LoadOptions {
  threads: number;
  /** Whether a backend that prepares the model (e.g. converts it) may read and write its cache. */
  cache?: boolean;
  /** Load with the runtime's op profiler on, for this many steps (a profiling session: never timed). */
  profile?: ProfileWindow;
}

/** A profiling session's steps: `warmup` left out of the profile, then `frames` profiled. */
export interface ProfileWindow {
  warmup: number;
  frames: number;
}

/** A session loaded with `profile` reports where its steps spent their time. */
export interface OpProfiler {
  /** Which profiler, for the report. */
  readonly source: string;
  /** The node times of the window's profiled steps, once they have all run (a node may be listed once, summed). */
  nodeTimes(): Promise<NodeTime[]>;
  /** Frees what the profiler keeps outside the process (a trace file), read or not: the session calls it on dispose. */
  dispose?(): void;
}

/** The runtimes whose peak the roofline probe measures, each through the API its backends use. */
export const PROBE_RUNTIMES = [
  'tfjs-tflite',
  'litert',
  'onnxruntime',
  'onnxruntime-web',
  'tflite-native-xnnpack',
  'tflite-native-builtin',
] as const;
export type ProbeRuntime = (typeof PROBE_RUNTIMES)[number];

/** How the browser page runs a backend that has a browser build (its loader: browser/page/runtimes.ts). */
export interface PageFacts {
  /** The runtime's glue file among those the page loaded, as the Node backend's `build` names it. */
  glue: RegExp;
  /** How the page pins the thread count, recorded in each browser row. */
  enforcement(threads: number): string;
  /** At one thread, the file the page server answers instead of a pthread build the runtime asks for. */
  singleThreadFile?(file: string): string;
}

/**
 * What a backend is, stated once by its own module. Everything outside backends/ reads these facts (roofline,
 * parity --locate, the browser target, batching) instead of testing the backend's name.
 */
export interface BackendFacts {
  /** The graph it runs: a TFLite interpreter on the model file, or the model converted to ONNX. */
  family: 'tflite' | 'onnx';
  /** The npm package (or native library) that provides the runtime. */
  runtime: string;
  /** The arithmetic its graph runs in: the model's own ('native': int8 for an int8 file), or a conversion's. */
  precision: 'native' | Precision;
  /** The roofline probe that stands for it; null where no probe measures it. */
  probe: ProbeRuntime | null;
  /** Under --target chromium: how the page runs it, or what to use there (as a user reads it) and why not this. */
  browser: { page: PageFacts } | { instead: string; because: string };
  /** Whether several streams can share one call on the batch axis, or why not. */
  batch: { can: true } | { can: false; because: string };
  /**
   * How `parity --locate` reads its intermediate tensors: as the reference (tfjs-tflite's interpreter), from
   * its ONNX graph, from a native interpreter variant, or why it cannot.
   */
  locate:
    | { via: 'reference' }
    | { via: 'onnx' }
    | { via: 'native'; variant: 'xnnpack' | 'builtin' }
    | { via: null; because: string };
  /** The native library it loads, if any. */
  nativeLibrary: string | null;
}

export interface Backend {
  readonly name: string;
  readonly facts: BackendFacts;
  /** Why `profile` gives nothing on this runtime, when it has no op profiler. */
  readonly noProfiler?: string;
  /** The most threads this runtime can be pinned to here; a request above it is refused. */
  readonly maxThreads: number;
  /** Why a request above maxThreads cannot be honoured, for the error line. */
  readonly maxThreadsWhy?: string;
  /**
   * For a runtime that may be absent here (a native library per platform, fetched on first use): null when it
   * can run, else why not. Such a backend's pairs are skipped with that cause, as a missing model's are.
   */
  available?(): Promise<string | null>;
  load(model: ResolvedModel, opts: LoadOptions): Promise<Session>;
  /** Present where `facts.batch.can`: a session of `slots` streams stepped together on the batch axis. */
  loadBatched?(model: ResolvedModel, opts: LoadOptions & { slots: number }): Promise<BatchedSession>;
}

export function zeroArray(spec: Pick<TensorSpec, 'shape' | 'dtype'>): StateTensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

export function zeroArrays(sig: Pick<StreamSignature, 'states'>): Map<string, StateTensor> {
  return new Map(sig.states.map((s) => [s.name, zeroArray(s.input)]));
}

/** Times `count` frames of a bare loop with the clock both targets have. */
export async function timeEach(count: number, body: (i: number) => Promise<void> | void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await body(i);
    times.push(performance.now() - t0);
  }
  return times;
}

export function requireArray(values: StateArrays, name: string): StateTensor {
  const t = values.get(name);
  if (!t) throw new Error(`state '${name}' is missing`);
  return t;
}

/** Shared bookkeeping for single-use state handles. */
export class StateLedger<T> {
  private readonly live = new Map<State, T>();

  constructor(private readonly owner: object) {}

  issue(payload: T): State {
    const handle: State = { owner: this.owner };
    this.live.set(handle, payload);
    return handle;
  }

  peek(state: State): T {
    const payload = this.live.get(state);
    if (payload === undefined) {
      throw new Error(
        state.owner === this.owner
          ? 'this state was already stepped or released: states are single-use (use readState() to keep a copy)'
          : 'this state belongs to another session',
      );
    }
    return payload;
  }

  take(state: State): T {
    const payload = this.peek(state);
    this.live.delete(state);
    return payload;
  }

  drain(): T[] {
    const all = [...this.live.values()];
    this.live.clear();
    return all;
  }
}
