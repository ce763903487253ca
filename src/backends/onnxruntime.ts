import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { convertCached } from '../convert/cache.js';
import { nativePrecision, onnxOutputName, type Precision } from '../convert/tflite-to-onnx.js';
import type { NodeTime } from '../metrics/profile.js';
import type { ResolvedModel } from '../models/resolve.js';
import { isPassThrough, type StateSpec, type TensorSpec } from '../models/signature.js';
import { elementCount } from '../models/tflite.js';
import { assertRuntimeTensor } from './tensor-check.js';
import {
  requireArray,
  StateLedger,
  type Backend,
  type LoadOptions,
  type OpProfiler,
  type Session,
  type State,
  type StateArrays,
  type StateTensor,
  type StepResult,
} from './backend.js';
import { packageVersion } from './package-info.js';

const PACKAGE = 'onnxruntime-node';
const PRECISION_LABEL: Record<Precision, string> = {
  float: 'fp32',
  int8: 'int8 QDQ',
  'int8-exact': 'int8 arithmetic emulated in fp32 ops',
};
type Feeds = Record<string, ort.Tensor>;

/**
 * A state: the tensors of the live states (written by the graph every frame)
 * and of the pass-through states (an output that is its own input in the
 * source graph: never requested from the runtime, carried as they are).
 */
interface StateSet {
  live: Feeds;
  passThrough: Feeds;
}

/** onnxruntime's trace (Chrome trace format): node events carry their op type and duration in µs. */
interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

class OnnxSession implements Session {
  readonly runtime: Session['runtime'];
  private readonly ledger = new StateLedger<StateSet>(this);
  private readonly live: StateSpec[];
  private readonly passThrough: StateSpec[];
  /**
   * Live-state buffers free for the next frame's outputs (a stream alternates
   * between two sets). The runtime writes into them; onnxruntime-node still
   * hands back a copy of every fetched output, which is what the GC counts in
   * the report come from (RESULTS.md).
   */
  private readonly free: Feeds[] = [];
  readonly profiler?: OpProfiler;

  constructor(
    private readonly model: ResolvedModel,
    private readonly session: ort.InferenceSession,
    readonly threads: Session['threads'],
    precision: Precision,
    cached: boolean,
    profileDir: string | null,
  ) {
    this.runtime = {
      package: PACKAGE,
      version: packageVersion(PACKAGE),
      build: `CPU EP (MLAS), converted by movinet-bench to ${PRECISION_LABEL[precision]}${cached ? ' (cached)' : ''}`,
    };
    const sig = model.signature;
    this.live = sig.states.filter((st) => !isPassThrough(st));
    this.passThrough = sig.states.filter(isPassThrough);
    const meta = (names: readonly string[], side: 'input' | 'output', spec: typeof sig.image, name: string) => {
      assertRuntimeTensor(
        'onnxruntime',
        side,
        { ...spec, tensorName: name },
        names.includes(name) ? { shape: spec.shape, dtype: spec.dtype } : undefined,
      );
    };
    meta(session.inputNames, 'input', sig.image, sig.image.name);
    meta(session.outputNames, 'output', sig.logits, onnxOutputName(sig.logits.name, false));
    for (const st of sig.states) {
      meta(session.inputNames, 'input', st.input, st.name);
      meta(session.outputNames, 'output', st.output, onnxOutputName(st.name, true));
    }
    if (profileDir)
      this.profiler = {
        source: 'onnxruntime profiler (enableProfiling trace)',
        nodeTimes: (skip) => this.traceTimes(profileDir, skip),
      };
  }

