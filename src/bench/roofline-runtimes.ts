import type * as LiteRtTypes from '@litertjs/core';
import type { Tensor as OrtTensor } from 'onnxruntime-common';
import { onnxSessionOptions } from '../backends/onnx-session.js';
import type { OrtPackage } from '../backends/onnx-backend.js';
import { NODE } from '../backends/onnxruntime.js';
import { WEB } from '../backends/onnxruntime-web.js';
import { loadTfliteRunner } from '../backends/tfjs-tflite.js';
import { loadNativeRunner, type NativeVariant } from '../backends/tflite-native.js';
import {
  dequantize,
  onnxConvProbe,
  quantize,
  tfliteConvProbe,
  toNchw,
  toNhwc,
  type ConvProbeSpec,
  type ProbeDtype,
} from './roofline-models.js';

/**
 * One probe graph loaded in one runtime, as that runtime's own API is
 * used by its backend. Inputs and outputs are NHWC whatever the runtime's
 * layout; int8 probes take and give int8 codes, fp32 probes take the codes'
 * dequantized values and give floats.
 */
export interface ProbeSession {
  /** The graph as this runtime runs it, e.g. 'CONV_2D, int8 in and out'. */
  readonly graph: string;
  setInput(codes: Int8Array): void;
  call(): Promise<void>;
  /** The last call's output. */
  output(): Int8Array | Float32Array;
  dispose(): void;
}

type LiteRt = typeof LiteRtTypes;

const inputValues = (spec: ConvProbeSpec, dtype: ProbeDtype, codes: Int8Array) =>
  dtype === 'int8' ? codes : dequantize(codes, spec.input);

export async function tfjsTfliteProbe(spec: ConvProbeSpec, dtype: ProbeDtype, threads: number): Promise<ProbeSession> {
  const runner = await loadTfliteRunner(tfliteConvProbe(spec, dtype, 'int8').slice().buffer, { numThreads: threads });
  const x = runner.getInputs()[0]!;
  const y = runner.getOutputs()[0]!;
  return {
    graph: dtype === 'int8' ? 'CONV_2D, int8 in and out' : 'CONV_2D, fp32',
    // data() views are fetched per call: WASM memory growth detaches older views.
    setInput: (codes) => x.data().set(inputValues(spec, dtype, codes)),
    call: async () => {
      if (!runner.infer()) throw new Error('tfjs-tflite: inference failed');
    },
    output: () => y.data().slice() as Int8Array | Float32Array,
    dispose: () => runner.cleanUp(),
  };
}

/** The same probe graph on the native TFLite library, with or without XNNPACK, as its backends load models. */
export async function tfliteNativeProbe(
  variant: NativeVariant,
  spec: ConvProbeSpec,
  dtype: ProbeDtype,
  threads: number,
): Promise<ProbeSession> {
  const runner = await loadNativeRunner(tfliteConvProbe(spec, dtype, 'int8'), variant, threads);
  const x = runner.getInputs()[0]!;
  const y = runner.getOutputs()[0]!;
  const kernels = variant === 'xnnpack' ? 'XNNPACK delegate' : 'built-in kernels';
  return {
    graph: `${dtype === 'int8' ? 'CONV_2D, int8 in and out' : 'CONV_2D, fp32'} (${kernels})`,
    setInput: (codes) => x.data().set(inputValues(spec, dtype, codes)),
    call: async () => void runner.infer(),
    output: () => y.data().slice() as Int8Array | Float32Array,
    dispose: () => runner.cleanUp(),
  };
}

