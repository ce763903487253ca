import fs from 'node:fs';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { Converter, type Precision } from '../src/convert/context.js';
import { convertOperator, convertToOnnx } from '../src/convert/tflite-to-onnx.js';
import { exactQLinearAdd, mlasQLinearAdd } from '../src/convert/xnn-add.js';
import { resolveModel } from '../src/models/resolve.js';
import type { StreamSignature } from '../src/models/signature.js';
import {
  ActivationFunctionType,
  BuiltinOptions,
  Padding,
  Pool2DOptions,
} from '../src/models/tflite-schema/tflite_generated.js';
import type { Quantization, TfliteModel, TfliteOperator, TfliteTensor } from '../src/models/tflite.js';
import { streamFrames } from '../src/stream/stream.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING, clip, CUSTOM_MODEL, tempDir } from './helpers.js';

/*
 * The int8 QDQ graph as onnxruntime runs it: fused into its quantized kernels,
 * and (on x86, MLAS) computing what TFLite's XNNPACK kernels compute.
 */

const { onnx } = onnxProto;

/** Op types of the graph onnxruntime runs (graph optimization 'all'), counted. */
async function optimizedOps(bytes: Uint8Array): Promise<Record<string, number>> {
  const dir = tempDir('movinet-qdq-');
  try {
    const file = path.join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      optimizedModelFilePath: file,
      logSeverityLevel: 3,
    });
    await s.release();
    const ops: Record<string, number> = {};
    for (const n of onnx.ModelProto.decode(fs.readFileSync(file)).graph!.node!) {
      const op = n.opType!;
      ops[op] = (ops[op] ?? 0) + 1;
    }
    return ops;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface TensorDef {
  shape: number[];
  quant: Quantization;
}

/** One int8 operator converted at `precision` and run in onnxruntime on float inputs on the int8 grid. */
async function runInt8Op(
  defs: TensorDef[],
  opcode: string,
  options: TfliteOperator['options'],
  feeds: Float32Array[],
  precision: Precision,
): Promise<{ out: Float32Array; ops: Record<string, number> }> {
  const tensors: TfliteTensor[] = defs.map((d, index) => ({
    index,
    name: `t${index}`,
    shape: d.shape,
    type: 'int8',
    buffer: 0,
    quantization: d.quant,
    isVariable: false,
  }));
  const out = defs.length - 1;
  const inputs = defs.slice(0, -1).map((_, k) => k);
  const op: TfliteOperator = { index: 0, opcode, inputs, outputs: [out], options };
  const model: TfliteModel = {
    version: 3,
    description: '',
    subgraphs: [{ name: 'main', tensors, inputs, outputs: [out], operators: [op] }],
    signatures: [],
    metadataNames: [],
    buffer: () => new Uint8Array(0),
  };
  const c = new Converter(model, {} as StreamSignature, precision);
  for (const k of inputs) {
    c.graph.input({ name: `in${k}`, type: 'float', shape: defs[k]!.shape });
    c.setValue(k, `in${k}`);
  }
  convertOperator(c, op);
  c.graph.reserve('out');
  c.graph.node('Identity', [c.value(out)], ['out']);
  c.graph.output({ name: 'out', type: 'float', shape: defs[out]!.shape });
  const bytes = c.graph.encode({ producer: 'test', version: '0', doc: '', props: {} });
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const result = await session.run(
    Object.fromEntries(inputs.map((k) => [`in${k}`, new ort.Tensor('float32', feeds[k]!, defs[k]!.shape)])),
  );
  await session.release();
  return { out: result.out!.data as Float32Array, ops: await optimizedOps(bytes) };
}

const quant = (scale: number, zeroPoint: number): Quantization => ({ scale: [scale], zeroPoint: [zeroPoint], axis: 0 });
const real = (q: Quantization, codes: ArrayLike<number>) =>
  Float32Array.from(codes, (v) => Math.fround(q.scale[0]! * (v - q.zeroPoint[0]!)));

test('the real A0 int8 graph runs fused: every Conv, Add, Mul and Concat is a QLinear kernel, Q/DQ only at the edges', async (t) => {
  const a0 = resolveModel('a0');
  const ops = await optimizedOps(convertToOnnx(a0.graph, a0.signature, 'int8').bytes);
  t.is(ops.QLinearConv, 64);
  t.is(ops.QLinearAdd, 16);
  t.is(ops.QLinearMul, 16);
  t.is(ops.QLinearConcat, 11);
  for (const float of ['Conv', 'Concat', 'Round']) t.is(ops[float], undefined, `${float} left in fp32`);
  // What remains in fp32: the frame-count Add (int32), and the head's SUM rounding and wrapping (480 values) and pooling.
  t.true((ops.Add ?? 0) <= 8 && (ops.Mul ?? 0) <= 8 && (ops.Sign ?? 0) <= 1, JSON.stringify(ops));
  // Quantizing the image and the 11 stream-buffer states in, dequantizing them and the logits out, the head between.
  t.true(ops.QuantizeLinear! <= 20 && ops.DequantizeLinear! <= 20, JSON.stringify(ops));
});

