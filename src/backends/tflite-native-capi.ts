/*
 * The slice of TFLite 2.9's C API (c_api.h, common.h, xnnpack_delegate.h) the native backends call,
 * bound with koffi. Pointers stay opaque here; only this file knows struct layouts.
 */
type Koffi = (typeof import('koffi'))['default'];
/** An opaque native pointer as koffi hands it over; null is NULL. */
export type Ptr = unknown;

/** TfLiteType values this harness reads (c_api_types.h). */
export const TFLITE_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'int32',
  3: 'uint8',
  4: 'int64',
  9: 'int8',
  10: 'float16',
};

/** xnnpack_delegate.h: let the delegate take signed (QS8) and unsigned (QU8) quantized operators. */
export const XNNPACK_FLAG_QS8 = 0x1;
export const XNNPACK_FLAG_QU8 = 0x2;
/** builtin_ops.h: the code of a node that stands for a delegated partition. */
export const BUILTIN_DELEGATE = 51;

/** One entry of an interpreter's execution plan, read inside a delegate's Prepare. */
export interface PlanNode {
  index: number;
  builtinCode: number;
  customName: string | null;
}

/** Models, interpreter options, interpreters and their tensors: what every native run calls. */
export interface TfliteInterpreterApi {
  version(): string;
  modelCreate(data: Ptr, bytes: number): Ptr;
  modelDelete(model: Ptr): void;
  optionsCreate(): Ptr;
  optionsDelete(options: Ptr): void;
  optionsSetNumThreads(options: Ptr, threads: number): void;
  optionsAddDelegate(options: Ptr, delegate: Ptr): void;
  interpreterCreate(model: Ptr, options: Ptr): Ptr;
  interpreterDelete(interpreter: Ptr): void;
  allocateTensors(interpreter: Ptr): number;
  invoke(interpreter: Ptr): number;
  inputCount(interpreter: Ptr): number;
  input(interpreter: Ptr, i: number): Ptr;
  outputCount(interpreter: Ptr): number;
  output(interpreter: Ptr, i: number): Ptr;
  tensorName(t: Ptr): string;
  tensorType(t: Ptr): number;
  tensorDims(t: Ptr): number[];
  tensorData(t: Ptr): Ptr;
  tensorByteSize(t: Ptr): number;
}

/** TFLite's error reporter, rerouted from stderr. */
export interface TfliteErrorApi {
  /** Routes TFLite's error messages to `sink` (their format strings) instead of stderr. */
  optionsSetErrorSink(options: Ptr, sink: (format: string) => void): () => void;
}

/** The XNNPACK delegate and its thread pool. */
export interface XnnpackApi {
  xnnpackCreate(threads: number, flags: number): Ptr;
  xnnpackThreadPool(delegate: Ptr): Ptr;
  xnnpackDelete(delegate: Ptr): void;
}

/** Which kernels ran: the execution plan, read through a delegate that takes no node. */
export interface ExecutionPlanApi {
  /**
   * Applies a delegate that takes no node and reports the execution plan as it stands. The interpreter keeps
   * that delegate: `release` frees it, after the interpreter is deleted.
   */
  readExecutionPlan(interpreter: Ptr): { plan: PlanNode[]; release(): void };
}

export type TfliteCApi = { koffi: Koffi } & TfliteInterpreterApi & TfliteErrorApi & XnnpackApi & ExecutionPlanApi;

/** A C function of the library, typed by what it returns (a pointer unless said). */
type Bind = <R = Ptr>(decl: string) => (...args: unknown[]) => R;