/** LiteRT.js tensors are float32, int32 or uint8: its int8 graph takes float32 through QUANTIZE and DEQUANTIZE. */
export async function liteRtProbe(
  litert: LiteRt,
  spec: ConvProbeSpec,
  dtype: ProbeDtype,
  threads: number,
): Promise<ProbeSession> {
  const { size: n, inChannels: cin } = spec.shape;
  const compiled = await litert.loadAndCompile(tfliteConvProbe(spec, dtype, 'float'), {
    accelerator: 'wasm',
    cpuOptions: { numThreads: threads },
  });
  let input: LiteRtTypes.Tensor | undefined;
  let last: LiteRtTypes.Tensor[] = [];
  const drop = () => {
    for (const t of last) t.delete();
    last = [];
  };
  return {
    graph:
      dtype === 'int8' ? 'QUANTIZE -> CONV_2D int8 -> DEQUANTIZE (LiteRT.js has no int8 tensors)' : 'CONV_2D, fp32',
    setInput: (codes) => {
      input?.delete();
      input = new litert.Tensor(dequantize(codes, spec.input), [1, n, n, cin]);
    },
    call: async () => {
      if (!input) throw new Error('litert probe: no input set');
      const out = await compiled.run([input]);
      // LiteRT tensors live in WASM memory and are freed only by delete().
      drop();
      last = out;
    },
    output: () => {
      const y = last[0]?.toTypedArray() as Float32Array | undefined;
      if (!y) throw new Error('litert probe: no output yet');
      return dtype === 'int8' ? quantize(y, spec.output) : y.slice();
    },
    dispose: () => {
      drop();
      input?.delete();
      compiled.delete();
    },
  };
}

/** One probe graph on an onnxruntime package, loaded and set up as its backend does. */
async function onnxProbe(
  pkg: OrtPackage,
  spec: ConvProbeSpec,
  dtype: ProbeDtype,
  threads: number,
): Promise<ProbeSession> {
  const ort = await pkg.load(threads);
  const session = await ort.InferenceSession.create(onnxConvProbe(spec, dtype), {
    ...onnxSessionOptions(dtype === 'int8' ? 'int8' : 'float', threads).options,
    ...(pkg.executionProviders ? { executionProviders: pkg.executionProviders } : {}),
  });
  const label = pkg.name;
  const T = ort.Tensor;
  const { size: n, inChannels: cin, outChannels: cout } = spec.shape;
  const type = dtype === 'int8' ? 'uint8' : 'float32';
  const outShape = [1, cout, n, n];
  const y = pkg.preallocatedOutputs
    ? new T(type, dtype === 'int8' ? new Uint8Array(cout * n * n) : new Float32Array(cout * n * n), outShape)
    : null;
  // The graph's int8 codes travel as uint8 (code + 128): shifted on the way in and out.
  let feeds: Record<string, OrtTensor> | undefined;
  let last: OrtTensor | undefined;
  return {
    graph: `${label}: ${dtype === 'int8' ? 'QLinearConv, uint8 activations, int8 weights' : 'Conv, fp32'} (NCHW)`,
    setInput: (codes) => {
      const values = toNchw(inputValues(spec, dtype, codes), n, cin);
      const data = values instanceof Int8Array ? Uint8Array.from(values, (c) => c + 128) : values;
      feeds = { x: new T(type, data, [1, cin, n, n]) };
    },
    call: async () => {
      if (!feeds) throw new Error(`${label} probe: no input set`);
      last = (await (y ? session.run(feeds, { y }) : session.run(feeds)))['y'];
    },
    output: () => {
      if (!last) throw new Error(`${label} probe: no output yet`);
      if (dtype === 'int8')
        return toNhwc(
          Int8Array.from(last.data as Uint8Array, (c) => c - 128),
          n,
          cout,
        );
      return toNhwc(last.data as Float32Array, n, cout);
    },
    dispose: () => void session.release(),
  };
}

/**
 * As the onnxruntime backend sets a session up: its package's loader, threads pinned, sequential, all
 * optimizations.
 */
export const onnxRuntimeProbe = (spec: ConvProbeSpec, dtype: ProbeDtype, threads: number): Promise<ProbeSession> =>
  onnxProbe(NODE, spec, dtype, threads);

/** The same on onnxruntime-web's WASM build, loaded once per process as its backend does. */
export const onnxRuntimeWebProbe = (spec: ConvProbeSpec, dtype: ProbeDtype, threads: number): Promise<ProbeSession> =>
  onnxProbe(WEB, spec, dtype, threads);
