import {
  ActivationFunctionType,
  AddOptions,
  BuiltinOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  DivOptions,
  FullyConnectedOptions,
  FullyConnectedOptionsWeightsFormat,
  MulOptions,
  Padding,
  Pool2DOptions,
  ReducerOptions,
  SoftmaxOptions,
  StridedSliceOptions,
  SubOptions,
} from '../models/tflite-schema/tflite_generated.js';
import type { BuiltinOptionsTable, TfliteOperator } from '../models/tflite.js';
import { UserError } from '../util/errors.js';
import { transposeData, type Converter } from './context.js';
import { exactHardSwish } from './hard-swish.js';
import { tfliteHardSwish, tfliteLogistic } from './int8-kernels.js';
import { OnnxType, type Attr } from './onnx-builder.js';
import { exactQLinearAdd, xnnAddParams } from './xnn-add.js';

/**
 * One converter per TFLite builtin op, reading options through the accessors
 * generated from models/tflite-schema/tflite.fbs. Anything the converter cannot
 * express exactly stops it with the op's name and index: a wrong graph is worse than none.
 */
export type OpConverter = (c: Converter, op: TfliteOperator) => void;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function fail(op: TfliteOperator, what: string): never {
  throw new UserError(`cannot convert op ${op.opcode} (operator #${op.index}): ${what}`);
}

/** The op's builtin options, which must be a `kind` table. */
function options<T extends BuiltinOptionsTable>(op: TfliteOperator, kind: new () => T): T {
  const o = optionalOptions(op, kind);
  if (!o) fail(op, 'its builtin options are missing');
  return o;
}

/**
 * For ops whose options may be left out (then every field has its schema default); a table of another kind is
 * refused.
 */
function optionalOptions<T extends BuiltinOptionsTable>(op: TfliteOperator, kind: new () => T): T | undefined {
  if (!op.options) return undefined;
  const { type, table } = op.options;
  if (!(table instanceof kind)) fail(op, `its builtin options are ${BuiltinOptions[type] ?? type}, not ${kind.name}`);
  return table;
}

function input(op: TfliteOperator, k: number): number {
  const i = op.inputs[k];
  if (i === undefined || i < 0) fail(op, `input ${k} is missing`);
  return i;
}

function output(op: TfliteOperator): number {
  return op.outputs[0]!;
}

function activation(c: Converter, op: TfliteOperator, v: string, act: ActivationFunctionType): string {
  switch (act) {
    case ActivationFunctionType.NONE:
      return v;
    case ActivationFunctionType.RELU:
      return c.graph.node('Relu', [v], `relu${op.index}`);
    case ActivationFunctionType.RELU_N1_TO_1:
      return c.graph.node(
        'Clip',
        [v, c.graph.scalarFloat('minus_one', -1), c.graph.scalarFloat('one', 1)],
        `relu1_${op.index}`,
      );
    case ActivationFunctionType.RELU6:
      return c.graph.node(
        'Clip',
        [v, c.graph.scalarFloat('zero', 0), c.graph.scalarFloat('six', 6)],
        `relu6_${op.index}`,
      );
    case ActivationFunctionType.TANH:
      return c.graph.node('Tanh', [v], `tanh${op.index}`);
    default:
      fail(op, `fused activation ${ActivationFunctionType[act] ?? act} is not supported`);
  }
}

/** TensorFlow SAME padding, split with the extra pixel at the end; ONNX order [top, left, bottom, right]. */
export function samePads(
  inH: number,
  inW: number,
  kH: number,
  kW: number,
  sH: number,
  sW: number,
  dH = 1,
  dW = 1,
): number[] {
  const total = (size: number, k: number, s: number, d: number) =>
    Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(inH, kH, sH, dH);
  const tw = total(inW, kW, sW, dW);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

function pads(
  op: TfliteOperator,
  padding: Padding,
  inShape: number[],
  kH: number,
  kW: number,
  sH: number,
  sW: number,
  dH: number,
  dW: number,
): number[] {
  // The schema's defaults for strides and filter sizes are 0, which no valid op has.
  if (Math.min(kH, kW, sH, sW, dH, dW) < 1) fail(op, 'filter sizes, strides and dilations must be positive');
  if (padding === Padding.VALID) return [0, 0, 0, 0];
  if (padding !== Padding.SAME) fail(op, `padding ${padding} is not supported`);
  return samePads(inShape[1]!, inShape[2]!, kH, kW, sH, sW, dH, dW);
}

/** An NCHW-only ONNX op on NHWC data: transpose in, run with the extra (constant) inputs, activation, transpose out. */
function spatial(
  c: Converter,
  op: TfliteOperator,
  onnxOp: string,
  extra: string[],
  attrs: Record<string, Attr>,
  act: ActivationFunctionType,
): void {
  const x = c.graph.node('Transpose', [c.value(input(op, 0))], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const y = c.graph.node(onnxOp, [x, ...extra], `${onnxOp.toLowerCase()}${op.index}`, attrs);
  c.produce(
    output(op),
    c.graph.node('Transpose', [activation(c, op, y, act)], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }),
  );
}

/**
 * TFLite's int8 average pool sums the codes and divides by the number of valid
 * pixels, rounding halves away from zero. Pooling the integer codes keeps the
 * ties exact, which pooling the real values would not.
 */
function int8AveragePool(c: Converter, op: TfliteOperator, attrs: Record<string, Attr>): void {
  if (c.unsigned && qdqAveragePool(c, op, attrs)) return;
  const x = c.graph.node('Transpose', [c.centredCodes(input(op, 0))], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const mean = c.graph.node('AveragePool', [x], `avgpool${op.index}`, attrs);
  const zp = c.tensor(input(op, 0)).quantization!.zeroPoint[0]!;
  // The kernel averages raw codes: round(mean of centred codes + zero point).
  const raw = c.graph.node(
    'Add',
    [
      c.graph.node('Transpose', [mean], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }),
      c.graph.scalarFloat(`zpf${input(op, 0)}`, zp),
    ],
    `rawmean${op.index}`,
  );
  c.produceRoundedAway(output(op), raw, 0);
}

/**
 * The same average in the int8 QDQ graph, exact without the rounding nodes:
 * the codes are read at scale 1 with zero point 128 (their raw int8 values),
 * averaged in fp32, and the mean is multiplied by 1 + d before it is quantized
 * at scale 1: a tie (a mean of n codes ends in .5 only for even n) moves away
 * from zero and rounds as TFLite rounds it, while no other mean (at least
 * 1 / 2n from a tie) crosses one. The Mul also keeps onnxruntime from fusing
 * the pool into QLinearAveragePool, a scalar loop slower here than its float
 * pooling. False for a pool too large for d to fit between the two.
 */
function qdqAveragePool(c: Converter, op: TfliteOperator, attrs: Record<string, Attr>): boolean {
  const [xi, oi] = [input(op, 0), output(op)];
  if (c.tensor(xi).type !== 'int8') return false;
  const kernel = 'ints' in attrs.kernel_shape! ? attrs.kernel_shape.ints : [];
  const n = kernel.reduce((a, b) => a * b, 1);
  // 128 d <= 1/4n keeps every other mean on its side; a tie moves by at least d/2, far above fp32's error.
  const d = 2 ** -Math.ceil(Math.log2(512 * n));
  if (d < 2 ** -18) return false;
  const [one, zp] = [c.graph.scalarFloat('one', 1), c.graph.constant('zpu128', 'uint8', [], [128])];
  const x = c.graph.node('Transpose', [c.codesOf(xi)], `nchw${op.index}`, { perm: { ints: TO_NCHW } });
  const mean = c.graph.node(
    'AveragePool',
    [c.graph.node('DequantizeLinear', [x, one, zp], `raw${op.index}`)],
    `avgpool${op.index}`,
    attrs,
  );
  const away = c.graph.node('Mul', [mean, c.graph.scalarFloat(`away${n}`, 1 + d)], `away${op.index}`);
  const codes = c.graph.node('QuantizeLinear', [away, one, zp], `q${oi}`);
  c.setCodes(oi, c.graph.node('Transpose', [codes], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }));
  return true;
}

