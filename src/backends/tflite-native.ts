import os from 'node:os';
import type { KernelPlacement } from '../core/results.js';
import { graphMacs, operatorMacs } from '../models/inspect.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { TfliteModel } from '../models/tflite.js';
import { osThreads } from '../util/os-threads.js';
import type { Backend, LoadOptions, RuntimeInfo, Session, ThreadInfo } from './backend.js';
import {
  bindTfliteCApi,
  BUILTIN_DELEGATE,
  TFLITE_TYPES,
  XNNPACK_FLAG_QS8,
  XNNPACK_FLAG_QU8,
  type PlanNode,
  type Ptr,
  type TfliteCApi,
} from './tflite-native-capi.js';
import { RuntimeUnavailable, whyUnavailable } from './package-info.js';
import { ensureNativeLibrary, NATIVE_TFLITE_SOURCE, type NativeLibrary } from './tflite-native-lib.js';
import { TfliteRunnerSession, type Runner, type RunnerTensor } from './tflite-runner-session.js';

/** With the XNNPACK delegate and its int8 kernels, as TFLite's benchmark tool and the example apps run; or none. */
export type NativeVariant = 'xnnpack' | 'builtin';

const XNNPACK_FLAGS = { QS8: XNNPACK_FLAG_QS8, QU8: XNNPACK_FLAG_QU8 } as const;
const XNNPACK_FLAG_BITS = Object.values(XNNPACK_FLAGS).reduce((a, b) => a | b, 0);

/** The backends by name, and the variant each runs. */
export const NATIVE_VARIANTS = { 'tflite-native-xnnpack': 'xnnpack', 'tflite-native-builtin': 'builtin' } as const;
export type NativeBackendName = keyof typeof NATIVE_VARIANTS;

export function isNativeBackend(name: string): name is NativeBackendName {
  return Object.hasOwn(NATIVE_VARIANTS, name);
}

/** A failure of the C API, with what TFLite's error reporter said about it. */
function nativeError(what: string, messages: readonly string[]): Error {
  return new Error(`native TFLite: ${what} failed${messages.length ? `: ${messages.join('; ')}` : ''}`);
}

let apiPromise: Promise<{ api: TfliteCApi; library: NativeLibrary }> | undefined;

/** The library, fetched and verified, bound once per process; RuntimeUnavailable says why it cannot be. */
export function loadNativeTflite(): Promise<{ api: TfliteCApi; library: NativeLibrary }> {
  apiPromise ??= (async () => {
    const library = await ensureNativeLibrary();
    try {
      return { api: await bindTfliteCApi(library.path), library };
    } catch (e) {
      throw new RuntimeUnavailable(`the native TFLite library ${library.path} cannot be loaded: ${String(e)}`);
    }
  })().catch((e: unknown) => {
    apiPromise = undefined;
    throw e;
  });
  return apiPromise;
}

function typedView(api: TfliteCApi, tensor: Ptr, type: string): Float32Array | Int32Array | Int8Array | Uint8Array {
  const bytes = api.tensorByteSize(tensor);
  const buffer = api.koffi.view(api.tensorData(tensor), bytes);
  if (type === 'float32') return new Float32Array(buffer);
  if (type === 'int32') return new Int32Array(buffer);
  if (type === 'int8') return new Int8Array(buffer);
  return new Uint8Array(buffer);
}

/** A graph input or output as the runner session sees it: one view on the tensor's memory, made once. */
function runnerTensors(api: TfliteCApi, count: number, get: (i: number) => Ptr): RunnerTensor[] {
  return Array.from({ length: count }, (_, i) => {
    const t = get(i);
    const dataType = TFLITE_TYPES[api.tensorType(t)] ?? `type ${api.tensorType(t)}`;
    // Tensor memory is fixed once tensors are allocated (no dynamic shapes here), so one view serves every step.
    const view = typedView(api, t, dataType);
    return { name: api.tensorName(t), shape: api.tensorDims(t).join(','), dataType, data: () => view };
  });
}

