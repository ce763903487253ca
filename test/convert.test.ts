import * as flatbuffers from 'flatbuffers';
import ort from 'onnxruntime-node';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { Converter, type Precision } from '../src/convert/context.js';
import { samePads } from '../src/convert/ops.js';
import { convertOperator, convertToOnnx } from '../src/convert/tflite-to-onnx.js';
import { resolveModel } from '../src/models/resolve.js';
import type { StreamSignature } from '../src/models/signature.js';
import {
  ActivationFunctionType,
  AddOptions,
  BuiltinOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  DivOptions,
  Padding,
  Pool2DOptions,
  ReducerOptions,
  StridedSliceOptions,
  TensorType as SchemaTensorType,
} from '../src/models/tflite-schema/tflite_generated.js';
import type {
  BuiltinOptionsTable,
  Quantization,
  TensorType,
  TfliteModel,
  TfliteOperator,
  TfliteTensor,
} from '../src/models/tflite.js';
import { UserError } from '../src/util/errors.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING } from './helpers.js';

type Options = TfliteOperator['options'];

/**
 * A builtin options table written with the generated builder and read back
 * through the generated class, as parseTflite hands it to the converters. A
 * BuiltinOptions member is named after its table class.
 */
function options<T extends BuiltinOptionsTable>(
  kind: new () => T,
  write: (b: flatbuffers.Builder) => flatbuffers.Offset,
): Options {
  const b = new flatbuffers.Builder(64);
  b.finish(write(b));
  const bb = new flatbuffers.ByteBuffer(b.asUint8Array());
  const type = BuiltinOptions[kind.name as keyof typeof BuiltinOptions];
  return { type, table: new kind().__init(bb.readInt32(bb.position()) + bb.position(), bb) };
}

const { SAME, VALID } = Padding;
const conv = (padding: Padding, stride: number, act = ActivationFunctionType.NONE) =>
  options(Conv2DOptions, (b) =>
    Conv2DOptions.createConv2DOptions(b, padding, stride, stride, act, 1, 1, SchemaTensorType.FLOAT32),
  );
const pool = (padding: Padding, [strideW, strideH]: [number, number], [filterW, filterH]: [number, number]) =>
  options(Pool2DOptions, (b) =>
    Pool2DOptions.createPool2DOptions(b, padding, strideW, strideH, filterW, filterH, ActivationFunctionType.NONE),
  );
const slice = (masks: { begin?: number; end?: number; ellipsis?: number; shrink?: number }) =>
  options(StridedSliceOptions, (b) =>
    StridedSliceOptions.createStridedSliceOptions(
      b,
      masks.begin ?? 0,
      masks.end ?? 0,
      masks.ellipsis ?? 0,
      0,
      masks.shrink ?? 0,
      false,
    ),
  );
const reducer = (keepDims: boolean) => options(ReducerOptions, (b) => ReducerOptions.createReducerOptions(b, keepDims));

interface TensorDef {
  shape: number[];
  type?: TensorType;
  /** Constant data; absent for a graph input or the output. */
  data?: ArrayLike<number>;
  quant?: Quantization;
}

function bytesOf(type: TensorType, data: ArrayLike<number>): Uint8Array {
  const a = type === 'int8' ? Int8Array.from(data) : type === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
  return new Uint8Array(a.buffer);
}

/**
 * Converts a one-operator model and runs it in onnxruntime: tensors are given
 * by index, the last one is the output; inputs without data are fed `feeds`.
 */