function sameQuantization(c: Converter, a: number, b: number): boolean {
  const [qa, qb] = [c.tensor(a).quantization, c.tensor(b).quantization];
  return (
    !!qa &&
    !!qb &&
    qa.scale.length === 1 &&
    qb.scale.length === 1 &&
    qa.scale[0] === qb.scale[0] &&
    qa.zeroPoint[0] === qb.zeroPoint[0]
  );
}

function requireRank4(c: Converter, op: TfliteOperator): number[] {
  const shape = c.tensor(input(op, 0)).shape;
  if (shape.length !== 4) fail(op, `input rank ${shape.length}; expected NHWC rank 4`);
  return shape;
}

/**
 * The integer arithmetic of TFLite's XNNPACK int8 convolutions, in fp32 ops:
 * integer-valued inputs (q - zp) and weights accumulate exactly in fp32 when
 * no partial sum can reach 2^24 in magnitude (checked per layer from the
 * weights, the bias and the input's code range); the accumulator is scaled by
 * the fp32 requantization scale in_scale * w_scale / out_scale, rounded half
 * to even and clamped to the activation's quantized range: what XNNPACK's
 * "fp32" requantization does.
 */
function exactConv(
  c: Converter,
  op: TfliteOperator,
  perm: number[],
  attrs: Record<string, Attr>,
  act: ActivationFunctionType,
): void {
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
  const bias = op.inputs[2];
  const b = bias !== undefined && bias >= 0 ? Float32Array.from(c.constantData(bias) as Int32Array) : undefined;
  const scales = Array.from({ length: cout }, (_, k) =>
    Math.fround(Math.fround(sIn * (wq.scale.length > 1 ? wq.scale[k]! : wq.scale[0]!)) / sOut),
  );
  const zIn = xq.zeroPoint[0]!;
  const perChannel = w.length / cout;
  let bound = 0;
  for (let k = 0; k < cout; k++) {
    let sum = Math.abs(b?.[k] ?? 0);
    for (let j = 0; j < perChannel; j++) sum += Math.abs(w[k * perChannel + j]!) * Math.max(127 - zIn, zIn + 128);
    bound = Math.max(bound, sum);
  }
  const dense = 'i' in attrs.group! && attrs.group.i === 1 && xt.shape[1] === 1 && xt.shape[2] === 1;
  // Every partial sum (in any order, bias included) is an exact fp32 integer below 2^24. Past it, fp32
  // would round the accumulator, so a convolution of one pixel (the classifier) accumulates in float64;
  // XNNPACK's (float) of its int32 accumulator is then the one rounding, as it is in the kernel.
  if (bound >= 2 ** 24 && !(dense && wShape[2] === 1 && wShape[3] === 1))
    fail(op, 'its int32 accumulator can pass 2^24, which fp32 cannot hold exactly (int8-exact)');
  let y: string;
  if (bound >= 2 ** 24) {
    const cin = perChannel;
    const wt64 = new Float64Array(cin * cout);
    for (let k = 0; k < cout; k++) for (let j = 0; j < cin; j++) wt64[j * cout + k] = w[k * cin + j]!;
    const flat = c.graph.node(
      'Reshape',
      [c.centredCodes(input(op, 0)), c.graph.int64s('shape', c.shapeOf(input(op, 0), [1, cin]))],
      `dflat${op.index}`,
    );
    let acc = c.graph.node(
      'MatMul',
      [
        c.graph.node('Cast', [flat], `dx${op.index}`, { to: { i: 11 } }),
        c.graph.constant(`dw${op.index}`, 'double', [cin, cout], wt64),
      ],
      `dacc${op.index}`,
    );
    if (b) acc = c.graph.node('Add', [acc, c.graph.constant(`db${op.index}`, 'double', [cout], b)], `dbias${op.index}`);
    y = c.graph.node(
      'Mul',
      [
        c.graph.node('Cast', [acc], `daccf${op.index}`, { to: { i: 1 } }),
        c.graph.constant(`rq${op.index}`, 'float', [cout], scales),
      ],
      `rq${op.index}`,
    );
  } else {
    const x = c.graph.node('Transpose', [c.centredCodes(input(op, 0))], `nchw${op.index}`, {
      perm: { ints: TO_NCHW },
    });
    const convInputs = [x, c.graph.constant(`w${op.index}`, 'float', wShape, w)];
    if (b) convInputs.push(c.graph.constant(`b${op.index}`, 'float', [cout], b));
    const acc = c.graph.node('Conv', convInputs, `acc${op.index}`, attrs);
    y = c.graph.node('Mul', [acc, c.graph.constant(`rq${op.index}`, 'float', [cout, 1, 1], scales)], `rq${op.index}`);
  }
  const [lo, hi] = activationRange(op, act, sOut, zOut);
  // ONNX Round is half to even, as XNNPACK's fp32 requantization (lrintf / magic bias) is.
  const code = c.graph.node(
    'Clip',
    [
      c.graph.node(
        'Add',
        [c.graph.node('Round', [y], `rnd${op.index}`), c.graph.scalarFloat(`zpf${output(op)}`, zOut)],
        `qz${op.index}`,
      ),
      c.graph.scalarFloat(`lo${lo}`, lo),
      c.graph.scalarFloat(`hi${hi}`, hi),
    ],
    `qc${op.index}`,
  );
  const real = c.fromCodes(output(op), code);
  c.setValue(
    output(op),
    bound >= 2 ** 24
      ? c.graph.node('Reshape', [real, c.graph.int64s('shape', c.shapeOf(output(op), ot.shape))], `dout${op.index}`)
      : c.graph.node('Transpose', [real], `nhwc${op.index}`, { perm: { ints: TO_NHWC } }),
  );
}