/** Which ops the plan left on built-in kernels, with the MACs they carry. */
export function kernelPlacement(
  graph: TfliteModel,
  plan: readonly PlanNode[],
  variant: NativeVariant,
  tfliteVersion: string,
  library: NativeLibrary,
): KernelPlacement {
  const operators = graph.subgraphs[0]!.operators;
  const total = graphMacs(graph);
  const builtin = new Map<string, { nodes: number; macs: number }>();
  let builtinNodes = 0;
  for (const node of plan) {
    const op = node.builtinCode === BUILTIN_DELEGATE ? undefined : operators[node.index];
    if (!op) continue;
    builtinNodes++;
    const entry = builtin.get(op.opcode) ?? { nodes: 0, macs: 0 };
    entry.nodes++;
    entry.macs += operatorMacs(graph, op);
    builtin.set(op.opcode, entry);
  }
  const share = (macs: number) => (total > 0 ? macs / total : 0);
  const builtinOps = [...builtin]
    .map(([op, e]) => ({ op, nodes: e.nodes, macShare: share(e.macs) }))
    .sort((a, b) => b.macShare - a.macShare || b.nodes - a.nodes || a.op.localeCompare(b.op));
  return {
    tfliteVersion,
    delegate: variant === 'xnnpack' ? 'XNNPACK' : null,
    delegateFlags: variant === 'xnnpack' ? Object.keys(XNNPACK_FLAGS) : [],
    nodes: operators.length,
    delegatedNodes: operators.length - builtinNodes,
    partitions: plan.filter((n) => n.builtinCode === BUILTIN_DELEGATE).length,
    builtinOps,
    builtinMacShare: share([...builtin.values()].reduce((s, e) => s + e.macs, 0)),
    library: {
      file: library.path,
      sha256: library.sha256,
      platformBinary: library.platformBinary,
      source: library.source,
    },
    method:
      "the interpreter's execution plan after delegation, read through the C API by a delegate that takes no node",
  };
}

/** Native TFLite resources of one model, freed in reverse order by cleanUp(). */
class NativeRunner implements Runner {
  private readonly inputs: RunnerTensor[];
  private readonly outputs: RunnerTensor[];

  constructor(
    private readonly api: TfliteCApi,
    private readonly interpreter: Ptr,
    private readonly messages: string[],
    private readonly release: () => void,
  ) {
    this.inputs = runnerTensors(api, api.inputCount(interpreter), (i) => api.input(interpreter, i));
    this.outputs = runnerTensors(api, api.outputCount(interpreter), (i) => api.output(interpreter, i));
  }

  getInputs(): RunnerTensor[] {
    return this.inputs;
  }

  getOutputs(): RunnerTensor[] {
    return this.outputs;
  }

  infer(): boolean {
    if (this.api.invoke(this.interpreter) === 0) return true;
    throw nativeError('Invoke', this.messages);
  }

  /** The C API has no profiler (the backend says so), so a summary lists no nodes. */
  getProfilingSummary(): string {
    return '';
  }

  cleanUp(): void {
    this.release();
  }
}

interface NativeInterpreter {
  runner: Runner;
  plan: PlanNode[];
  /** The XNNPACK delegate's thread pool was created (it is not at one thread). */
  xnnpackThreadPool: boolean;
  /** OS threads the load started, where the OS lists them. */
  threadsStarted: number | null;
}

/** An interpreter on these model bytes, with or without the XNNPACK delegate, tensors allocated. */
function createInterpreter(
  api: TfliteCApi,
  bytes: Uint8Array,
  variant: NativeVariant,
  threads: number,
): NativeInterpreter {
  const before = osThreads();
  const undo: (() => void)[] = [];
  const release = () => {
    for (const step of undo.splice(0).reverse()) step();
  };
  const messages: string[] = [];
  // Thrown inside the try below, whose catch frees what was made so far.
  const fail = (what: string): never => {
    throw nativeError(what, messages);
  };
  try {
    // TFLite keeps a pointer to the model bytes for the model's lifetime: they live in native memory it cannot outlive.
    const memory = api.koffi.alloc('uint8_t', bytes.length) as Ptr;
    undo.push(() => api.koffi.free(memory));
    new Uint8Array(api.koffi.view(memory, bytes.length)).set(bytes);
    const model = api.modelCreate(memory, bytes.length);
    if (!model) fail('reading the model');
    undo.push(() => api.modelDelete(model));
    const options = api.optionsCreate();
    undo.push(() => api.optionsDelete(options));
    undo.push(api.optionsSetErrorSink(options, (m) => messages.push(m.trim())));
    api.optionsSetNumThreads(options, threads);
    let delegate: Ptr = null;
    if (variant === 'xnnpack') {
      delegate = api.xnnpackCreate(threads, XNNPACK_FLAG_BITS);
      if (!delegate) fail('creating the XNNPACK delegate');
      undo.push(() => api.xnnpackDelete(delegate));
      api.optionsAddDelegate(options, delegate);
    }
    const interpreter = api.interpreterCreate(model, options);
    if (!interpreter) fail('creating the interpreter');
    const deleteInterpreter = () => api.interpreterDelete(interpreter);
    undo.push(deleteInterpreter);
    if (api.allocateTensors(interpreter) !== 0) fail('allocating tensors');
    // Read last, so the plan is the one that runs; the plan reader must outlive the interpreter.
    const read = api.readExecutionPlan(interpreter);
    undo.splice(undo.indexOf(deleteInterpreter), 0, read.release);
    if (api.allocateTensors(interpreter) !== 0) fail('allocating tensors');
    const after = osThreads();
    return {
      runner: new NativeRunner(api, interpreter, messages, release),
      plan: read.plan,
      xnnpackThreadPool: delegate !== null && api.xnnpackThreadPool(delegate) !== null,
      threadsStarted: before === null || after === null ? null : after - before,
    };
  } catch (e) {
    release();
    throw e;
  }
}

