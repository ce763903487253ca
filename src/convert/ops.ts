import type { FbTable } from '../models/flatbuffer.js';
import type { TfliteOperator } from '../models/tflite.js';
import { UserError } from '../util/errors.js';
import type { Attr } from './onnx-builder.js';
import { transposeData, type Converter } from './tflite-to-onnx.js';

/**
 * One converter per TFLite builtin op. Option field ids follow the TFLite
 * schema tables named beside each op. Anything the converter cannot express
 * exactly stops it with the op's name and index: a wrong graph is worse than none.
 */
export type OpConverter = (c: Converter, op: TfliteOperator) => void;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function fail(op: TfliteOperator, what: string): never {
  throw new UserError(`cannot convert op ${op.opcode} (operator #${op.index}): ${what}`);
}

function options(op: TfliteOperator): FbTable {
  if (!op.options) fail(op, 'its builtin options are missing');
  return op.options;
}

function input(op: TfliteOperator, k: number): number {
  const i = op.inputs[k];
  if (i === undefined || i < 0) fail(op, `input ${k} is missing`);
  return i;
}

function output(op: TfliteOperator): number {
  return op.outputs[0]!;
}

/** ActivationFunctionType: NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4, SIGN_BIT 5. */
function activation(c: Converter, op: TfliteOperator, v: string, code: number): string {
  switch (code) {
    case 0: return v;
    case 1: return c.b.node('Relu', [v], `relu${op.index}`);
    case 2: return c.b.node('Clip', [v, c.b.scalarFloat('minus_one', -1), c.b.scalarFloat('one', 1)], `relu1_${op.index}`);
    case 3: return c.b.node('Clip', [v, c.b.scalarFloat('zero', 0), c.b.scalarFloat('six', 6)], `relu6_${op.index}`);
    case 4: return c.b.node('Tanh', [v], `tanh${op.index}`);
    default: fail(op, `fused activation ${code} is not supported`);
  }
}