async function runOp(
  defs: TensorDef[],
  opcode: string,
  inputs: number[],
  opts: Options,
  feeds: Record<number, number[]>,
  precision: Precision = 'float',
): Promise<number[]> {
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const tensors: TfliteTensor[] = defs.map((d, index) => {
    const type = d.type ?? 'float32';
    let buffer = 0;
    if (d.data) buffer = buffers.push(bytesOf(type, d.data)) - 1;
    return { index, name: `t${index}`, shape: d.shape, type, buffer, quantization: d.quant, isVariable: false };
  });
  const out = defs.length - 1;
  const op: TfliteOperator = { index: 0, opcode, inputs, outputs: [out], options: opts };
  const model: TfliteModel = {
    version: 3,
    description: '',
    subgraphs: [{ name: 'main', tensors, inputs: [], outputs: [out], operators: [op] }],
    signatures: [],
    metadataNames: [],
    buffer: (i) => buffers[i] ?? new Uint8Array(0),
  };
  const c = new Converter(model, {} as StreamSignature, precision);
  for (const [i] of Object.entries(feeds)) {
    c.graph.input({ name: `in${i}`, type: 'float', shape: defs[Number(i)]!.shape });
    c.setValue(Number(i), `in${i}`);
  }
  convertOperator(c, op);
  c.graph.reserve('out');
  c.graph.node('Identity', [c.value(out)], ['out']);
  c.graph.output({ name: 'out', type: 'float', shape: defs[out]!.shape });
  const session = await ort.InferenceSession.create(
    c.graph.encode({ producer: 'test', version: '0', doc: '', props: {} }),
  );
  const result = await session.run(
    Object.fromEntries(
      Object.entries(feeds).map(([i, v]) => [
        `in${i}`,
        new ort.Tensor('float32', Float32Array.from(v), defs[Number(i)]!.shape),
      ]),
    ),
  );
  // + 0 folds -0 into 0.
  return Array.from(result.out!.data as Float32Array, (v) => Math.round(v * 1e4) / 1e4 + 0);
}

const NINE = [1, 2, 3, 4, 5, 6, 7, 8, 9];

test('TensorFlow SAME padding puts the odd pixel at the end', (t) => {
  t.deepEqual(samePads(3, 3, 2, 2, 2, 2), [0, 0, 1, 1]);
  t.deepEqual(samePads(172, 172, 3, 3, 2, 2), [0, 0, 1, 1]);
  t.deepEqual(samePads(22, 22, 3, 3, 1, 1), [1, 1, 1, 1]);
  t.deepEqual(samePads(4, 4, 1, 1, 1, 1), [0, 0, 0, 0]);
});

test('CONV_2D: VALID with bias, SAME stride 2, fused RELU6 (hand-computed)', async (t) => {
  const defs = (outShape: number[]): TensorDef[] => [
    { shape: [1, 3, 3, 1] },
    { shape: [1, 2, 2, 1], data: [1, 1, 1, 1] },
    { shape: [1], data: [1] },
    { shape: outShape },
  ];
  // Windows of [1..9]: 1+2+4+5 = 12, 16, 24, 28; plus bias 1.
  t.deepEqual(await runOp(defs([1, 2, 2, 1]), 'CONV_2D', [0, 1, 2], conv(VALID, 1), { 0: NINE }), [13, 17, 25, 29]);
  // SAME, stride 2: windows padded at the bottom/right: 12, 3+6, 7+8, 9; plus 1.
  t.deepEqual(await runOp(defs([1, 2, 2, 1]), 'CONV_2D', [0, 1, 2], conv(SAME, 2), { 0: NINE }), [13, 10, 16, 10]);
  // RELU6 clamps them all.
  t.deepEqual(
    await runOp(defs([1, 2, 2, 1]), 'CONV_2D', [0, 1, 2], conv(VALID, 1, ActivationFunctionType.RELU6), { 0: NINE }),
    [6, 6, 6, 6],
  );
});

test('CONV_2D: a [Cout,kh,kw,Cin] filter maps to ONNX [Cout,Cin,kh,kw]', async (t) => {
  // One pixel, two input channels (3, 5), two filters: [1, 10] and [2, 0].
  const defs: TensorDef[] = [
    { shape: [1, 1, 1, 2] },
    { shape: [2, 1, 1, 2], data: [1, 10, 2, 0] },
    { shape: [1, 1, 1, 2] },
  ];
  t.deepEqual(await runOp(defs, 'CONV_2D', [0, 1, -1], conv(VALID, 1), { 0: [3, 5] }), [53, 6]);
});

test('DEPTHWISE_CONV_2D: one filter per channel, [1,kh,kw,C] weights', async (t) => {
  // Channel 0 = 1,2,3,4 with weights 1; channel 1 = 10,20,30,40 with weights 0.5.
  const defs: TensorDef[] = [
    { shape: [1, 2, 2, 2] },
    { shape: [1, 2, 2, 2], data: [1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5] },
    { shape: [1, 1, 1, 2] },
  ];
  t.deepEqual(
    await runOp(
      defs,
      'DEPTHWISE_CONV_2D',
      [0, 1, -1],
      options(DepthwiseConv2DOptions, (b) =>
        DepthwiseConv2DOptions.createDepthwiseConv2DOptions(b, VALID, 1, 1, 1, ActivationFunctionType.NONE, 1, 1),
      ),
      { 0: [1, 10, 2, 20, 3, 30, 4, 40] },
    ),
    [10, 50],
  );
});