const KERNELS_LABEL: Record<NativeVariant, string> = {
  xnnpack: `XNNPACK delegate, ${Object.keys(XNNPACK_FLAGS).join('+')}`,
  builtin: 'no delegate: built-in kernels',
};

/** A runner on these model bytes (a graph the tools build, e.g. a probe), as the backends load models. */
export async function loadNativeRunner(bytes: Uint8Array, variant: NativeVariant, threads: number): Promise<Runner> {
  const { api } = await loadNativeTflite();
  return createInterpreter(api, bytes, variant, threads).runner;
}

function threadInfo(variant: NativeVariant, threads: number, loaded: NativeInterpreter): ThreadInfo {
  const pool =
    variant === 'xnnpack'
      ? `XNNPACK num_threads=${threads}, thread pool ${loaded.xnnpackThreadPool ? 'created' : 'none'}; `
      : '';
  const started =
    loaded.threadsStarted === null
      ? 'OS threads not counted here (no /proc)'
      : `OS threads started by loading: ${loaded.threadsStarted}`;
  return {
    requested: threads,
    enforcement: `TfLiteInterpreterOptionsSetNumThreads(${threads}); ${pool}verified: ${started}`,
  };
}

function nativeBackend(name: NativeBackendName, variant: NativeVariant): Backend {
  return {
    name,
    facts: {
      family: 'tflite',
      runtime: NATIVE_TFLITE_SOURCE.package,
      precision: 'native',
      probe: name,
      browser: {
        instead: "tfjs-tflite (TFLite's WASM build)",
        because: 'the native TFLite C library, which has no browser build',
      },
      batch: { can: false, because: "TFLite graphs' reshape targets are constant [1,...]" },
      locate: { via: 'native', variant },
      nativeLibrary: `libtensorflowlite_c ${NATIVE_TFLITE_SOURCE.tfliteVersion}`,
    },
    noProfiler: "TFLite 2.9's C API has no op profiler",
    maxThreads: os.availableParallelism(),
    available: () => whyUnavailable(loadNativeTflite),
    async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
      const { api, library } = await loadNativeTflite();
      const loaded = createInterpreter(api, model.bytes, variant, opts.threads);
      const threads = threadInfo(variant, opts.threads, loaded);
      try {
        if (opts.threads === 1 && loaded.xnnpackThreadPool)
          throw new Error(`${name}: asked for 1 thread, but ${threads.enforcement}`);
        const version = api.version();
        const runtime: RuntimeInfo = {
          package: NATIVE_TFLITE_SOURCE.package,
          version: NATIVE_TFLITE_SOURCE.version,
          build: `libtensorflowlite_c ${version} ${library.platformBinary} (${KERNELS_LABEL[variant]})`,
          kernels: kernelPlacement(model.graph, loaded.plan, variant, version, library),
        };
        return new TfliteRunnerSession(model.signature, loaded.runner, threads, runtime);
      } catch (e) {
        // A thread pool where none was asked for, or a tensor that does not match the signature.
        loaded.runner.cleanUp();
        throw e;
      }
    },
  };
}

/** Native TFLite with the XNNPACK delegate and its int8 kernels: what the source page's table measured. */
export const tfliteNativeXnnpackBackend = nativeBackend(
  'tflite-native-xnnpack',
  NATIVE_VARIANTS['tflite-native-xnnpack'],
);
/** Native TFLite with no delegate: TFLite's built-in (reference and optimized) kernels. */
export const tfliteNativeBuiltinBackend = nativeBackend(
  'tflite-native-builtin',
  NATIVE_VARIANTS['tflite-native-builtin'],
);
