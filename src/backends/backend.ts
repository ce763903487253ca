import type { ResolvedModel } from '../models/resolve.js';

export type StateTensor = Float32Array | Int32Array;
/** Stream states by signature name. Plain arrays, so every backend pays the same copy and states compare across runtimes. */
export type State = ReadonlyMap<string, StateTensor>;

export interface StepResult {
  logits: Float32Array;
  state: State;
}

/** How the thread count was pinned, recorded verbatim in every report. */
export interface ThreadInfo {
  requested: number;
  enforcement: string;
}

export interface RuntimeInfo {
  /** npm package that provides the runtime, and its installed version. */
  package: string;
  version: string;
  /** Build or variant actually loaded (e.g. the WASM file), for the environment fingerprint. */
  build: string;
}

export interface Session {
  readonly threads: ThreadInfo;
  readonly runtime: RuntimeInfo;
  initialState(): State;
  step(frame: Float32Array, state: State): Promise<StepResult>;
  dispose(): void;
}

export interface LoadOptions {
  threads: number;
}

export interface Backend {
  readonly name: string;
  /** The most threads this runtime can be pinned to here; a request above it is refused. */
  readonly maxThreads: number;
  load(model: ResolvedModel, opts: LoadOptions): Promise<Session>;
}

/** Zero states, typed by the signature (float32 buffers, int32 frame counts). */
export function zeroState(model: ResolvedModel): State {
  return new Map(
    model.signature.states.map((s) => {
      const n = s.input.shape.reduce((a, b) => a * b, 1);
      return [s.name, s.input.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n)];
    }),
  );
}

export function requireState(state: State, name: string): StateTensor {
  const t = state.get(name);
  if (!t) throw new Error(`state '${name}' missing from the state passed to step()`);
  return t;
}