/** The quantized output range of a fused activation, as TFLite's XNNPACK delegate computes it. */
function activationRange(op: TfliteOperator, act: ActivationFunctionType, scale: number, zp: number): [number, number] {
  const q = (x: number) => zp + Math.round(x / scale);
  switch (act) {
    case ActivationFunctionType.NONE:
      return [-128, 127];
    case ActivationFunctionType.RELU:
      return [Math.max(-128, q(0)), 127];
    case ActivationFunctionType.RELU_N1_TO_1:
      return [Math.max(-128, q(-1)), Math.min(127, q(1))];
    case ActivationFunctionType.RELU6:
      return [Math.max(-128, q(0)), Math.min(127, q(6))];
    default:
      fail(op, `fused activation ${ActivationFunctionType[act] ?? act} is not supported in int8`);
  }
}

function exactEligible(c: Converter, op: TfliteOperator): boolean {
  if (!c.exact) return false;
  const [x, w, o] = [c.tensor(input(op, 0)), c.tensor(input(op, 1)), c.tensor(output(op))];
  return (
    c.isQuantized(x) &&
    c.isQuantized(w) &&
    c.isQuantized(o) &&
    x.quantization!.scale.length === 1 &&
    o.quantization!.scale.length === 1
  );
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
  padding: Padding;
  strides: [number, number];
  dilations: [number, number];
  act: ActivationFunctionType;
}

/** CONV_2D and DEPTHWISE_CONV_2D differ only in their filter layout and group count. */
function convolution(c: Converter, op: TfliteOperator, inShape: number[], p: ConvParams): void {
  const [sH, sW] = p.strides;
  const [dH, dW] = p.dilations;
  const attrs: Record<string, Attr> = {
    kernel_shape: { ints: [p.kH, p.kW] },
    strides: { ints: [sH, sW] },
    dilations: { ints: [dH, dW] },
    group: { i: p.group },
    pads: { ints: pads(op, p.padding, inShape, p.kH, p.kW, sH, sW, dH, dW) },
  };
  if (exactEligible(c, op)) return exactConv(c, op, p.perm, attrs, p.act);
  spatial(c, op, 'Conv', weightsAndBias(c, op, p.perm), attrs, p.act);
}

const conv2d: OpConverter = (c, op) => {
  const o = options(op, Conv2DOptions);
  const inShape = requireRank4(c, op);
  const [, kH, kW, cin] = c.tensor(input(op, 1)).shape as [number, number, number, number];
  const group = inShape[3]! / cin;
  if (!Number.isInteger(group)) fail(op, `input channels ${inShape[3]} are not a multiple of filter channels ${cin}`);
  convolution(c, op, inShape, {
    perm: [0, 3, 1, 2],
    group,
    kH,
    kW,
    padding: o.padding(),
    strides: [o.strideH(), o.strideW()],
    dilations: [o.dilationHFactor(), o.dilationWFactor()],
    act: o.fusedActivationFunction(),
  });
};

const depthwise: OpConverter = (c, op) => {
  const o = options(op, DepthwiseConv2DOptions);
  const inShape = requireRank4(c, op);
  const [, kH, kW, cout] = c.tensor(input(op, 1)).shape as [number, number, number, number];
  if (cout % inShape[3]! !== 0) fail(op, `output channels ${cout} are not a multiple of input channels ${inShape[3]}`);
  // [1, kh, kw, Cout] -> [Cout, 1, kh, kw]: one filter per group.
  convolution(c, op, inShape, {
    perm: [3, 0, 1, 2],
    group: inShape[3]!,
    kH,
    kW,
    padding: o.padding(),
    strides: [o.strideH(), o.strideW()],
    dilations: [o.dilationHFactor(), o.dilationWFactor()],
    act: o.fusedActivationFunction(),
  });
};