  private tensor(spec: TensorSpec, data?: StateTensor): ort.Tensor {
    const n = elementCount(spec.shape);
    const values = data ?? (spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
    return new ort.Tensor(spec.dtype as 'float32' | 'int32', values, spec.shape);
  }

  /** Copies the values in, so the runtime never writes into an array the caller still holds. */
  private stateSet(values: StateArrays | null): StateSet {
    const make = (specs: StateSpec[]) =>
      Object.fromEntries(
        specs.map((st) => [st.name, this.tensor(st.input, values ? requireArray(values, st.name).slice() : undefined)]),
      );
    return { live: make(this.live), passThrough: make(this.passThrough) };
  }

  initialState(): State {
    return this.ledger.issue(this.stateSet(null));
  }

  stateFrom(values: StateArrays): State {
    return this.ledger.issue(this.stateSet(values));
  }

  private outputBuffers(): Feeds {
    return this.free.pop() ?? Object.fromEntries(this.live.map((st) => [st.name, this.tensor(st.output)]));
  }

  /** One frame; the runtime writes the next live states into reused buffers and the inputs' buffers become free. */
  private async run(frame: Float32Array, states: StateSet): Promise<{ logits: Float32Array; next: StateSet }> {
    const sig = this.model.signature;
    const out = this.outputBuffers();
    const fetches: Record<string, ort.Tensor | null> = { [onnxOutputName(sig.logits.name, false)]: null };
    for (const st of this.live) fetches[onnxOutputName(st.name, true)] = out[st.name]!;
    const result = await this.session.run(
      { ...states.live, ...states.passThrough, [sig.image.name]: new ort.Tensor('float32', frame, sig.image.shape) },
      fetches,
    );
    this.free.push(states.live);
    return {
      logits: result[onnxOutputName(sig.logits.name, false)]!.data as Float32Array,
      next: { live: out, passThrough: states.passThrough },
    };
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const { logits, next } = await this.run(frame, this.ledger.take(state));
    return { logits, state: this.ledger.issue(next) };
  }

  readState(state: State): Map<string, StateTensor> {
    const set = this.ledger.peek(state);
    return new Map(
      Object.entries({ ...set.live, ...set.passThrough }).map(([name, t]) => [name, (t.data as StateTensor).slice()]),
    );
  }

  release(state: State): void {
    this.free.push(this.ledger.take(state).live);
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    const times: number[] = [];
    let states = this.stateSet(null);
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      states = (await this.run(frames[i % frames.length]!, states)).next;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    this.free.push(states.live);
    return times;
  }

  /** Ends the trace and reads the node kernel times of every run after the first `skip`. */
  private async traceTimes(dir: string, skip: number): Promise<NodeTime[]> {
    this.session.endProfiling();
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile in ${dir}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TraceEvent[];
    fs.rmSync(dir, { recursive: true, force: true });
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts ?? 0);
    const from = runs.sort((a, b) => a - b)[skip] ?? Infinity;
    return events.flatMap((e) =>
      e.cat === 'Node' && e.name?.endsWith('_kernel_time') && e.dur !== undefined && (e.ts ?? 0) >= from
        ? [{ node: e.name.slice(0, -'_kernel_time'.length), op: e.args?.op_name ?? '?', ms: e.dur / 1000 }]
        : [],
    );
  }

  dispose(): void {
    this.ledger.drain();
    void this.session.release();
  }
}

/** onnxruntime's own errors name neither the backend nor the file; a failed load says both. */
async function createSession(
  backend: string,
  file: string | null,
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
) {
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    const where = file ? ` from ${file} (delete it or pass --no-cache)` : '';
    throw new Error(
      `${backend}: onnxruntime cannot load the converted model${where}: ${(e as Error).message.split('\n')[0]}`,
      { cause: e },
    );
  }
}

function onnxBackend(name: string, precision: 'native' | Precision): Backend {
  return {
    name,
    maxThreads: os.availableParallelism(),
    async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
      // A float source has nothing to quantize: every variant runs it as fp32.
      const native = nativePrecision(model.graph);
      const p: Precision = precision === 'native' || native === 'float' ? native : precision;
      const onnx = convertCached(model, p, opts.cache ?? true);
      if (onnx.rebuilt)
        process.stderr.write(`movinet-bench: ${name}: rebuilt the cached conversion: ${onnx.rebuilt}\n`);
      const profileDir = opts.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-ort-profile-')) : null;
      const session = await createSession(name, onnx.path, onnx.bytes, {
        ...(profileDir ? { enableProfiling: true, profileFilePrefix: path.join(profileDir, 'ort') } : {}),
        intraOpNumThreads: opts.threads,
        interOpNumThreads: opts.threads,
        executionMode: 'sequential',
        // Level-1 fusions fold the exact mode's requantization Mul into the Conv weights, which makes the
        // integer accumulation inexact; that mode therefore runs the graph as written.
        graphOptimizationLevel: p === 'int8-exact' ? 'disabled' : 'all',
        logSeverityLevel: 3,
      });
      return new OnnxSession(
        model,
        session,
        {
          requested: opts.threads,
          enforcement: `intraOpNumThreads=${opts.threads}, interOpNumThreads=${opts.threads}, executionMode=sequential, graph optimization ${p === 'int8-exact' ? 'disabled' : 'all'}`,
        },
        p,
        onnx.cached,
        profileDir,
      );
    },
  };
}

/** The converted model in the source's own precision (int8 QDQ for the int8 models). */
export const onnxRuntimeBackend = onnxBackend('onnxruntime', 'native');
/** The converted model with every weight dequantized: a fp32 graph. */
export const onnxRuntimeFloatBackend = onnxBackend('onnxruntime-float', 'float');
/** TFLite's int8 arithmetic emulated in fp32 ops: bit-exact parity, fp32 speed. */
export const onnxRuntimeExactBackend = onnxBackend('onnxruntime-exact', 'int8-exact');