test('AVERAGE_POOL_2D with SAME padding averages over the valid pixels only', async (t) => {
  const defs: TensorDef[] = [{ shape: [1, 3, 3, 1] }, { shape: [1, 2, 2, 1] }];
  const o = pool(SAME, [2, 2], [2, 2]);
  t.deepEqual(await runOp(defs, 'AVERAGE_POOL_2D', [0], o, { 0: NINE }), [3, 4.5, 7.5, 9]);
});

test('int8 AVERAGE_POOL_2D rounds halves away from zero, as TFLite does (QuantizeLinear would round to even)', async (t) => {
  const q = { scale: [1], zeroPoint: [0], axis: 0 };
  const defs: TensorDef[] = [
    { shape: [1, 1, 4, 1], type: 'int8', quant: q },
    { shape: [1, 1, 2, 1], type: 'int8', quant: q },
  ];
  const o = pool(VALID, [2, 1], [2, 1]);
  t.deepEqual(await runOp(defs, 'AVERAGE_POOL_2D', [0], o, { 0: [2, 3, -2, -3] }, 'int8'), [3, -3]);
});

test('QUANTIZE: fake-quantized with the output scale in int8 modes, passed through in float', async (t) => {
  const defs: TensorDef[] = [
    { shape: [3] },
    { shape: [3], type: 'int8', quant: { scale: [0.5], zeroPoint: [0], axis: 0 } },
  ];
  t.deepEqual(await runOp(defs, 'QUANTIZE', [0], undefined, { 0: [0.26, 0.74, 100] }, 'int8'), [0.5, 0.5, 63.5]);
  t.deepEqual(await runOp(defs, 'QUANTIZE', [0], undefined, { 0: [0.26, 0.74, 100] }, 'float'), [0.26, 0.74, 100]);
});

test('int8 CONV_2D: QDQ and integer emulation give the requantized value, float the real one', async (t) => {
  // x codes 1..4 (scale 0.5), weights code 2 (scale 0.25), output scale 0.3:
  // acc = 2 * (1+2+3+4) = 20; 20 * 0.5 * 0.25 / 0.3 = 8.33 -> code 8 -> 2.4. The real value is 2.5.
  const defs: TensorDef[] = [
    { shape: [1, 2, 2, 1], type: 'int8', quant: { scale: [0.5], zeroPoint: [0], axis: 0 } },
    { shape: [1, 2, 2, 1], type: 'int8', data: [2, 2, 2, 2], quant: { scale: [0.25], zeroPoint: [0], axis: 0 } },
    { shape: [1], type: 'int32', data: [0], quant: { scale: [0.125], zeroPoint: [0], axis: 0 } },
    { shape: [1, 1, 1, 1], type: 'int8', quant: { scale: [0.3], zeroPoint: [0], axis: 0 } },
  ];
  const o = conv(VALID, 1);
  for (const p of ['int8', 'int8-exact'] as const)
    t.deepEqual(await runOp(defs, 'CONV_2D', [0, 1, 2], o, { 0: [0.5, 1, 1.5, 2] }, p), [2.4], p);
  t.deepEqual(await runOp(defs, 'CONV_2D', [0, 1, 2], o, { 0: [0.5, 1, 1.5, 2] }, 'float'), [2.5]);
});

test("int8-exact ADD is XNNPACK's fixed-point sum, rounding halves up (QDQ rounds them to even)", async (t) => {
  const half = { scale: [0.5], zeroPoint: [0], axis: 0 };
  const defs: TensorDef[] = [
    { shape: [4], type: 'int8', quant: half },
    { shape: [4], type: 'int8', quant: half },
    { shape: [4], type: 'int8', quant: { scale: [1], zeroPoint: [0], axis: 0 } },
  ];
  const add = options(AddOptions, (b) => AddOptions.createAddOptions(b, ActivationFunctionType.NONE, false));
  const feeds = { 0: [0.5, -1.5, 2.5, -0.5], 1: [0, 0, 0, 0] };
  t.deepEqual(await runOp(defs, 'ADD', [0, 1], add, feeds, 'int8-exact'), [1, -1, 3, 0]);
  t.deepEqual(await runOp(defs, 'ADD', [0, 1], add, feeds, 'int8'), [0, -2, 2, 0]);
});