function pool(onnxOp: 'AveragePool' | 'MaxPool'): OpConverter {
  return (c, op) => {
    const o = options(op, Pool2DOptions);
    const inShape = requireRank4(c, op);
    const [sW, sH, kW, kH] = [o.strideW(), o.strideH(), o.filterWidth(), o.filterHeight()];
    const attrs: Record<string, Attr> = {
      kernel_shape: { ints: [kH, kW] },
      strides: { ints: [sH, sW] },
      pads: { ints: pads(op, o.padding(), inShape, kH, kW, sH, sW, 1, 1) },
    };
    // TensorFlow averages over the valid pixels only.
    if (onnxOp === 'AveragePool') attrs.count_include_pad = { i: 0 };
    const act = o.fusedActivationFunction();
    if (
      onnxOp === 'AveragePool' &&
      act === ActivationFunctionType.NONE &&
      c.quantized &&
      c.isQuantized(c.tensor(input(op, 0))) &&
      sameQuantization(c, input(op, 0), output(op))
    ) {
      return int8AveragePool(c, op, attrs);
    }
    spatial(c, op, onnxOp, [], attrs, act);
  };
}

export { roundHalfEven, xnnAddParams } from './xnn-add.js';

/** Clamps int8 codes held as floats to an activation's range and reads them as tensor i. */
function produceCodes(c: Converter, op: TfliteOperator, code: string, act: ActivationFunctionType): void {
  const oq = c.tensor(output(op)).quantization!;
  const [lo, hi] = activationRange(op, act, oq.scale[0]!, oq.zeroPoint[0]!);
  const clipped = c.graph.node(
    'Clip',
    [
      c.graph.node('Add', [code, c.graph.scalarFloat(`zpf${output(op)}`, oq.zeroPoint[0]!)], `qz${op.index}`),
      c.graph.scalarFloat(`lo${lo}`, lo),
      c.graph.scalarFloat(`hi${hi}`, hi),
    ],
    `qc${op.index}`,
  );
  c.setValue(output(op), c.fromCodes(output(op), clipped));
}

/**
 * XNNPACK's int8 ADD (and SUB, with the second multiplier negated) in integer
 * arithmetic: the accumulator reaches 2^29, past fp32's exact integers, so it
 * is computed in float64, where it is exact.
 */
function exactAdd(c: Converter, op: TfliteOperator, sign: 1 | -1, act: ActivationFunctionType): void {
  const [ai, bi, oi] = [input(op, 0), input(op, 1), output(op)];
  const so = c.tensor(oi).quantization!.scale[0]!;
  const f = Math.fround;
  const ratio = (i: number) => f(c.tensor(i).quantization!.scale[0]! / so);
  const p = xnnAddParams(ratio(ai), sign * ratio(bi));
  const dbl = (i: number) => c.graph.node('Cast', [c.centredCodes(i)], `qd${i}`, { to: { i: 11 } });
  const d = (base: string, v: number) => c.graph.constant(base, 'double', [], [v]);
  const acc = c.graph.node(
    'Add',
    [
      c.graph.node('Mul', [dbl(ai), d(`am${op.index}`, p.a)], `accA${op.index}`),
      c.graph.node('Mul', [dbl(bi), d(`bm${op.index}`, p.b)], `accB${op.index}`),
    ],
    `acc${op.index}`,
  );
  const shifted = c.graph.node(
    'Floor',
    [
      c.graph.node(
        'Mul',
        [
          c.graph.node('Add', [acc, d(`rnd${p.shift}`, 2 ** (p.shift - 1))], `accr${op.index}`),
          d(`shr${p.shift}`, 2 ** -p.shift),
        ],
        `accs${op.index}`,
      ),
    ],
    `asr${op.index}`,
  );
  produceCodes(c, op, c.graph.node('Cast', [shifted], `asrf${op.index}`, { to: { i: 1 } }), act);
}

/**
 * XNNPACK's int8 MUL: the product of the centred codes (exact in fp32) times
 * the fp32 scale a_scale * b_scale / out_scale, rounded half to even.
 */
function exactMul(c: Converter, op: TfliteOperator, act: ActivationFunctionType): void {
  const [ai, bi, oi] = [input(op, 0), input(op, 1), output(op)];
  const f = Math.fround;
  const scale = f(
    f(c.tensor(ai).quantization!.scale[0]! * c.tensor(bi).quantization!.scale[0]!) /
      c.tensor(oi).quantization!.scale[0]!,
  );
  const y = c.graph.node(
    'Mul',
    [
      c.graph.node('Mul', [c.centredCodes(ai), c.centredCodes(bi)], `prod${op.index}`),
      c.graph.scalarFloat(`ms${op.index}`, scale),
    ],
    `prods${op.index}`,
  );
  produceCodes(c, op, c.graph.node('Round', [y], `rnd${op.index}`), act);
}

function int8Binary(c: Converter, op: TfliteOperator): boolean {
  if (!c.exact) return false;
  const ts = [input(op, 0), input(op, 1), output(op)].map((i) => c.tensor(i));
  return ts.every((t) => t.type === 'int8' && t.quantization && t.quantization.scale.length === 1);
}

/**
 * An int8 op of one int8 input as a 256-entry table of output values, looked
 * up by the input's code: exact whatever arithmetic made the table.
 */
function int8Table(c: Converter, op: TfliteOperator, table: (code: number) => number): void {
  const [xi, oi] = [input(op, 0), output(op)];
  if (c.unsigned) {
    const lut = Array.from({ length: 256 }, (_, k) => table(k - 128) + 128);
    const index = c.graph.node('Cast', [c.codesOf(xi)], `lutidx${op.index}`, { to: { i: OnnxType.int64 } });
    c.setCodes(oi, c.graph.node('Gather', [c.graph.constant(`lut${op.index}`, 'uint8', [256], lut), index], `q${oi}`));
    return;
  }
  const zp = c.tensor(xi).quantization!.zeroPoint[0]!;
  const oq = c.tensor(oi).quantization!;
  const values = Array.from({ length: 256 }, (_, k) => Math.fround((table(k - 128) - oq.zeroPoint[0]!) * oq.scale[0]!));
  const index = c.graph.node(
    'Cast',
    [c.graph.node('Add', [c.centredCodes(xi), c.graph.scalarFloat(`lutoff${zp}`, zp + 128)], `lutidx${op.index}`)],
    `lutidxi${op.index}`,
    { to: { i: 7 } },
  );
  c.setValue(oi, c.graph.node('Gather', [c.graph.constant(`lut${op.index}`, 'float', [256], values), index], `t${oi}`));
}