test('QLinearAdd scales: MLAS computes XNNPACK int8 ADD on every pair of codes of every A0 ADD', async (t) => {
  const a0 = resolveModel('a0');
  const sg = a0.graph.subgraphs[0]!;
  const adds = sg.operators.filter(
    (op) =>
      op.opcode === 'ADD' &&
      op.inputs.every((i) => sg.tensors[i]!.type === 'int8' && !a0.graph.buffer(sg.tensors[i]!.buffer).length),
  );
  t.is(adds.length, 16);
  const codes = { a: new Int8Array(65536), b: new Int8Array(65536) };
  for (let k = 0; k < 65536; k++) [codes.a[k], codes.b[k]] = [(k >> 8) - 128, (k & 255) - 128];
  for (const op of adds) {
    const [qa, qb, qo] = [...op.inputs, op.outputs[0]!].map((i) => sg.tensors[i]!.quantization!);
    const q = (x: Quantization) => ({ scale: x.scale[0]!, zeroPoint: x.zeroPoint[0]! });
    t.truthy(exactQLinearAdd(q(qa!), q(qb!), q(qo!)), `ADD #${op.index} has exact QLinearAdd scales`);
    const defs = [qa!, qb!, qo!].map((x) => ({ shape: [65536], quant: x }));
    const feeds = [real(qa!, codes.a), real(qb!, codes.b)];
    const [qdq, exact] = [
      await runInt8Op(defs, 'ADD', undefined, feeds, 'int8'),
      await runInt8Op(defs, 'ADD', undefined, feeds, 'int8-exact'),
    ];
    t.is(qdq.ops.QLinearAdd, 1, 'onnxruntime fused the Add');
    let differ = 0;
    for (let k = 0; k < 65536; k++) if (qdq.out[k] !== exact.out[k]) differ++;
    t.is(differ, 0, `ADD #${op.index}: pairs of codes where QLinearAdd parts from XNNPACK`);
  }
});

test('the MLAS QLinearAdd model matches onnxruntime on every pair of codes, for random scales', async (t) => {
  // A direct com.microsoft QLinearAdd: the converter's search relies on this model of the kernel.
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const a = Uint8Array.from({ length: 65536 }, (_, k) => k >> 8);
  const b = Uint8Array.from({ length: 65536 }, (_, k) => k & 255);
  const vi = (name: string) =>
    new onnx.ValueInfoProto({
      name,
      type: new onnx.TypeProto({
        tensorType: new onnx.TypeProto.Tensor({
          elemType: 2,
          shape: new onnx.TensorShapeProto({ dim: [new onnx.TensorShapeProto.Dimension({ dimValue: 65536 })] }),
        }),
      }),
    });
  for (let trial = 0; trial < 20; trial++) {
    const p = {
      sA: Math.fround(0.05 + rand()),
      zA: Math.floor(100 + 56 * rand()),
      sB: Math.fround(0.05 + rand()),
      zB: Math.floor(100 + 56 * rand()),
      sC: Math.fround(0.2 + rand()),
      zC: Math.floor(100 + 56 * rand()),
    };
    const scalar = (name: string, v: number, type: 1 | 2) =>
      new onnx.TensorProto({
        name,
        dims: [],
        dataType: type,
        rawData: type === 1 ? new Uint8Array(Float32Array.of(v).buffer) : Uint8Array.of(v),
      });
    const model = new onnx.ModelProto({
      irVersion: 8,
      opsetImport: [
        new onnx.OperatorSetIdProto({ domain: '', version: 17 }),
        new onnx.OperatorSetIdProto({ domain: 'com.microsoft', version: 1 }),
      ],
      graph: new onnx.GraphProto({
        name: 'qladd',
        node: [
          new onnx.NodeProto({
            opType: 'QLinearAdd',
            domain: 'com.microsoft',
            input: ['a', 'sA', 'zA', 'b', 'sB', 'zB', 'sC', 'zC'],
            output: ['y'],
          }),
        ],
        initializer: [
          scalar('sA', p.sA, 1),
          scalar('zA', p.zA, 2),
          scalar('sB', p.sB, 1),
          scalar('zB', p.zB, 2),
          scalar('sC', p.sC, 1),
          scalar('zC', p.zC, 2),
        ],
        input: [vi('a'), vi('b')],
        output: [vi('y')],
      }),
    });
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { intraOpNumThreads: 1 });
    const y = (await s.run({ a: new ort.Tensor('uint8', a, [65536]), b: new ort.Tensor('uint8', b, [65536]) })).y!
      .data as Uint8Array;
    await s.release();
    let differ = 0;
    for (let k = 0; k < 65536; k++) if (mlasQLinearAdd(p, a[k]!, b[k]!) !== y[k]) differ++;
    t.is(differ, 0, JSON.stringify(p));
  }
});