function bindInterpreter(fn: Bind): TfliteInterpreterApi {
  const version = fn<string>('const char* TfLiteVersion()');
  const numDims = fn<number>('int32_t TfLiteTensorNumDims(void* t)');
  const dim = fn<number>('int32_t TfLiteTensorDim(void* t, int32_t i)');
  const byteSize = fn('size_t TfLiteTensorByteSize(void* t)');
  return {
    version: () => version(),
    modelCreate: fn('void* TfLiteModelCreate(void* data, size_t bytes)'),
    modelDelete: fn('void TfLiteModelDelete(void* model)'),
    optionsCreate: fn('void* TfLiteInterpreterOptionsCreate()'),
    optionsDelete: fn('void TfLiteInterpreterOptionsDelete(void* o)'),
    optionsSetNumThreads: fn('void TfLiteInterpreterOptionsSetNumThreads(void* o, int32_t n)'),
    optionsAddDelegate: fn('void TfLiteInterpreterOptionsAddDelegate(void* o, void* d)'),
    interpreterCreate: fn('void* TfLiteInterpreterCreate(void* model, void* options)'),
    interpreterDelete: fn('void TfLiteInterpreterDelete(void* i)'),
    allocateTensors: fn<number>('int TfLiteInterpreterAllocateTensors(void* i)'),
    invoke: fn<number>('int TfLiteInterpreterInvoke(void* i)'),
    inputCount: fn<number>('int32_t TfLiteInterpreterGetInputTensorCount(void* i)'),
    input: fn('void* TfLiteInterpreterGetInputTensor(void* i, int32_t k)'),
    outputCount: fn<number>('int32_t TfLiteInterpreterGetOutputTensorCount(void* i)'),
    output: fn('void* TfLiteInterpreterGetOutputTensor(void* i, int32_t k)'),
    tensorName: fn<string>('const char* TfLiteTensorName(void* t)'),
    tensorType: fn<number>('int TfLiteTensorType(void* t)'),
    tensorDims: (t) => Array.from({ length: numDims(t) }, (_, i) => dim(t, i)),
    tensorData: fn('void* TfLiteTensorData(void* t)'),
    tensorByteSize: (t) => Number(byteSize(t)),
  };
}

function bindErrorSink(koffi: Koffi, fn: Bind): TfliteErrorApi {
  const ReporterFn = koffi.proto('void TfLiteReporterFn(void* user_data, const char* format, void* args)');
  const setReporter = fn(
    'void TfLiteInterpreterOptionsSetErrorReporter(void* o, TfLiteReporterFn* r, void* user_data)',
  );
  return {
    optionsSetErrorSink(options, sink) {
      const cb = koffi.register((_user: Ptr, format: string) => sink(format), koffi.pointer(ReporterFn));
      setReporter(options, cb, null);
      return () => koffi.unregister(cb);
    },
  };
}

function bindXnnpack(koffi: Koffi, fn: Bind): XnnpackApi {
  // The 2.9.0 build shipped here predates the weights_cache field that the v2.9 source tree's header has.
  koffi.struct('TfLiteXNNPackDelegateOptions', { num_threads: 'int32_t', flags: 'uint32_t' });
  const create = fn('void* TfLiteXNNPackDelegateCreate(const TfLiteXNNPackDelegateOptions* options)');
  return {
    xnnpackCreate: (threads, flags) => create({ num_threads: threads, flags }),
    xnnpackThreadPool: fn('void* TfLiteXNNPackDelegateGetThreadPool(void* d)'),
    xnnpackDelete: fn('void TfLiteXNNPackDelegateDelete(void* d)'),
  };
}

/** The structs a delegate's Prepare sees (common.h), as far as reading the plan needs them. */
function planStructs(koffi: Koffi) {
  return {
    Registration: koffi.struct('TfLiteRegistration', {
      init: 'void*',
      free: 'void*',
      prepare: 'void*',
      invoke: 'void*',
      profiling_string: 'void*',
      builtin_code: 'int32_t',
      custom_name: 'const char*',
      version: 'int',
    }),
    Context: koffi.struct('TfLiteContext', {
      tensors_size: 'size_t',
      GetExecutionPlan: 'void*',
      tensors: 'void*',
      impl_: 'void*',
      ResizeTensor: 'void*',
      ReportError: 'void*',
      AddTensors: 'void*',
      GetNodeAndRegistration: 'void*',
    }),
    Delegate: koffi.struct('TfLiteDelegate', {
      data_: 'void*',
      Prepare: 'void*',
      CopyFromBufferHandle: 'void*',
      CopyToBufferHandle: 'void*',
      FreeBufferHandle: 'void*',
      flags: 'int64_t',
    }),
    PrepareFn: koffi.proto('int TfLitePrepareFn(void* context, void* delegate)'),
    GetPlanFn: koffi.proto('int TfLiteGetPlanFn(void* context, void* plan_out)'),
    GetNodeFn: koffi.proto('int TfLiteGetNodeFn(void* context, int index, void* node_out, void* registration_out)'),
  };
}