function int8Unary(c: Converter, op: TfliteOperator): boolean {
  if (!c.quantized) return false;
  const ts = [input(op, 0), output(op)].map((i) => c.tensor(i));
  return ts.every((t) => t.type === 'int8' && t.quantization && t.quantization.scale.length === 1);
}

/**
 * The int8 QDQ graph looks a table up only for small tensors: onnxruntime's
 * Gather copies element by element (1.4 ms for the 177k codes of a 86x86x24 map).
 */
const QDQ_TABLE_MAX = 4096;

function small(c: Converter, i: number): boolean {
  return c.tensor(i).shape.reduce((a, b) => a * b, 1) <= QDQ_TABLE_MAX;
}

const hardSwish: OpConverter = (c, op) => {
  if (!int8Unary(c, op)) return unary('HardSwish')(c, op);
  const [xq, oq] = [c.tensor(input(op, 0)).quantization!, c.tensor(output(op)).quantization!];
  const table = tfliteHardSwish(xq.scale[0]!, xq.zeroPoint[0]!, oq.scale[0]!, oq.zeroPoint[0]!);
  if (c.exact || small(c, output(op))) return int8Table(c, op, table);
  // int8 QDQ: the fp32 chain with the parameters that make it TFLite's table, else with the model's own.
  const p = exactHardSwish(xq.scale[0]!, xq.zeroPoint[0]!, oq.scale[0]!, oq.zeroPoint[0]!, table) ?? {
    sx: xq.scale[0]!,
    zx: xq.zeroPoint[0]! + 128,
    alpha: Math.fround(1 / 6),
    beta: 0.5,
    d: 0,
    sy: oq.scale[0]!,
    zy: oq.zeroPoint[0]! + 128,
  };
  const [xi, oi] = [input(op, 0), output(op)];
  const x = c.graph.node(
    'DequantizeLinear',
    [c.codesOf(xi), c.graph.scalarFloat(`shs${op.index}`, p.sx), c.graph.constant(`zpu${xi}`, 'uint8', [], [p.zx])],
    `hsx${op.index}`,
  );
  const gate = c.graph.node('HardSigmoid', [x], `hsig${op.index}`, { alpha: { f: p.alpha }, beta: { f: p.beta } });
  let y = c.graph.node('Mul', [x, gate], `hswish${op.index}`);
  if (p.d !== 0) y = c.graph.node('Add', [y, c.graph.scalarFloat(`hsd${op.index}`, p.d)], `hswishd${op.index}`);
  const zy = c.graph.constant(`zpu${oi}`, 'uint8', [], [p.zy]);
  c.setCodes(oi, c.graph.node('QuantizeLinear', [y, c.graph.scalarFloat(`shsy${op.index}`, p.sy), zy], `q${oi}`));
};

const logistic: OpConverter = (c, op) => {
  // int8 QDQ: a large tensor goes to onnxruntime's QLinearSigmoid (its own table, rounded half to even).
  if (!int8Unary(c, op) || (!c.exact && !small(c, output(op)))) return unary('Sigmoid')(c, op);
  const [xq, oq] = [c.tensor(input(op, 0)).quantization!, c.tensor(output(op)).quantization!];
  int8Table(c, op, tfliteLogistic(xq.scale[0]!, xq.zeroPoint[0]!, oq.scale[0]!, oq.zeroPoint[0]!));
};

/**
 * XNNPACK's float-to-int8 convert: the value times the fp32 reciprocal of the
 * scale, rounded half to even (QuantizeLinear divides, which parts from it
 * near ties).
 */
const quantize: OpConverter = (c, op) => {
  const [xi, oi] = [input(op, 0), output(op)];
  const ot = c.tensor(oi);
  if (!c.exact || c.tensor(xi).type !== 'float32' || ot.type !== 'int8' || ot.quantization?.scale.length !== 1)
    return identity(c, op);
  const inverse = Math.fround(1 / ot.quantization.scale[0]!);
  const y = c.graph.node('Mul', [c.value(xi), c.graph.scalarFloat(`qinv${oi}`, inverse)], `qscaled${op.index}`);
  produceCodes(c, op, c.graph.node('Round', [y], `rnd${op.index}`), ActivationFunctionType.NONE);
};

/**
 * An int8 QDQ ADD of two int8 tensors of one shape (no activation) as
 * DequantizeLinear-Add-QuantizeLinear with the scales under which onnxruntime's
 * fused QLinearAdd computes XNNPACK's fixed-point sum exactly (xnn-add.ts): the
 * codes go in through DequantizeLinears of their own and come out at scale 1,
 * read back at the output's scale. False when the op does not qualify (MLAS
 * rounds broadcasts differently) or no such scales exist; the model's own
 * scales are used then.
 */
function qdqAdd(c: Converter, op: TfliteOperator): boolean {
  if (!c.unsigned) return false;
  const [ai, bi, oi] = [input(op, 0), input(op, 1), output(op)];
  const ts = [ai, bi, oi].map((i) => c.tensor(i));
  if (!ts.every((t) => t.type === 'int8' && t.quantization?.scale.length === 1)) return false;
  if (ts[0]!.shape.join() !== ts[1]!.shape.join() || ts[0]!.shape.join() !== ts[2]!.shape.join()) return false;
  const [a, b, o] = ts.map((t) => ({ scale: t.quantization!.scale[0]!, zeroPoint: t.quantization!.zeroPoint[0]! }));
  const p = exactQLinearAdd(a!, b!, o!);
  if (!p) return false;
  const dq = (codes: string, scale: number, zeroPoint: number, base: string) =>
    c.graph.node(
      'DequantizeLinear',
      [codes, c.graph.scalarFloat(`s${base}`, scale), c.graph.constant(`zpu${base}`, 'uint8', [], [zeroPoint])],
      base,
    );
  const sum = c.graph.node(
    'Add',
    [dq(c.codesOf(ai), p.sA, p.zA, `xa${op.index}`), dq(c.codesOf(bi), p.sB, p.zB, `xb${op.index}`)],
    `add${op.index}`,
  );
  const codes = c.graph.node(
    'QuantizeLinear',
    [sum, c.graph.scalarFloat(`sxc${op.index}`, p.sC), c.graph.constant(`zpu${oi}`, 'uint8', [], [p.zC])],
    `q${oi}`,
  );
  c.setCodes(oi, codes);
  return true;
}