test('int8 AVERAGE_POOL_2D (SAME, 3x3, stride 2) gives the integer kernel rounding, ties at the edges included', async (t) => {
  const b = new flatbuffers.Builder(64);
  b.finish(Pool2DOptions.createPool2DOptions(b, Padding.SAME, 2, 2, 3, 3, ActivationFunctionType.NONE));
  const bb = new flatbuffers.ByteBuffer(b.asUint8Array());
  const options = {
    type: BuiltinOptions.Pool2DOptions,
    table: new Pool2DOptions().__init(bb.readInt32(bb.position()) + bb.position(), bb),
  };
  const q = quant(0.3, -7);
  const defs = [
    { shape: [1, 20, 20, 8], quant: q },
    { shape: [1, 10, 10, 8], quant: q },
  ];
  let seed = 7;
  // Codes in a narrow band make ties (mean of 4 or 6 codes ending in .5) common on the last row and column.
  const codes = Int8Array.from({ length: 20 * 20 * 8 }, () => (((seed = (seed * 69069 + 1) % 2 ** 32) >>> 24) % 4) - 2);
  const feeds = [real(q, codes)];
  const [qdq, exact] = [
    await runInt8Op(defs, 'AVERAGE_POOL_2D', options, feeds, 'int8'),
    await runInt8Op(defs, 'AVERAGE_POOL_2D', options, feeds, 'int8-exact'),
  ];
  t.deepEqual(Array.from(qdq.out), Array.from(exact.out));
  t.is(qdq.ops.Round, undefined, 'no rounding emulation in the QDQ graph');
});

test("HARD_SWISH in the QDQ graph gives TFLite's code for all 256 inputs on every layer of the fine-tuned A0", async (t) => {
  const ft = resolveModel(CUSTOM_MODEL);
  const sg = ft.graph.subgraphs[0]!;
  const layers = sg.operators.filter((op) => op.opcode === 'HARD_SWISH');
  t.is(layers.length, 58);
  let chains = 0;
  for (const op of layers) {
    const [qx, qy] = [sg.tensors[op.inputs[0]!]!.quantization!, sg.tensors[op.outputs[0]!]!.quantization!];
    // The map's size picks the table (small maps) or the tuned fp32 chain: run each on one of its own size class.
    const big = sg.tensors[op.outputs[0]!]!.shape.reduce((a, b) => a * b, 1) > 4096;
    const shape = big ? [1, 16, 260, 1] : [1, 1, 256, 1];
    const n = shape.reduce((a, b) => a * b, 1);
    const feed = real(
      qx,
      Int8Array.from({ length: n }, (_, k) => (k % 256) - 128),
    );
    const defs = [
      { shape, quant: qx },
      { shape, quant: qy },
    ];
    const [qdq, exact] = [
      await runInt8Op(defs, 'HARD_SWISH', undefined, [feed], 'int8'),
      await runInt8Op(defs, 'HARD_SWISH', undefined, [feed], 'int8-exact'),
    ];
    let differ = 0;
    for (let k = 0; k < n; k++) if (qdq.out[k] !== exact.out[k]) differ++;
    t.is(differ, 0, `HARD_SWISH #${op.index} (${big ? 'fp32 chain' : 'table'})`);
    if (big) chains += qdq.ops.HardSigmoid ?? 0;
  }
  t.true(chains > 40, `${chains} layers ran the fp32 chain`);
});

test('the int8 graph in onnxruntime gives the logits of tfjs-tflite bit for bit on real clips (x86)', async (t) => {
  const a0 = resolveModel('a0');
  const [tf, ox] = [
    await getBackend('tfjs-tflite').load(a0, { threads: 1 }),
    await getBackend('onnxruntime').load(a0, { threads: 1, cache: false }),
  ];
  try {
    for (const file of [ARM_WRESTLING, clip('archery__PaddleVideo-example.avi')]) {
      const frames = await collect(decodeFrames(file, { size: 172, fps: 5, resize: 'crop', maxFrames: 12 }));
      const logits: Float32Array[][] = [[], []];
      await streamFrames(tf, frames, (r) => logits[0]!.push(r.logits.slice()));
      await streamFrames(ox, frames, (r) => logits[1]!.push(r.logits.slice()));
      // Every frame of both streams, each with a logit per class, so that a max of 0 means something.
      t.is(frames.length, 12, path.basename(file));
      t.deepEqual(
        logits.map((l) => l.map((f) => f.length)),
        [Array<number>(12).fill(600), Array<number>(12).fill(600)],
      );
      let max = 0;
      logits[0]!.forEach((a, f) => a.forEach((v, k) => (max = Math.max(max, Math.abs(v - logits[1]![f]![k]!)))));
      t.is(max, 0, `${path.basename(file)}: max |Δlogit| over ${frames.length} frames`);
    }
  } finally {
    tf.dispose();
    ox.dispose();
  }
});