function bindExecutionPlan(koffi: Koffi, fn: Bind): ExecutionPlanApi {
  const { Registration, Context, Delegate, PrepareFn, GetPlanFn, GetNodeFn } = planStructs(koffi);
  const modify = fn<number>('int TfLiteInterpreterModifyGraphWithDelegate(void* interpreter, void* delegate)');
  const pointerAt = (buffer: Buffer): Ptr => koffi.decode(buffer, 'void*') as Ptr;

  function readPlan(context: Ptr): PlanNode[] {
    const ctx = koffi.decode(context, Context) as Record<string, Ptr>;
    const out = Buffer.alloc(8);
    if (koffi.call(ctx.GetExecutionPlan, GetPlanFn, context, out) !== 0) throw new Error('GetExecutionPlan failed');
    const plan = pointerAt(out);
    const size = koffi.decode(plan, 'int') as number;
    const indices = size > 0 ? Array.from(koffi.decode(plan, 4, 'int', size) as ArrayLike<number>) : [];
    return indices.map((index) => {
      const node = Buffer.alloc(8);
      const reg = Buffer.alloc(8);
      if (koffi.call(ctx.GetNodeAndRegistration, GetNodeFn, context, index, node, reg) !== 0)
        throw new Error(`GetNodeAndRegistration(${index}) failed`);
      const r = koffi.decode(pointerAt(reg), Registration) as { builtin_code: number; custom_name: string | null };
      return { index, builtinCode: r.builtin_code, customName: r.custom_name };
    });
  }

  return {
    readExecutionPlan(interpreter) {
      // The plan may only be read from inside a delegate's Prepare: a delegate that takes nothing reads it.
      let plan: PlanNode[] | undefined;
      let failure: unknown;
      const prepare = koffi.register((context: Ptr) => {
        try {
          plan = readPlan(context);
        } catch (e) {
          failure = e;
        }
        return 0;
      }, koffi.pointer(PrepareFn));
      const spy = koffi.alloc(Delegate, 1) as Ptr;
      const release = () => {
        koffi.unregister(prepare);
        koffi.free(spy);
      };
      // On failure nothing is freed: the interpreter may still point at this delegate (a small leak on a
      // path that ends the load, rather than a dangling pointer).
      koffi.encode(spy, Delegate, {
        data_: null,
        Prepare: prepare,
        CopyFromBufferHandle: null,
        CopyToBufferHandle: null,
        FreeBufferHandle: null,
        flags: 0n,
      });
      if (modify(interpreter, spy) !== 0) throw new Error('applying the plan-reading delegate failed');
      if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
      if (!plan) throw new Error('the plan-reading delegate was never prepared');
      return { plan, release };
    },
  };
}

/** Binds the library at `file`, concern by concern; throws if koffi or the library cannot be loaded. */
export async function bindTfliteCApi(file: string): Promise<TfliteCApi> {
  const koffi = (await import('koffi')).default;
  const lib = koffi.load(file);
  const fn: Bind = <R>(decl: string) => lib.func(decl) as (...args: unknown[]) => R;
  return {
    koffi,
    ...bindInterpreter(fn),
    ...bindErrorSink(koffi, fn),
    ...bindXnnpack(koffi, fn),
    ...bindExecutionPlan(koffi, fn),
  };
}