/** `fused`: the options class of an op with a fused activation (MAXIMUM and MINIMUM have none). */
function binary(onnxOp: string, fused?: new () => AddOptions | SubOptions | MulOptions | DivOptions): OpConverter {
  return (c, op) => {
    if ((onnxOp === 'Add' || onnxOp === 'Sub' || onnxOp === 'Mul') && int8Binary(c, op)) {
      const act = fused ? optionalOptions(op, fused)?.fusedActivationFunction() : undefined;
      requireBatchRank(c, op);
      if (onnxOp === 'Mul') return exactMul(c, op, act ?? ActivationFunctionType.NONE);
      return exactAdd(c, op, onnxOp === 'Add' ? 1 : -1, act ?? ActivationFunctionType.NONE);
    }
    const act = fused ? optionalOptions(op, fused)?.fusedActivationFunction() : undefined;
    if (onnxOp === 'Add' && (act ?? ActivationFunctionType.NONE) === ActivationFunctionType.NONE && qdqAdd(c, op))
      return;
    const y = c.graph.node(
      onnxOp,
      [batchInFront(c, op, 0), batchInFront(c, op, 1)],
      `${onnxOp.toLowerCase()}${op.index}`,
    );
    c.produce(output(op), activation(c, op, y, act ?? ActivationFunctionType.NONE));
  };
}

/**
 * Broadcasting aligns trailing axes: an operand of lower rank than the op's output would meet its batch with
 * another axis (the model's batch of one broadcasts anywhere), so its batch is moved to the front.
 */
function batchInFront(c: Converter, op: TfliteOperator, k: number): string {
  const i = input(op, k);
  const shape = c.tensor(i).shape;
  const rank = c.tensor(output(op)).shape.length;
  if (!c.carriesBatch(i) || shape.length === rank) return c.value(i);
  const front = [-1, ...new Array<number>(rank - shape.length).fill(1), ...shape.slice(1)];
  return c.graph.node('Reshape', [c.value(i), c.graph.int64s('shape', front)], `batchfront${op.index}_${k}`);
}

/** The integer-arithmetic paths broadcast as the model does: a free batch needs operands of the output's rank. */
function requireBatchRank(c: Converter, op: TfliteOperator): void {
  const rank = c.tensor(output(op)).shape.length;
  for (const i of op.inputs)
    if (c.carriesBatch(i) && c.tensor(i).shape.length !== rank)
      fail(op, 'an operand of lower rank would broadcast its batch against another axis');
}

function unary(onnxOp: string, attrs: Record<string, Attr> = {}): OpConverter {
  return (c, op) =>
    c.produce(output(op), c.graph.node(onnxOp, [c.value(input(op, 0))], `${onnxOp.toLowerCase()}${op.index}`, attrs));
}

/**
 * Data movement keeps the scale: when the output's quantization equals the
 * input's, no requantization is added, and the int8 QDQ graph moves the uint8
 * codes themselves, read through one DequantizeLinear after the move. `move`
 * builds the op on its input (`codes` when that input is the codes).
 */
function produceMoved(c: Converter, op: TfliteOperator, move: (x: string, codes: boolean) => string): void {
  const [xi, oi] = [input(op, 0), output(op)];
  const a = c.tensor(xi).quantization;
  const b = c.tensor(oi).quantization;
  const same =
    a &&
    b &&
    a.scale.length === b.scale.length &&
    a.scale.every((s, k) => s === b.scale[k] && a.zeroPoint[k] === b.zeroPoint[k]);
  if (same && c.unsigned && c.tensor(xi).type === 'int8' && a.scale.length === 1) {
    c.setCodes(oi, move(c.codesOf(xi), true));
    return;
  }
  const v = move(c.value(xi), false);
  if (same) c.setValue(oi, v);
  else c.produce(oi, v);
}

/**
 * The axes of `to` that are ones inserted into `from`, the batch staying first; undefined when `to` is not `from`
 * with ones inserted.
 */
function insertedOnes(from: readonly number[], to: readonly number[]): number[] | undefined {
  if (to.length <= from.length || to[0] !== from[0]) return undefined;
  const axes: number[] = [];
  let k = 0;
  for (const [j, d] of to.entries()) {
    if (k < from.length && d === from[k]) k++;
    else if (d === 1) axes.push(j);
    else return undefined;
  }
  return k === from.length ? axes : undefined;
}

/**
 * RESHAPE, SQUEEZE, EXPAND_DIMS: the output's static shape says it all. With a free batch axis that shape is not
 * static any more, and onnxruntime's transpose optimizer no longer sees that most of these only add or drop unit
 * axes; written as Unsqueeze and Squeeze they keep the fixed graph's transposes, so a batch of one computes the
 * same values in the same order.
 */
const reshape: OpConverter = (c, op) => {
  const [from, to] = [c.tensor(input(op, 0)).shape, c.tensor(output(op)).shape];
  const shape = c.shapeOf(output(op), to);
  const free = c.carriesBatch(output(op));
  const unsqueeze = free ? insertedOnes(from, to) : undefined;
  const squeeze = free ? insertedOnes(to, from) : undefined;
  produceMoved(c, op, (x) =>
    unsqueeze
      ? c.graph.node('Unsqueeze', [x, c.graph.int64s('axes', unsqueeze)], `unsqueeze${op.index}`)
      : squeeze
        ? c.graph.node('Squeeze', [x, c.graph.int64s('axes', squeeze)], `squeeze${op.index}`)
        : c.graph.node('Reshape', [x, c.graph.int64s('shape', shape)], `reshape${op.index}`),
  );
};

const identity: OpConverter = (c, op) => c.produce(output(op), c.value(input(op, 0)));