test('int8 SUM wraps around past int8 as the TFLite kernel does (int8-exact and QDQ); MEAN clamps', async (t) => {
  const q = { scale: [1], zeroPoint: [0], axis: 0 };
  const defs: TensorDef[] = [
    { shape: [1, 2], type: 'int8', quant: q },
    { shape: [1], type: 'int32', data: [1] },
    { shape: [1], type: 'int8', quant: q },
  ];
  t.deepEqual(await runOp(defs, 'SUM', [0, 1], reducer(false), { 0: [100, 100] }, 'int8-exact'), [-56]);
  t.deepEqual(await runOp(defs, 'SUM', [0, 1], reducer(false), { 0: [100, 100] }, 'int8'), [-56]);
  t.deepEqual(await runOp(defs, 'MEAN', [0, 1], reducer(false), { 0: [100, 100] }, 'int8-exact'), [100]);
});

test('int8-exact QUANTIZE multiplies by the fp32 reciprocal of the scale and rounds halves to even', async (t) => {
  const defs: TensorDef[] = [
    { shape: [3] },
    { shape: [3], type: 'int8', quant: { scale: [0.5], zeroPoint: [0], axis: 0 } },
  ];
  t.deepEqual(await runOp(defs, 'QUANTIZE', [0], undefined, { 0: [0.25, 0.75, 100] }, 'int8-exact'), [0, 1, 63.5]);
});

test('int8-exact HARD_SWISH is a table of the TFLite kernel over the 256 codes', async (t) => {
  const defs: TensorDef[] = [
    { shape: [5], type: 'int8', quant: { scale: [0.5], zeroPoint: [0], axis: 0 } },
    { shape: [5], type: 'int8', quant: { scale: [0.25], zeroPoint: [0], axis: 0 } },
  ];
  t.deepEqual(
    await runOp(defs, 'HARD_SWISH', [0], undefined, { 0: [-4, -1, 0, 1, 4] }, 'int8-exact'),
    [0, -0.25, 0, 0.75, 4],
  );
});

test('STRIDED_SLICE with strides, masks and a shrunk axis', async (t) => {
  const defs: TensorDef[] = [
    { shape: [2, 3] },
    { shape: [2], type: 'int32', data: [1, 0] },
    { shape: [2], type: 'int32', data: [2, 3] },
    { shape: [2], type: 'int32', data: [1, 2] },
    { shape: [2] },
  ];
  t.deepEqual(
    await runOp(defs, 'STRIDED_SLICE', [0, 1, 2, 3], slice({ shrink: 1 }), { 0: [1, 2, 3, 4, 5, 6] }),
    [4, 6],
  );
  // begin_mask on axis 0 and end_mask on axis 1: rows 0..1, columns 1..end.
  const all: TensorDef[] = [
    { shape: [2, 3] },
    { shape: [2], type: 'int32', data: [1, 1] },
    { shape: [2], type: 'int32', data: [2, 1] },
    { shape: [2], type: 'int32', data: [1, 1] },
    { shape: [2, 2] },
  ];
  t.deepEqual(
    await runOp(all, 'STRIDED_SLICE', [0, 1, 2, 3], slice({ begin: 1, end: 2 }), { 0: [1, 2, 3, 4, 5, 6] }),
    [2, 3, 5, 6],
  );
});