/** TensorFlow SAME padding, split with the extra pixel at the end; ONNX order [top, left, bottom, right]. */
export function samePads(inH: number, inW: number, kH: number, kW: number, sH: number, sW: number, dH = 1, dW = 1): number[] {
  const total = (size: number, k: number, s: number, d: number) => Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(inH, kH, sH, dH);
  const tw = total(inW, kW, sW, dW);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

/** Padding enum: SAME 0, VALID 1. */
function pads(op: TfliteOperator, padding: number, inShape: number[], kH: number, kW: number, sH: number, sW: number, dH: number, dW: number): number[] {
  if (padding === 1) return [0, 0, 0, 0];
  if (padding !== 0) fail(op, `padding ${padding} is not supported`);
  return samePads(inShape[1]!, inShape[2]!, kH, kW, sH, sW, dH, dW);
}

/** An NCHW-only ONNX op on NHWC data: transpose in, run with the extra (constant) inputs, activation, transpose out. */
function spatial(c: Converter, op: TfliteOperator, onnxOp: string, extra: string[], attrs: Record<string, Attr>, act: number): void {
  const x = c.b.node('Transpose', [c.value(input(op, 0))], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const y = c.b.node(onnxOp, [x, ...extra], `${onnxOp.toLowerCase()}${op.index}`, attrs);
  c.produce(output(op), c.b.node('Transpose', [activation(c, op, y, act)], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }));
}

/**
 * TFLite's int8 average pool sums the codes and divides by the number of valid
 * pixels, rounding halves away from zero. Pooling the integer codes keeps the
 * ties exact, which pooling the real values would not.
 */
function int8AveragePool(c: Converter, op: TfliteOperator, attrs: Record<string, Attr>): void {
  const x = c.b.node('Transpose', [c.centredCodes(input(op, 0))], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const mean = c.b.node('AveragePool', [x], `avgpool${op.index}`, attrs);
  const zp = c.tensor(input(op, 0)).quantization!.zeroPoint[0]!;
  // The kernel averages raw codes: round(mean of centred codes + zero point).
  const raw = c.b.node('Add', [c.b.node('Transpose', [mean], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }), c.b.scalarFloat(`zpf${input(op, 0)}`, zp)], `rawmean${op.index}`);
  c.produceRoundedAway(output(op), raw, 0);
}

function sameQuantization(c: Converter, a: number, b: number): boolean {
  const [qa, qb] = [c.tensor(a).quantization, c.tensor(b).quantization];
  return !!qa && !!qb && qa.scale.length === 1 && qb.scale.length === 1 && qa.scale[0] === qb.scale[0] && qa.zeroPoint[0] === qb.zeroPoint[0];
}

function requireRank4(c: Converter, op: TfliteOperator): number[] {
  const shape = c.tensor(input(op, 0)).shape;
  if (shape.length !== 4) fail(op, `input rank ${shape.length}; expected NHWC rank 4`);
  return shape;
}

/**
 * The integer arithmetic of TFLite's XNNPACK int8 convolutions, in fp32 ops:
 * integer-valued inputs (q - zp) and weights accumulate exactly in fp32 as long
 * as partial sums stay below 2^24 in magnitude (true of every A0 layer on real
 * frames, checked tensor by tensor; not guaranteed for every model), the
 * accumulator is scaled by the fp32 requantization scale in_scale * w_scale /
 * out_scale, rounded half to even and clamped to the activation's quantized
 * range: what XNNPACK's "fp32" requantization does.
 */
function exactConv(c: Converter, op: TfliteOperator, perm: number[], attrs: Record<string, Attr>, act: number): void {
  const xt = c.tensor(input(op, 0));
  const wt = c.tensor(input(op, 1));
  const ot = c.tensor(output(op));
  const [xq, wq, oq] = [xt.quantization!, wt.quantization!, ot.quantization!];
  const sIn = xq.scale[0]!;
  const sOut = oq.scale[0]!;
  const zOut = oq.zeroPoint[0]!;
  const raw = c.constantData(input(op, 1)) as Int8Array;
  const w = transposeData(Float32Array.from(raw), wt.shape, perm);
  const cout = wt.shape[perm[0]!]!;
  const wShape = perm.map((p) => wt.shape[p]!);
  const x = c.b.node('Transpose', [c.centredCodes(input(op, 0))], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const convInputs = [x, c.b.constant(`w${op.index}`, 'float', wShape, w)];
  const bias = op.inputs[2];
  if (bias !== undefined && bias >= 0) convInputs.push(c.b.constant(`b${op.index}`, 'float', [cout], Float32Array.from(c.constantData(bias) as Int32Array)));
  const acc = c.b.node('Conv', convInputs, `acc${op.index}`, attrs);
  const scales = Array.from({ length: cout }, (_, k) => Math.fround(Math.fround(sIn * (wq.scale.length > 1 ? wq.scale[k]! : wq.scale[0]!)) / sOut));
  const y = c.b.node('Mul', [acc, c.b.constant(`rq${op.index}`, 'float', [cout, 1, 1], scales)], `rq${op.index}`);
  const [lo, hi] = activationRange(op, act, sOut, zOut);
  // ONNX Round is half to even, as XNNPACK's fp32 requantization (lrintf / magic bias) is.
  const code = c.b.node('Clip', [c.b.node('Add', [c.b.node('Round', [y], `rnd${op.index}`), c.b.scalarFloat(`zpf${output(op)}`, zOut)], `qz${op.index}`), c.b.scalarFloat(`lo${lo}`, lo), c.b.scalarFloat(`hi${hi}`, hi)], `qc${op.index}`);
  c.bind(output(op), c.b.node('Transpose', [c.fromCodes(output(op), code)], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }));
}

/** The quantized output range of a fused activation, as TFLite's XNNPACK delegate computes it. */
function activationRange(op: TfliteOperator, act: number, scale: number, zp: number): [number, number] {
  const q = (x: number) => zp + Math.round(x / scale);
  switch (act) {
    case 0: return [-128, 127];
    case 1: return [Math.max(-128, q(0)), 127];
    case 2: return [Math.max(-128, q(-1)), Math.min(127, q(1))];
    case 3: return [Math.max(-128, q(0)), Math.min(127, q(6))];
    default: fail(op, `fused activation ${act} is not supported in int8`);
  }
}

function exactEligible(c: Converter, op: TfliteOperator): boolean {
  if (!c.exact) return false;
  const [x, w, o] = [c.tensor(input(op, 0)), c.tensor(input(op, 1)), c.tensor(output(op))];
  return c.isQuantized(x) && c.isQuantized(w) && c.isQuantized(o) && x.quantization!.scale.length === 1 && o.quantization!.scale.length === 1;
}

/** Filter permuted into ONNX layout at conversion time, plus the bias when there is one. */
function weightsAndBias(c: Converter, op: TfliteOperator, perm: number[]): string[] {
  const inputs = [c.constant(input(op, 1), perm)];
  const bias = op.inputs[2];
  if (bias !== undefined && bias >= 0) inputs.push(c.value(bias));
  return inputs;
}

interface ConvParams {
  /** TFLite filter axes in ONNX [Cout, Cin/group, kh, kw] order. */
  perm: number[];
  group: number;
  kH: number;
  kW: number;
  padding: number;
  strides: [number, number];
  dilations: [number, number];
  act: number;
}

/** CONV_2D and DEPTHWISE_CONV_2D differ only in their filter layout and group count. */
function convolution(c: Converter, op: TfliteOperator, inShape: number[], p: ConvParams): void {
  const [sH, sW] = p.strides;
  const [dH, dW] = p.dilations;
  const attrs: Record<string, Attr> = {
    kernel_shape: { ints: [p.kH, p.kW] }, strides: { ints: [sH, sW] }, dilations: { ints: [dH, dW] }, group: { i: p.group },
    pads: { ints: pads(op, p.padding, inShape, p.kH, p.kW, sH, sW, dH, dW) },
  };
  if (exactEligible(c, op)) return exactConv(c, op, p.perm, attrs, p.act);
  spatial(c, op, 'Conv', weightsAndBias(c, op, p.perm), attrs, p.act);
}

// Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5
const conv2d: OpConverter = (c, op) => {
  const o = options(op);
  const inShape = requireRank4(c, op);
  const [, kH, kW, cin] = c.tensor(input(op, 1)).shape as [number, number, number, number];
  const group = inShape[3]! / cin;
  if (!Number.isInteger(group)) fail(op, `input channels ${inShape[3]} are not a multiple of filter channels ${cin}`);
  convolution(c, op, inShape, { perm: [0, 3, 1, 2], group, kH, kW, padding: o.int8(0), strides: [o.int32(2, 1), o.int32(1, 1)], dilations: [o.int32(5, 1), o.int32(4, 1)], act: o.int8(3) });
};

// DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4, dilation_w 5, dilation_h 6
const depthwise: OpConverter = (c, op) => {
  const o = options(op);
  const inShape = requireRank4(c, op);
  const [, kH, kW, cout] = c.tensor(input(op, 1)).shape as [number, number, number, number];
  if (cout % inShape[3]! !== 0) fail(op, `output channels ${cout} are not a multiple of input channels ${inShape[3]}`);
  // [1, kh, kw, Cout] -> [Cout, 1, kh, kw]: one filter per group.
  convolution(c, op, inShape, { perm: [3, 0, 1, 2], group: inShape[3]!, kH, kW, padding: o.int8(0), strides: [o.int32(2, 1), o.int32(1, 1)], dilations: [o.int32(6, 1), o.int32(5, 1)], act: o.int8(4) });
};

// Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5
function pool(onnxOp: 'AveragePool' | 'MaxPool'): OpConverter {
  return (c, op) => {
    const o = options(op);
    const inShape = requireRank4(c, op);
    const [sW, sH, kW, kH] = [o.int32(1, 1), o.int32(2, 1), o.int32(3, 1), o.int32(4, 1)];
    const attrs: Record<string, Attr> = { kernel_shape: { ints: [kH, kW] }, strides: { ints: [sH, sW] }, pads: { ints: pads(op, o.int8(0), inShape, kH, kW, sH, sW, 1, 1) } };
    // TensorFlow averages over the valid pixels only.
    if (onnxOp === 'AveragePool') attrs.count_include_pad = { i: 0 };
    const act = o.int8(5);
    if (onnxOp === 'AveragePool' && act === 0 && c.quantized && c.isQuantized(c.tensor(input(op, 0))) && sameQuantization(c, input(op, 0), output(op))) {
      return int8AveragePool(c, op, attrs);
    }
    spatial(c, op, onnxOp, [], attrs, act);
  };
}

// AddOptions/SubOptions/MulOptions/DivOptions: fused_activation_function 0
function binary(onnxOp: string): OpConverter {
  return (c, op) => {
    const y = c.b.node(onnxOp, [c.value(input(op, 0)), c.value(input(op, 1))], `${onnxOp.toLowerCase()}${op.index}`);
    c.produce(output(op), activation(c, op, y, op.options ? op.options.int8(0) : 0));
  };
}

function unary(onnxOp: string, attrs: Record<string, Attr> = {}): OpConverter {
  return (c, op) => c.produce(output(op), c.b.node(onnxOp, [c.value(input(op, 0))], `${onnxOp.toLowerCase()}${op.index}`, attrs));
}

/** Data movement keeps the scale: when the output's quantization equals the input's, no requantization is added. */
function produceMoved(c: Converter, op: TfliteOperator, v: string): void {
  const a = c.tensor(input(op, 0)).quantization;
  const b = c.tensor(output(op)).quantization;
  const same = a && b && a.scale.length === b.scale.length && a.scale.every((s, k) => s === b.scale[k] && a.zeroPoint[k] === b.zeroPoint[k]);
  if (same) c.bind(output(op), v);
  else c.produce(output(op), v);
}

/** RESHAPE, SQUEEZE, EXPAND_DIMS: the output's static shape says it all. */
const reshape: OpConverter = (c, op) => {
  const out = c.tensor(output(op));
  produceMoved(c, op, c.b.node('Reshape', [c.value(input(op, 0)), c.b.int64s('shape', out.shape)], `reshape${op.index}`));
};

const identity: OpConverter = (c, op) => c.produce(output(op), c.value(input(op, 0)));

// ConcatenationOptions: axis 0, fused_activation_function 1
const concatenation: OpConverter = (c, op) => {
  const o = options(op);
  const rank = c.tensor(output(op)).shape.length;
  const axis = (o.int32(0) + rank) % rank;
  const y = c.b.node('Concat', op.inputs.map((i) => c.value(i)), `concat${op.index}`, { axis: { i: axis } });
  c.produce(output(op), activation(c, op, y, o.int8(1)));
};

function constInts(c: Converter, op: TfliteOperator, k: number): number[] {
  const i = input(op, k);
  if (!c.isConstant(i)) fail(op, `input ${k} must be a constant`);
  return Array.from(c.constantData(i) as ArrayLike<number>);
}

// StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis_mask 2, new_axis_mask 3, shrink_axis_mask 4, offset 5
const stridedSlice: OpConverter = (c, op) => {
  const o = options(op);
  if (o.int32(2) || o.int32(3)) fail(op, 'ellipsis and new-axis masks are not supported');
  if (o.bool(5)) fail(op, 'offset=true is not supported');
  const shape = c.tensor(input(op, 0)).shape;
  const [begin, end, strides] = [constInts(c, op, 1), constInts(c, op, 2), constInts(c, op, 3)];
  const [beginMask, endMask, shrinkMask] = [o.int32(0), o.int32(1), o.int32(4)];
  const starts: number[] = [];
  const ends: number[] = [];
  const squeeze: number[] = [];
  shape.forEach((dim, k) => {
    const step = strides[k] ?? 1;
    if (step === 0) fail(op, 'stride 0');
    let s = beginMask & (1 << k) ? (step > 0 ? 0 : dim - 1) : begin[k]!;
    let e = endMask & (1 << k) ? (step > 0 ? dim : -dim - 1) : end[k]!;
    if (shrinkMask & (1 << k)) {
      s = begin[k]! < 0 ? begin[k]! + dim : begin[k]!;
      e = s + 1;
      squeeze.push(k);
    }
    starts.push(s);
    ends.push(e);
  });
  let y = c.b.node('Slice', [c.value(input(op, 0)), c.b.int64s('starts', starts), c.b.int64s('ends', ends), c.b.int64s('axes', shape.map((_, k) => k)), c.b.int64s('steps', shape.map((_, k) => strides[k] ?? 1))], `slice${op.index}`);
  if (squeeze.length) y = c.b.node('Squeeze', [y, c.b.int64s('axes', squeeze)], `squeeze${op.index}`);
  produceMoved(c, op, y);
};

const ONNX_CAST: Record<string, number> = { float32: 1, int8: 3, int32: 6, int64: 7, bool: 9 };
const cast: OpConverter = (c, op) => {
  const from = c.tensor(input(op, 0));
  const to = c.tensor(output(op));
  if (c.isQuantized(from) || c.isQuantized(to)) fail(op, 'casting quantized tensors is not supported');
  const code = ONNX_CAST[to.type];
  if (code === undefined) fail(op, `cast to ${to.type} is not supported`);
  c.produce(output(op), c.b.node('Cast', [c.value(input(op, 0))], `cast${op.index}`, { to: { i: code } }));
};

const broadcastTo: OpConverter = (c, op) => {
  produceMoved(c, op, c.b.node('Expand', [c.value(input(op, 0)), c.b.int64s('shape', c.tensor(output(op)).shape)], `expand${op.index}`));
};

/**
 * TFLite's int8 SUM and MEAN (QuantizedMeanOrSum): an integer sum of the raw
 * codes, then round(sum * scale + bias) or round(sum / n * scale + bias) in
 * float32 with halves away from zero, scale = in_scale / out_scale.
 */
function int8Reduce(c: Converter, op: TfliteOperator, kind: 'sum' | 'mean', axes: number[], keepdims: Attr): void {
  const [xi, oi] = [input(op, 0), output(op)];
  const [xq, oq] = [c.tensor(xi).quantization!, c.tensor(oi).quantization!];
  const shape = c.tensor(xi).shape;
  const n = axes.reduce((a, k) => a * shape[k]!, 1);
  const f = Math.fround;
  const scale = f(xq.scale[0]! / oq.scale[0]!);
  const zpIn = xq.zeroPoint[0]!;
  const rawCodes = c.b.node('Add', [c.centredCodes(xi), c.b.scalarFloat(`zpf${xi}`, zpIn)], `raw${op.index}`);
  let t = c.b.node('ReduceSum', [rawCodes, c.b.int64s('axes', axes)], `sum${op.index}`, { keepdims });
  let bias: number;
  if (kind === 'sum') bias = f(f(-zpIn * scale) * n);
  else {
    t = c.b.node('Div', [t, c.b.scalarFloat(`n${n}`, n)], `mean${op.index}`);
    bias = f(-zpIn * scale);
  }
  const y = c.b.node('Add', [c.b.node('Mul', [t, c.b.scalarFloat(`rs${op.index}`, scale)], `rsm${op.index}`), c.b.scalarFloat(`rb${op.index}`, bias)], `rsb${op.index}`);
  c.produceRoundedAway(oi, y, oq.zeroPoint[0]!);
}

// ReducerOptions: keep_dims 0
function reduce(onnxOp: 'ReduceMean' | 'ReduceSum' | 'ReduceMax'): OpConverter {
  return (c, op) => {
    const rank = c.tensor(input(op, 0)).shape.length;
    const axes = constInts(c, op, 1).map((a) => (a + rank) % rank);
    const keepdims = { i: op.options?.bool(0) ? 1 : 0 };
    const [xt, ot] = [c.tensor(input(op, 0)), c.tensor(output(op))];
    if (onnxOp !== 'ReduceMax' && c.quantized && c.isQuantized(xt) && c.isQuantized(ot) && xt.quantization!.scale.length === 1) {
      return int8Reduce(c, op, onnxOp === 'ReduceSum' ? 'sum' : 'mean', axes, keepdims);
    }
    const x = c.value(input(op, 0));
    // Opset 17: ReduceSum takes axes as an input, ReduceMean/ReduceMax as an attribute.
    const y = onnxOp === 'ReduceSum'
      ? c.b.node(onnxOp, [x, c.b.int64s('axes', axes)], `reduce${op.index}`, { keepdims })
      : c.b.node(onnxOp, [x], `reduce${op.index}`, { axes: { ints: axes }, keepdims });
    c.produce(output(op), y);
  };
}

const transpose: OpConverter = (c, op) => {
  produceMoved(c, op, c.b.node('Transpose', [c.value(input(op, 0))], `transpose${op.index}`, { perm: { ints: constInts(c, op, 1) } }));
};

const pad: OpConverter = (c, op) => {
  const p = constInts(c, op, 1);
  const rank = p.length / 2;
  const onnxPads = [...Array.from({ length: rank }, (_, k) => p[2 * k]!), ...Array.from({ length: rank }, (_, k) => p[2 * k + 1]!)];
  // A quantized tensor pads with its zero point, which is 0.0 in the float domain.
  produceMoved(c, op, c.b.node('Pad', [c.value(input(op, 0)), c.b.int64s('pads', onnxPads)], `pad${op.index}`));
};

// FullyConnectedOptions: fused_activation_function 0, weights_format 1, keep_num_dims 2
const fullyConnected: OpConverter = (c, op) => {
  const o = options(op);
  if (o.int8(1) !== 0) fail(op, 'shuffled weights are not supported');
  const w = c.tensor(input(op, 1));
  const out = c.tensor(output(op));
  const x = c.b.node('Reshape', [c.value(input(op, 0)), c.b.int64s('shape', [-1, w.shape[1]!])], `fc_in${op.index}`);
  let y = c.b.node('MatMul', [x, c.constant(input(op, 1), [1, 0])], `matmul${op.index}`);
  if (op.inputs[2] !== undefined && op.inputs[2] >= 0) y = c.b.node('Add', [y, c.value(op.inputs[2])], `fc_bias${op.index}`);
  y = activation(c, op, y, o.int8(0));
  c.produce(output(op), c.b.node('Reshape', [y, c.b.int64s('shape', out.shape)], `fc_out${op.index}`));
};

// SoftmaxOptions: beta 0
const softmax: OpConverter = (c, op) => {
  const beta = options(op).float32(0, 1);
  let x = c.value(input(op, 0));
  if (beta !== 1) x = c.b.node('Mul', [x, c.b.scalarFloat('beta', beta)], `beta${op.index}`);
  c.produce(output(op), c.b.node('Softmax', [x], `softmax${op.index}`, { axis: { i: -1 } }));
};

export const OP_CONVERTERS: Record<string, OpConverter> = {
  QUANTIZE: identity,
  DEQUANTIZE: identity,
  RESHAPE: reshape,
  SQUEEZE: reshape,
  EXPAND_DIMS: reshape,
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwise,
  AVERAGE_POOL_2D: pool('AveragePool'),
  MAX_POOL_2D: pool('MaxPool'),
  ADD: binary('Add'),
  SUB: binary('Sub'),
  MUL: binary('Mul'),
  DIV: binary('Div'),
  MAXIMUM: binary('Max'),
  MINIMUM: binary('Min'),
  HARD_SWISH: unary('HardSwish'),
  LOGISTIC: unary('Sigmoid'),
  RELU: unary('Relu'),
  TANH: unary('Tanh'),
  RELU6: (c, op) => c.produce(output(op), activation(c, op, c.value(input(op, 0)), 3)),
  MEAN: reduce('ReduceMean'),
  SUM: reduce('ReduceSum'),
  REDUCE_MAX: reduce('ReduceMax'),
  STRIDED_SLICE: stridedSlice,
  CAST: cast,
  CONCATENATION: concatenation,
  BROADCAST_TO: broadcastTo,
  TRANSPOSE: transpose,
  PAD: pad,
  FULLY_CONNECTED: fullyConnected,
  SOFTMAX: softmax,
};