const concatenation: OpConverter = (c, op) => {
  const o = options(op, ConcatenationOptions);
  const rank = c.tensor(output(op)).shape.length;
  const axis = (o.axis() + rank) % rank;
  const batched = op.inputs.filter((i) => c.carriesBatch(i)).length;
  if (batched && (axis === 0 || batched < op.inputs.length))
    fail(op, 'with a free batch axis it would join streams, or a stream with a constant of one row');
  const y = c.graph.node(
    'Concat',
    op.inputs.map((i) => c.value(i)),
    `concat${op.index}`,
    { axis: { i: axis } },
  );
  c.produce(output(op), activation(c, op, y, o.fusedActivationFunction()));
};

function constInts(c: Converter, op: TfliteOperator, k: number): number[] {
  const i = input(op, k);
  if (!c.isConstant(i)) fail(op, `input ${k} must be a constant`);
  return Array.from(c.constantData(i) as ArrayLike<number>);
}

const stridedSlice: OpConverter = (c, op) => {
  const o = options(op, StridedSliceOptions);
  if (o.ellipsisMask() || o.newAxisMask()) fail(op, 'ellipsis and new-axis masks are not supported');
  if (o.offset()) fail(op, 'offset=true is not supported');
  const shape = c.tensor(input(op, 0)).shape;
  const [begin, end, strides] = [constInts(c, op, 1), constInts(c, op, 2), constInts(c, op, 3)];
  const [beginMask, endMask, shrinkMask] = [o.beginMask(), o.endMask(), o.shrinkAxisMask()];
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
  // A free batch axis is left out of the Slice: the model's slice of its one row would cut a batch back to one.
  const from = c.carriesBatch(input(op, 0)) ? 1 : 0;
  if (from && (squeeze.includes(0) || (starts[0] !== 0 && starts[0] !== -1) || ends[0]! < 1 || (strides[0] ?? 1) !== 1))
    fail(op, 'it slices the batch axis, which a free batch axis cannot be');
  produceMoved(c, op, (x) => {
    const y = c.graph.node(
      'Slice',
      [
        x,
        c.graph.int64s('starts', starts.slice(from)),
        c.graph.int64s('ends', ends.slice(from)),
        c.graph.int64s('axes', shape.map((_, k) => k).slice(from)),
        c.graph.int64s('steps', shape.map((_, k) => strides[k] ?? 1).slice(from)),
      ],
      `slice${op.index}`,
    );
    return squeeze.length ? c.graph.node('Squeeze', [y, c.graph.int64s('axes', squeeze)], `squeeze${op.index}`) : y;
  });
};

const ONNX_CAST: Record<string, number> = { float32: 1, int8: 3, int32: 6, int64: 7, bool: 9 };
const cast: OpConverter = (c, op) => {
  const from = c.tensor(input(op, 0));
  const to = c.tensor(output(op));
  if (c.isQuantized(from) || c.isQuantized(to)) fail(op, 'casting quantized tensors is not supported');
  const code = ONNX_CAST[to.type];
  if (code === undefined) fail(op, `cast to ${to.type} is not supported`);
  c.produce(output(op), c.graph.node('Cast', [c.value(input(op, 0))], `cast${op.index}`, { to: { i: code } }));
};

const broadcastTo: OpConverter = (c, op) => {
  // The target's leading 1 broadcasts against a batch, as long as the batch is the input's own first axis.
  if (c.carriesBatch(input(op, 0)) && c.tensor(input(op, 0)).shape.length !== c.tensor(output(op)).shape.length)
    fail(op, 'it adds axes in front of a free batch axis');
  produceMoved(c, op, (x) =>
    c.graph.node('Expand', [x, c.graph.int64s('shape', c.tensor(output(op)).shape)], `expand${op.index}`),
  );
};

/**
 * TFLite's int8 SUM and MEAN (QuantizedMeanOrSum): an integer sum of the raw
 * codes, then round(sum * scale + bias) or round(sum / n * scale + bias) in
 * float32 with halves away from zero, scale = in_scale / out_scale; MEAN
 * clamps to int8, SUM wraps around.
 */
function int8Reduce(c: Converter, op: TfliteOperator, kind: 'sum' | 'mean', axes: number[], keepdims: Attr): void {
  const [xi, oi] = [input(op, 0), output(op)];
  const [xq, oq] = [c.tensor(xi).quantization!, c.tensor(oi).quantization!];
  const shape = c.tensor(xi).shape;
  const n = axes.reduce((a, k) => a * shape[k]!, 1);
  const f = Math.fround;
  const scale = f(xq.scale[0]! / oq.scale[0]!);
  const zpIn = xq.zeroPoint[0]!;
  let t: string;
  if (c.unsigned) {
    // The sum of the uint8 codes, less 128 for each: exact in fp32 below 2^24.
    const codes = c.graph.node('Cast', [c.codesOf(xi)], `codesf${xi}`, { to: { i: OnnxType.float } });
    const sum = c.graph.node('ReduceSum', [codes, c.graph.int64s('axes', axes)], `usum${op.index}`, { keepdims });
    t = c.graph.node('Add', [sum, c.graph.scalarFloat(`u${n}`, -128 * n)], `sum${op.index}`);
  } else {
    const rawCodes = c.graph.node('Add', [c.centredCodes(xi), c.graph.scalarFloat(`zpf${xi}`, zpIn)], `raw${op.index}`);
    t = c.graph.node('ReduceSum', [rawCodes, c.graph.int64s('axes', axes)], `sum${op.index}`, { keepdims });
  }
  let bias: number;
  if (kind === 'sum') bias = f(f(-zpIn * scale) * n);
  else {
    t = c.graph.node('Div', [t, c.graph.scalarFloat(`n${n}`, n)], `mean${op.index}`);
    bias = f(-zpIn * scale);
  }
  const y = c.graph.node(
    'Add',
    [
      c.graph.node('Mul', [t, c.graph.scalarFloat(`rs${op.index}`, scale)], `rsm${op.index}`),
      c.graph.scalarFloat(`rb${op.index}`, bias),
    ],
    `rsb${op.index}`,
  );
  // The kernel's SUM casts its int32 result to int8 without clamping (it wraps around); its MEAN clamps.
  c.produceRoundedAway(oi, y, oq.zeroPoint[0]!, kind === 'sum' ? 'wrap' : 'clamp');
}

