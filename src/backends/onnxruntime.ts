import os from 'node:os';
import ort from 'onnxruntime-node';
import { convertCached } from '../convert/cache.js';
import { nativePrecision, onnxOutputName, type Precision } from '../convert/tflite-to-onnx.js';
import type { ResolvedModel } from '../models/resolve.js';
import { assertRuntimeTensor } from './tensor-check.js';
import {
  requireArray,
  StateLedger,
  zeroArrays,
  type Backend,
  type LoadOptions,
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

class OnnxSession implements Session {
  readonly runtime: Session['runtime'];
  /** A state is the previous run's output tensors, fed back as inputs. */
  private readonly ledger = new StateLedger<Feeds>(this);

  constructor(
    private readonly model: ResolvedModel,
    private readonly session: ort.InferenceSession,
    readonly threads: Session['threads'],
    precision: Precision,
    cached: boolean,
  ) {
    this.runtime = {
      package: PACKAGE,
      version: packageVersion(PACKAGE),
      build: `CPU EP (MLAS), converted by movinet-bench to ${PRECISION_LABEL[precision]}${cached ? ' (cached)' : ''}`,
    };
    const sig = model.signature;
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
    for (const s of sig.states) {
      meta(session.inputNames, 'input', s.input, s.name);
      meta(session.outputNames, 'output', s.output, onnxOutputName(s.name, true));
    }
  }

  private feeds(values: StateArrays): Feeds {
    return Object.fromEntries(
      this.model.signature.states.map((s) => [
        s.name,
        new ort.Tensor(s.input.dtype as 'float32' | 'int32', requireArray(values, s.name), s.input.shape),
      ]),
    );
  }

  initialState(): State {
    return this.ledger.issue(this.feeds(zeroArrays(this.model)));
  }

  stateFrom(values: StateArrays): State {
    return this.ledger.issue(this.feeds(values));
  }

  private async run(frame: Float32Array, states: Feeds): Promise<{ logits: ort.Tensor; next: Feeds }> {
    const sig = this.model.signature;
    const out = await this.session.run({
      ...states,
      [sig.image.name]: new ort.Tensor('float32', frame, sig.image.shape),
    });
    const next: Feeds = {};
    for (const s of sig.states) next[s.name] = out[onnxOutputName(s.name, true)]!;
    return { logits: out[onnxOutputName(sig.logits.name, false)]!, next };
  }

  async step(frame: Float32Array, state: State): Promise<StepResult> {
    const { logits, next } = await this.run(frame, this.ledger.take(state));
    return { logits: logits.data as Float32Array, state: this.ledger.issue(next) };
  }

  readState(state: State): Map<string, StateTensor> {
    return new Map(Object.entries(this.ledger.peek(state)).map(([name, t]) => [name, (t.data as StateTensor).slice()]));
  }

  release(state: State): void {
    this.ledger.take(state);
  }

  async bareLoop(frames: readonly Float32Array[], count: number): Promise<number[]> {
    const times: number[] = [];
    let states = this.feeds(zeroArrays(this.model));
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      states = (await this.run(frames[i % frames.length]!, states)).next;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return times;
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
      const session = await createSession(name, onnx.path, onnx.bytes, {
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
