import { OnnxGraphBuilder } from '../convert/onnx-builder.js';
import type { IrModel, IrTensor, QuantParams } from '../models/arch/ir.js';
import { int8Weights, Rng } from '../models/arch/random.js';
import { writeTflite } from '../models/arch/writer.js';
import * as schema from '../models/tflite-schema/tflite_generated.js';

/**
 * The roofline probe's graphs: one 1x1 convolution, MoViNet's dominant op
 * (its expansion and projection layers), built as a one-op .tflite for the
 * TFLite runtimes and a one-node ONNX graph for onnxruntime. The int8 graphs
 * quantize as the MoViNet int8 files do: activations per tensor, weights per
 * output channel with zero points 0, biases int32 at input scale times
 * weight scale. The fp32 graphs hold the same weights dequantized.
 */

const { BuiltinOperator: Op, TensorType: TT, BuiltinOptions: Opt, Padding, ActivationFunctionType: Fused } = schema;
const f = Math.fround;

/** A 1x1 convolution over a square NHWC map [1, size, size, inChannels] to outChannels, stride 1. */
export interface ConvShape {
  size: number;
  inChannels: number;
  outChannels: number;
}

export interface Quant {
  scale: number;
  zp: number;
}

/** Everything both graph formats are built from, and a reference computes with. */
export interface ConvProbeSpec {
  shape: ConvShape;
  input: Quant;
  output: Quant;
  /** [outChannels, inChannels], per-channel symmetric (each row's largest magnitude is 127). */
  weights: Int8Array;
  weightScales: Float32Array;
  /** int32 at input scale × weight scale, per output channel. */
  bias: Int32Array;
}

export type ProbeDtype = 'int8' | 'fp32';
/** How the TFLite int8 graph meets the caller: int8 tensors, or float32 ones through QUANTIZE and DEQUANTIZE. */
export type TfliteIo = 'int8' | 'float';

export function convMacs(s: ConvShape): number {
  return s.size * s.size * s.inChannels * s.outChannels;
}

export function describeConv(s: ConvShape): string {
  return `CONV_2D 1x1 ${s.size}x${s.size}x${s.inChannels}->${s.outChannels}`;
}

/** The input as ReLU6 output (MoViNet's expansion and projection inputs), the output at ±4 σ of its values. */
export function convProbeSpec(shape: ConvShape): ConvProbeSpec {
  const { inChannels: cin, outChannels: cout } = shape;
  if (![shape.size, cin, cout].every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`bad probe shape ${JSON.stringify(shape)}`);
  const rng = Rng.for('roofline/conv');
  const weights = int8Weights(rng, cout * cin, cout, (k) => Math.floor(k / cin));
  const weightScales = Float32Array.from({ length: cout }, () => f(rng.uniform(0.5, 1.5) / 127 / Math.sqrt(cin)));
  const input = { scale: f(6 / 255), zp: -128 };
  const bias = Int32Array.from(weightScales, (s) => Math.round(rng.uniform(-0.5, 0.5) / f(input.scale * s)));
  // Uniform input on [0, 6] (rms 2√3), weights bell-shaped at ~0.4 of the row peak: the outputs' σ is about 1.4.
  const sigma = 2 * Math.sqrt(3) * 0.4;
  return { shape, input, output: { scale: f((8 * sigma) / 255), zp: 0 }, weights, weightScales, bias };
}

export function floatWeights(spec: ConvProbeSpec): Float32Array {
  const cin = spec.shape.inChannels;
  return Float32Array.from(spec.weights, (w, k) => f(w * spec.weightScales[Math.floor(k / cin)]!));
}

export function floatBias(spec: ConvProbeSpec): Float32Array {
  return Float32Array.from(spec.bias, (b, c) => f(b * f(spec.input.scale * spec.weightScales[c]!)));
}

/** Seeded random input codes, NHWC. */
export function randomCodes(count: number, seed = 'roofline/input'): Int8Array {
  const rng = Rng.for(seed);
  return Int8Array.from({ length: count }, () => Math.floor(rng.next() * 256) - 128);
}

export function dequantize(codes: Int8Array, q: Quant): Float32Array {
  return Float32Array.from(codes, (c) => f((c - q.zp) * q.scale));
}

/** Round half away from zero, as TFLite's QUANTIZE; saturated to int8. */
export function quantize(values: Float32Array, q: Quant): Int8Array {
  return Int8Array.from(values, (v) => {
    const x = v / q.scale;
    return Math.max(-128, Math.min(127, Math.sign(x) * Math.floor(Math.abs(x) + 0.5) + q.zp));
  });
}

// ---- TFLite ----