test('CONCATENATION (negative axis), MEAN, SUM, BROADCAST_TO, elementwise ops', async (t) => {
  t.deepEqual(
    await runOp(
      [{ shape: [1, 2] }, { shape: [1, 1] }, { shape: [1, 3] }],
      'CONCATENATION',
      [0, 1],
      options(ConcatenationOptions, (b) =>
        ConcatenationOptions.createConcatenationOptions(b, -1, ActivationFunctionType.NONE),
      ),
      { 0: [1, 2], 1: [3] },
    ),
    [1, 2, 3],
  );
  t.deepEqual(
    await runOp(
      [{ shape: [2, 3] }, { shape: [1], type: 'int32', data: [1] }, { shape: [2] }],
      'MEAN',
      [0, 1],
      reducer(false),
      { 0: [1, 2, 3, 4, 5, 6] },
    ),
    [2, 5],
  );
  t.deepEqual(
    await runOp(
      [{ shape: [2, 3] }, { shape: [2], type: 'int32', data: [0, 1] }, { shape: [1, 1] }],
      'SUM',
      [0, 1],
      reducer(true),
      { 0: [1, 2, 3, 4, 5, 6] },
    ),
    [21],
  );
  t.deepEqual(
    await runOp(
      [{ shape: [1, 2] }, { shape: [2], type: 'int32', data: [2, 2] }, { shape: [2, 2] }],
      'BROADCAST_TO',
      [0, 1],
      undefined,
      { 0: [7, 8] },
    ),
    [7, 8, 7, 8],
  );
  t.deepEqual(
    await runOp(
      [{ shape: [2] }, { shape: [2] }, { shape: [2] }],
      'ADD',
      [0, 1],
      options(AddOptions, (b) => AddOptions.createAddOptions(b, ActivationFunctionType.RELU, true)),
      { 0: [1, -5], 1: [2, 3] },
    ),
    [3, 0],
  );
  t.deepEqual(
    await runOp(
      [{ shape: [2] }, { shape: [2] }, { shape: [2] }],
      'DIV',
      [0, 1],
      options(DivOptions, (b) => DivOptions.createDivOptions(b, ActivationFunctionType.NONE)),
      { 0: [1, 9], 1: [4, 3] },
    ),
    [0.25, 3],
  );
  t.deepEqual(
    await runOp([{ shape: [5] }, { shape: [5] }], 'HARD_SWISH', [0], undefined, { 0: [-4, -1, 0, 1, 4] }),
    [0, -0.3333, 0, 0.6667, 4],
  );
  t.deepEqual(await runOp([{ shape: [1] }, { shape: [1] }], 'LOGISTIC', [0], undefined, { 0: [0] }), [0.5]);
});

test('an unsupported op stops the conversion with one line naming the op and its index', async (t) => {
  const err = await t.throwsAsync(() => runOp([{ shape: [1] }, { shape: [1] }], 'LSTM', [0], undefined, { 0: [1] }), {
    instanceOf: UserError,
  });
  t.is(err!.message, 'cannot convert op LSTM (operator #0): not supported by the TFLite-to-ONNX converter');
  const ellipsis = slice({ ellipsis: 1 });
  const defs: TensorDef[] = [
    { shape: [2] },
    { shape: [1], type: 'int32', data: [0] },
    { shape: [1], type: 'int32', data: [1] },
    { shape: [1], type: 'int32', data: [1] },
    { shape: [1] },
  ];
  await t.throwsAsync(() => runOp(defs, 'STRIDED_SLICE', [0, 1, 2, 3], ellipsis, { 0: [1, 2] }), {
    message: /STRIDED_SLICE \(operator #0\): ellipsis and new-axis masks are not supported/,
  });
  // Options are typed: a table of the wrong kind is refused, not read field by number.
  const convDefs: TensorDef[] = [{ shape: [1, 1, 1, 1] }, { shape: [1, 1, 1, 1], data: [1] }, { shape: [1, 1, 1, 1] }];
  await t.throwsAsync(() => runOp(convDefs, 'CONV_2D', [0, 1, -1], pool(VALID, [1, 1], [1, 1]), { 0: [1] }), {
    message: 'cannot convert op CONV_2D (operator #0): its builtin options are Pool2DOptions, not Conv2DOptions',
  });
});

test('the real A0 converts in all three precisions; int8-exact is bit-exact with tfjs-tflite on a real frame', async (t) => {
  const a0 = resolveModel('a0');
  const sizes: Record<string, number> = {};
  for (const p of ['float', 'int8', 'int8-exact'] as const) {
    const r = convertToOnnx(a0.graph, a0.signature, p);
    sizes[p] = r.bytes.length;
    t.is(
      Object.values(r.ops).reduce((a, b) => a + b, 0),
      227,
    );
  }
  t.true(sizes.int8! < sizes.float!, 'QDQ keeps int8 weights');
  const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 1 }));
  const [tf, ex] = [
    await getBackend('tfjs-tflite').load(a0, { threads: 1 }),
    await getBackend('onnxruntime-exact').load(a0, { threads: 1 }),
  ];
  const a = await tf.step(frames[0]!, tf.initialState());
  const b = await ex.step(frames[0]!, ex.initialState());
  t.deepEqual(Array.from(b.logits), Array.from(a.logits));
  tf.release(a.state);
  ex.release(b.state);
  tf.dispose();
  ex.dispose();
});