function reduce(onnxOp: 'ReduceMean' | 'ReduceSum' | 'ReduceMax'): OpConverter {
  return (c, op) => {
    const shape = c.tensor(input(op, 0)).shape;
    const keepdims = { i: optionalOptions(op, ReducerOptions)?.keepDims() ? 1 : 0 };
    let axes = constInts(c, op, 1).map((a) => (a + shape.length) % shape.length);
    if (c.carriesBatch(input(op, 0))) {
      if (axes.includes(0)) fail(op, 'it reduces over the batch axis');
      // A kept axis of one reduces to itself. onnxruntime's ReduceSum adds in another order when such an axis
      // lies before a kept one, which its transpose optimizer arranges in the free graph but not in the fixed one.
      const wide = axes.filter((a) => shape[a] !== 1);
      // An empty list would reduce every axis.
      if (keepdims.i && wide.length) axes = wide;
    }
    const [xt, ot] = [c.tensor(input(op, 0)), c.tensor(output(op))];
    if (
      onnxOp !== 'ReduceMax' &&
      c.quantized &&
      c.isQuantized(xt) &&
      c.isQuantized(ot) &&
      xt.quantization!.scale.length === 1
    ) {
      return int8Reduce(c, op, onnxOp === 'ReduceSum' ? 'sum' : 'mean', axes, keepdims);
    }
    const x = c.value(input(op, 0));
    // Opset 17: ReduceSum takes axes as an input, ReduceMean/ReduceMax as an attribute.
    const y =
      onnxOp === 'ReduceSum'
        ? c.graph.node(onnxOp, [x, c.graph.int64s('axes', axes)], `reduce${op.index}`, { keepdims })
        : c.graph.node(onnxOp, [x], `reduce${op.index}`, { axes: { ints: axes }, keepdims });
    c.produce(output(op), y);
  };
}

const transpose: OpConverter = (c, op) => {
  const perm = constInts(c, op, 1);
  if (perm[0] !== 0 && c.carriesBatch(input(op, 0))) fail(op, 'it moves the batch axis');
  produceMoved(c, op, (x) => c.graph.node('Transpose', [x], `transpose${op.index}`, { perm: { ints: perm } }));
};

const pad: OpConverter = (c, op) => {
  const p = constInts(c, op, 1);
  if ((p[0] || p[1]) && c.carriesBatch(input(op, 0))) fail(op, 'it pads the batch axis');
  const rank = p.length / 2;
  const onnxPads = [
    ...Array.from({ length: rank }, (_, k) => p[2 * k]!),
    ...Array.from({ length: rank }, (_, k) => p[2 * k + 1]!),
  ];
  // A quantized tensor pads with its zero point, which is 0.0 in the float domain.
  const zp = c.tensor(input(op, 0)).quantization?.zeroPoint[0] ?? 0;
  produceMoved(c, op, (x, codes) =>
    c.graph.node(
      'Pad',
      [
        x,
        c.graph.int64s('pads', onnxPads),
        ...(codes ? [c.graph.constant(`zpu${input(op, 0)}`, 'uint8', [], [zp + 128])] : []),
      ],
      `pad${op.index}`,
    ),
  );
};

const fullyConnected: OpConverter = (c, op) => {
  const o = options(op, FullyConnectedOptions);
  if (o.weightsFormat() !== FullyConnectedOptionsWeightsFormat.DEFAULT) fail(op, 'shuffled weights are not supported');
  const w = c.tensor(input(op, 1));
  const out = c.tensor(output(op));
  const x = c.graph.node(
    'Reshape',
    [c.value(input(op, 0)), c.graph.int64s('shape', [-1, w.shape[1]!])],
    `fc_in${op.index}`,
  );
  let y = c.graph.node('MatMul', [x, c.constant(input(op, 1), [1, 0])], `matmul${op.index}`);
  if (op.inputs[2] !== undefined && op.inputs[2] >= 0)
    y = c.graph.node('Add', [y, c.value(op.inputs[2])], `fc_bias${op.index}`);
  y = activation(c, op, y, o.fusedActivationFunction());
  c.produce(
    output(op),
    c.graph.node('Reshape', [y, c.graph.int64s('shape', c.shapeOf(output(op), out.shape))], `fc_out${op.index}`),
  );
};

const softmax: OpConverter = (c, op) => {
  const beta = options(op, SoftmaxOptions).beta();
  if (c.carriesBatch(input(op, 0)) && c.tensor(input(op, 0)).shape.length < 2)
    fail(op, 'its only axis is the batch axis');
  let x = c.value(input(op, 0));
  if (beta !== 1) x = c.graph.node('Mul', [x, c.graph.scalarFloat('beta', beta)], `beta${op.index}`);
  c.produce(output(op), c.graph.node('Softmax', [x], `softmax${op.index}`, { axis: { i: -1 } }));
};

export const OP_CONVERTERS: Record<string, OpConverter> = {
  QUANTIZE: quantize,
  DEQUANTIZE: identity,
  RESHAPE: reshape,
  SQUEEZE: reshape,
  EXPAND_DIMS: reshape,
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwise,
  AVERAGE_POOL_2D: pool('AveragePool'),
  MAX_POOL_2D: pool('MaxPool'),
  ADD: binary('Add', AddOptions),
  SUB: binary('Sub', SubOptions),
  MUL: binary('Mul', MulOptions),
  DIV: binary('Div', DivOptions),
  MAXIMUM: binary('Max'),
  MINIMUM: binary('Min'),
  HARD_SWISH: hardSwish,
  LOGISTIC: logistic,
  RELU: unary('Relu'),
  TANH: unary('Tanh'),
  RELU6: (c, op) => c.produce(output(op), activation(c, op, c.value(input(op, 0)), ActivationFunctionType.RELU6)),
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