const perTensor = (q: Quant): QuantParams => ({ scale: [q.scale], zeroPoint: [q.zp], axis: 0 });
const le = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** The one-op model (or QUANTIZE → CONV_2D → DEQUANTIZE, for int8 with float I/O); input 'x', output 'y'. */
export function tfliteConvProbe(spec: ConvProbeSpec, dtype: ProbeDtype, io: TfliteIo = 'int8'): Uint8Array {
  const { size: n, inChannels: cin, outChannels: cout } = spec.shape;
  const xShape = [1, n, n, cin];
  const yShape = [1, n, n, cout];
  const tensors: IrTensor[] = [];
  const add = (t: IrTensor) => tensors.push(t) - 1;
  const ops: IrModel['ops'] = [];
  const int8 = dtype === 'int8';
  const wrapped = int8 && io === 'float';

  const xIn = add({ name: 'x', shape: xShape, type: int8 && !wrapped ? TT.INT8 : TT.FLOAT32 });
  const x = wrapped ? add({ name: 'x_q', shape: xShape, type: TT.INT8, quant: perTensor(spec.input) }) : xIn;
  if (int8) tensors[x]!.quant = perTensor(spec.input);
  if (wrapped) ops.push({ op: Op.QUANTIZE, inputs: [xIn], outputs: [x] });
  const zeros = new Array<number>(cout).fill(0);
  const w = add(
    int8
      ? {
          name: 'w',
          shape: [cout, 1, 1, cin],
          type: TT.INT8,
          data: new Uint8Array(spec.weights.buffer, spec.weights.byteOffset, spec.weights.length).slice(),
          quant: { scale: Array.from(spec.weightScales), zeroPoint: zeros, axis: 0 },
        }
      : { name: 'w', shape: [cout, 1, 1, cin], type: TT.FLOAT32, data: le(floatWeights(spec)) },
  );
  const biasScales = Array.from(spec.weightScales, (s) => f(spec.input.scale * s));
  const b = add(
    int8
      ? {
          name: 'b',
          shape: [cout],
          type: TT.INT32,
          data: le(spec.bias),
          quant: { scale: biasScales, zeroPoint: zeros, axis: 0 },
        }
      : { name: 'b', shape: [cout], type: TT.FLOAT32, data: le(floatBias(spec)) },
  );
  const y = add(
    int8
      ? { name: wrapped ? 'y_q' : 'y', shape: yShape, type: TT.INT8, quant: perTensor(spec.output) }
      : { name: 'y', shape: yShape, type: TT.FLOAT32 },
  );
  ops.push({
    op: Op.CONV_2D,
    inputs: [x, w, b],
    outputs: [y],
    options: {
      type: Opt.Conv2DOptions,
      write: (fb) => schema.Conv2DOptions.createConv2DOptions(fb, Padding.VALID, 1, 1, Fused.NONE, 1, 1, TT.FLOAT32),
    },
  });
  const yOut = wrapped ? add({ name: 'y', shape: yShape, type: TT.FLOAT32 }) : y;
  if (wrapped) ops.push({ op: Op.DEQUANTIZE, inputs: [y], outputs: [yOut] });

  return writeTflite({
    tensors,
    ops,
    inputs: [xIn],
    outputs: [yOut],
    signatureKey: 'serving_default',
    signatureInputs: [{ name: 'x', tensor: xIn }],
    signatureOutputs: [{ name: 'y', tensor: yOut }],
    description: `movinet-bench roofline probe: ${describeConv(spec.shape)} ${dtype}`,
    metadata: [],
    // The official MoViNet int8 file's versions; a float CONV_2D is version 1.
    opVersions: new Map([
      [Op.CONV_2D, int8 ? 3 : 1],
      [Op.QUANTIZE, 1],
      [Op.DEQUANTIZE, 2],
    ]),
  });
}

// ---- ONNX ----

/**
 * One node, NCHW: QLinearConv (int8 in, out and weights, per-channel weight scales, int32 bias) or Conv.
 * Input 'x', output 'y'.
 */
export function onnxConvProbe(spec: ConvProbeSpec, dtype: ProbeDtype): Uint8Array {
  const { size: n, inChannels: cin, outChannels: cout } = spec.shape;
  const g = new OnnxGraphBuilder();
  // int8 arithmetic as the converted graphs feed it: uint8 activations (code + 128, zero point + 128) against
  // int8 weights: on x86 MLAS's fast path (int8 activations are its slow one there); the same graph on arm64.
  const type = dtype === 'int8' ? 'uint8' : 'float';
  g.input({ name: 'x', type, shape: [1, cin, n, n] });
  g.reserve('y');
  const wDims = [cout, cin, 1, 1];
  if (dtype === 'int8') {
    const scale = (name: string, v: number) => g.constant(name, 'float', [], [v]);
    const zero = (name: string, v: number) => g.constant(name, 'uint8', [], [v + 128]);
    g.node(
      'QLinearConv',
      [
        'x',
        scale('x_scale', spec.input.scale),
        zero('x_zero_point', spec.input.zp),
        g.constant('w', 'int8', wDims, spec.weights),
        g.constant('w_scale', 'float', [cout], spec.weightScales),
        g.constant('w_zero_point', 'int8', [cout], new Int8Array(cout)),
        scale('y_scale', spec.output.scale),
        zero('y_zero_point', spec.output.zp),
        g.constant('b', 'int32', [cout], spec.bias),
      ],
      ['y'],
      { kernel_shape: { ints: [1, 1] } },
    );
  } else {
    g.node(
      'Conv',
      ['x', g.constant('w', 'float', wDims, floatWeights(spec)), g.constant('b', 'float', [cout], floatBias(spec))],
      ['y'],
      {
        kernel_shape: { ints: [1, 1] },
      },
    );
  }
  g.output({ name: 'y', type, shape: [1, cout, n, n] });
  return g.encode({
    producer: 'movinet-bench',
    version: '1',
    doc: `roofline probe: ${describeConv(spec.shape)} ${dtype}`,
    props: {},
  });
}

/** NHWC ↔ NCHW for a [1, size, size, c] map. */
export function toNchw<T extends Int8Array | Float32Array>(nhwc: T, size: number, channels: number): T {
  const out = new (nhwc.constructor as new (n: number) => T)(nhwc.length);
  const hw = size * size;
  for (let p = 0; p < hw; p++) for (let c = 0; c < channels; c++) out[c * hw + p] = nhwc[p * channels + c]!;
  return out;
}

export function toNhwc<T extends Int8Array | Float32Array>(nchw: T, size: number, channels: number): T {
  const out = new (nchw.constructor as new (n: number) => T)(nchw.length);
  const hw = size * size;
  for (let p = 0; p < hw; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = nchw[c * hw + p]!;
  return out;
}
