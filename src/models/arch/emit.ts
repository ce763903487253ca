import * as schema from '../tflite-schema/tflite_generated.js';
import type { IrModel, IrOptions, IrTensor, QuantParams } from './ir.js';
import {
  biasValues,
  HEAD_RANGES,
  weightScales,
  type ArchCalibration,
  type ArchNet,
  type ConvParams,
  type LayerNet,
} from './network.js';
import { Rng } from './random.js';

/**
 * The export recipe of the official MoViNet-A0 stream int8 file, inferred
 * from its graph and applied to any block spec:
 *
 * - float32 image and states in, float32 logits and states out; stream
 *   buffers and the head's pool buffer are QUANTIZEd first, the image last;
 * - per block layer: 1x1 CONV_2D expansion (ReLU6) -> spatial
 *   DEPTHWISE_CONV_2D (ReLU6, the layer's stride) -> when the temporal kernel
 *   is longer than 1, the (2+1)D temporal conv: RESHAPE to [1,1,H,W,C],
 *   CONCATENATION after the stream buffer, RESHAPE to [1,T,H*W,C] and a
 *   [1,T,1,C] VALID DEPTHWISE_CONV_2D (ReLU6), RESHAPE back -> 1x1 CONV_2D
 *   projection -> RESHAPE to 5D -> MUL by ReZero's folded constant -> ADD
 *   the skip (identity, or [AVERAGE_POOL_2D 3x3/2 then] a 1x1 CONV_2D) ->
 *   RESHAPE to 4D;
 * - the next stream buffer is a STRIDED_SLICE of the concatenation
 *   (DEQUANTIZEd to the float state), emitted where the MLIR converter put
 *   it: before the next temporal layer's concatenation, or in the head;
 * - no squeeze-excitation: every block's pool buffer and frame count pass
 *   through (the same tensor in and out);
 * - head: 1x1 CONV_2D (ReLU6), SUM over frame and space and MUL by 1/(H*W),
 *   ADD the pool buffer state (a running sum, QUANTIZEd at the start) and
 *   DEQUANTIZE it out; frame count + 1, CAST, DIV, QUANTIZE; then two 1x1
 *   CONV_2D (ReLU6, none) and the logits RESHAPE and DEQUANTIZE.
 *
 * Activations quantize per tensor (ReLU6 outputs and stream buffers at
 * [0, 6]), weights per channel with zero points 0, biases in int32 at
 * input scale times weight scale.
 */

const { BuiltinOperator: Op, TensorType: TT, BuiltinOptions: Opt, Padding, ActivationFunctionType: Fused } = schema;

const MG = 'movinet_classifier/movinet';
const CLS = 'movinet_classifier/classifier_head';

/** Versions the official A0 int8 file's OperatorCodes carry. */
const OP_VERSIONS = new Map<schema.BuiltinOperator, number>([
  [Op.QUANTIZE, 1],
  [Op.RESHAPE, 1],
  [Op.CONV_2D, 3],
  [Op.DEPTHWISE_CONV_2D, 3],
  [Op.MUL, 2],
  [Op.AVERAGE_POOL_2D, 2],
  [Op.ADD, 2],
  [Op.CONCATENATION, 2],
  [Op.STRIDED_SLICE, 4],
  [Op.DEQUANTIZE, 2],
  [Op.SUM, 2],
  [Op.CAST, 1],
  [Op.DIV, 2],
]);

/**
 * Calibrated ranges are widened by this much: they are the extremes of a few
 * clips, and a new clip may reach a little further without clamping.
 */
export const RANGE_MARGIN = 1.2;
/** The head's pool buffer holds a running sum: sized for this many frames (10 s at 5 fps) at the largest mean. */
export const HEAD_POOL_FRAMES = 50;

const f = Math.fround;

interface Q {
  scale: number;
  zp: number;
}

/** An int8 activation: its tensor, shape and quantization. */
interface Act extends Q {
  t: number;
  shape: number[];
}

const RELU6: Q = { scale: f(6 / 255), zp: -128 };
const IMAGE: Q = { scale: f(1 / 255), zp: -128 };

/** Asymmetric int8 quantization of a range that is widened to contain 0, as TFLite's calibrator does. */
export function rangeQuant(lo: number, hi: number): Q {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, min + 1e-6);
  const scale = f((max - min) / 255);
  const zp = Math.max(-128, Math.min(127, Math.round(-128 - min / scale)));
  return { scale, zp };
}

function reluQuant(hi: number): Q {
  return { scale: f(Math.min(6, hi) / 255), zp: -128 };
}

function int32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

const perTensor = (q: Q): QuantParams => ({ scale: [q.scale], zeroPoint: [q.zp], axis: 0 });
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function opts(type: schema.BuiltinOptions, write: IrOptions['write']): IrOptions {
  return { type, write };
}

class Graph {
  readonly tensors: IrTensor[] = [];
  readonly ops: IrModel['ops'] = [];
  private readonly shared = new Map<string, number>();
  private quantizeCount = 0;

  add(t: IrTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  /** int32 constants are shared by value, as the converter folds equal constants into one tensor. */
  int32(name: string, shape: number[], values: number[]): number {
    const key = `${shape.join(',')}:${values.join(',')}`;
    const found = this.shared.get(key);
    if (found !== undefined) return found;
    const t = this.add({ name, shape, type: TT.INT32, data: int32Bytes(values) });
    this.shared.set(key, t);
    return t;
  }

  act(name: string, shape: number[], q: Q): Act {
    return { t: this.add({ name, shape, type: TT.INT8, quant: perTensor(q) }), shape, scale: q.scale, zp: q.zp };
  }

  op(op: schema.BuiltinOperator, inputs: number[], outputs: number[], options?: IrOptions): void {
    this.ops.push({ op, inputs, outputs, options });
  }

  quantizeName(): string {
    const n = this.quantizeCount++;
    return n === 0 ? 'tfl.quantize' : `tfl.quantize${n}`;
  }
}

/** Names of a conv's tensors in Model Garden's layer naming. */
interface ConvNames {
  weights: string;
  bias: string;
  output: string;
}

function keras(prefix: string, conv: string, act: boolean): ConvNames {
  const bn = `${prefix}/bn/FusedBatchNormV3`;
  const weights = `${prefix}/${conv}`;
  return {
    weights,
    bias: bn,
    output: act ? `${prefix}/activation/Relu6;${bn};${weights}` : `${bn};${weights}`,
  };
}

interface StateDef {
  name: string;
  shape: number[];
  type: schema.TensorType;
}

interface Pending {
  concat: Act;
  frames: number;
  state: string;
}

class Emitter {
  readonly g = new Graph();
  private pending: Pending | undefined;
  /** The int8 view of each stream buffer input, by state name. */
  readonly streamIn = new Map<string, Act>();
  /** Computed outputs (logits, stream buffers, the head's states), by signature name. */
  readonly outputs = new Map<string, number>();
  private readonly outputNumber: Map<string, number>;

  constructor(
    private readonly net: ArchNet,
    private readonly calib: ArchCalibration,
    sortedOutputs: string[],
  ) {
    this.outputNumber = new Map(sortedOutputs.map((n, i) => [n, i]));
  }

  gain(p: ConvParams): number {
    const g = this.calib.gains[p.key];
    if (g === undefined || !(g > 0)) throw new Error(`${this.net.id}: no calibrated gain for ${p.key}`);
    return g;
  }

  range(key: string): Q {
    const r = this.calib.ranges[key];
    if (!r) throw new Error(`${this.net.id}: no calibrated range for ${key}`);
    return rangeQuant(r[0] * RANGE_MARGIN, r[1] * RANGE_MARGIN);
  }

  hi(key: string): number {
    const r = this.calib.ranges[key];
    if (!r) throw new Error(`${this.net.id}: no calibrated range for ${key}`);
    return r[1] * RANGE_MARGIN;
  }

  /** The float32 state tensor a stateful output is written to, named as the SavedModel's outputs are. */
  outputName(state: string): string {
    return `StatefulPartitionedCall:${this.outputNumber.get(state)}`;
  }

  conv(x: Act, p: ConvParams, out: Q, outShape: number[], names: ConvNames): Act {
    const g = this.g;
    const scales = weightScales(p, this.gain(p));
    const { kernelH: kh, kernelW: kw, inChannels: cin, outChannels: cout } = p;
    const w = g.add({
      name: names.weights,
      shape: p.depthwise ? [1, kh, kw, cout] : [cout, kh, kw, cin],
      type: TT.INT8,
      data: new Uint8Array(p.codes.buffer, p.codes.byteOffset, p.codes.length),
      quant: { scale: Array.from(scales), zeroPoint: new Array<number>(cout).fill(0), axis: p.depthwise ? 3 : 0 },
    });
    const biasScales = Array.from(scales, (s) => f(x.scale * s));
    const bias = Array.from(biasValues(p), (v, c) =>
      Math.max(-2147483648, Math.min(2147483647, Math.round(v / biasScales[c]!))),
    );
    const b = g.add({
      name: names.bias,
      shape: [cout],
      type: TT.INT32,
      data: int32Bytes(bias),
      quant: { scale: biasScales, zeroPoint: new Array<number>(cout).fill(0), axis: 0 },
    });
    const y = g.act(names.output, outShape, out);
    const padding = p.padding === 'same' ? Padding.SAME : Padding.VALID;
    const act = p.relu6 ? Fused.RELU6 : Fused.NONE;
    const s = p.stride;
    if (p.depthwise)
      g.op(
        Op.DEPTHWISE_CONV_2D,
        [x.t, w, b],
        [y.t],
        opts(Opt.DepthwiseConv2DOptions, (fb) =>
          schema.DepthwiseConv2DOptions.createDepthwiseConv2DOptions(fb, padding, s, s, 1, act, 1, 1),
        ),
      );
    else
      g.op(
        Op.CONV_2D,
        [x.t, w, b],
        [y.t],
        opts(Opt.Conv2DOptions, (fb) =>
          schema.Conv2DOptions.createConv2DOptions(fb, padding, s, s, act, 1, 1, TT.FLOAT32),
        ),
      );
    return y;
  }

  reshape(x: Act, shape: number[], name: string, shapeName?: string, declared = shape): Act {
    const y = this.g.act(name, shape, x);
    this.g.op(Op.RESHAPE, [x.t, this.g.int32(shapeName ?? `${name}/shape`, [declared.length], declared)], [y.t]);
    return y;
  }

  binary(op: 'ADD' | 'MUL', a: Act, b: Act | number, out: Q, name: string): Act {
    const y = this.g.act(name, a.shape, out);
    const other = typeof b === 'number' ? b : b.t;
    if (op === 'ADD')
      this.g.op(
        Op.ADD,
        [a.t, other],
        [y.t],
        opts(Opt.AddOptions, (fb) => schema.AddOptions.createAddOptions(fb, Fused.NONE, true)),
      );
    else
      this.g.op(
        Op.MUL,
        [a.t, other],
        [y.t],
        opts(Opt.MulOptions, (fb) => schema.MulOptions.createMulOptions(fb, Fused.NONE)),
      );
    return y;
  }

  /** A scalar broadcast to `shape` and stored at one extreme code, exactly as the converter folds a Keras Scale. */
  scalarConst(name: string, shape: number[], value: number): number {
    const q: Q = value >= 0 ? { scale: f(value / 255), zp: -128 } : { scale: f(-value / 255), zp: 127 };
    const code = value >= 0 ? 127 : -128;
    const data = new Uint8Array(count(shape)).fill(code & 0xff);
    return this.g.add({ name, shape, type: TT.INT8, data, quant: perTensor(q) });
  }

  flushPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const g = this.g;
    const [, t, h, w, c] = p.concat.shape as [number, number, number, number, number];
    const prefix = `${MG}/${p.state.replace(/^state_/, '').replace(/_stream_buffer$/, '')}/bneck/feature/stream_buffer`;
    const begin = g.int32(`${prefix}/strided_slice`, [5], [0, -p.frames, 0, 0, 0]);
    const end = g.int32(`${prefix}/strided_slice1`, [5], [0, 0, h, w, c]);
    const strides = g.int32(`${prefix}/strided_slice2`, [5], [1, 1, 1, 1, 1]);
    const outName = this.outputName(p.state);
    const sliced = g.act(`${outName}1`, [1, t - 1, h, w, c], p.concat);
    g.op(
      Op.STRIDED_SLICE,
      [p.concat.t, begin, end, strides],
      [sliced.t],
      // Every axis but time is taken whole.
      opts(Opt.StridedSliceOptions, (fb) =>
        schema.StridedSliceOptions.createStridedSliceOptions(fb, 0b11101, 0b11111, 0, 0, 0, false),
      ),
    );
    const state = g.add({ name: outName, shape: sliced.shape, type: TT.FLOAT32 });
    g.op(Op.DEQUANTIZE, [sliced.t], [state]);
    this.outputs.set(p.state, state);
  }

  layer(l: LayerNet, x4: Act, x5: Act | undefined): { x4: Act; x5: Act } {
    const p = l.plan;
    const P = `${MG}/${p.name}/bneck`;
    const [H, E, O] = [p.outSize, p.expand, p.outChannels];
    const e = this.conv(
      x4,
      l.expansion,
      RELU6,
      [1, p.inSize, p.inSize, E],
      keras(`${P}/expansion/conv2d`, 'conv2d/Conv2D', true),
    );
    let d = this.conv(
      e,
      l.spatial,
      RELU6,
      [1, H, H, E],
      keras(`${P}/feature/conv2d`, 'depthwise_conv2d/depthwise', true),
    );
    const skip = (): Act => {
      const n = p.inSize;
      if (!l.skip) return x5 ?? this.reshape(x4, [1, 1, n, n, p.inChannels], `${P}/skip/Reshape_1`);
      // Model Garden's SkipBlock reshapes with a free batch dimension.
      let s = x5
        ? this.reshape(x5, [1, n, n, p.inChannels], `${P}/skip/Reshape`, undefined, [-1, n, n, p.inChannels])
        : x4;
      if (p.stride > 1) {
        const pooled = this.g.act(`${P}/skip/skip_pool/AvgPool`, [1, H, H, p.inChannels], s);
        this.g.op(
          Op.AVERAGE_POOL_2D,
          [s.t],
          [pooled.t],
          opts(Opt.Pool2DOptions, (fb) =>
            schema.Pool2DOptions.createPool2DOptions(fb, Padding.SAME, 2, 2, 3, 3, Fused.NONE),
          ),
        );
        s = pooled;
      }
      const projected = this.conv(
        s,
        l.skip,
        this.range(`${p.name}/skip`),
        [1, H, H, O],
        keras(`${P}/skip/skip_project/conv2d`, 'conv2d_2/Conv2D', false),
      );
      return this.reshape(projected, [1, 1, H, H, O], `${P}/skip/skip_project/conv2d/Reshape_1`);
    };

    let residual: Act | undefined;
    if (l.temporal) {
      const T = p.temporalKernel;
      const d5 = this.reshape(d, [1, 1, H, H, E], `${P}/feature/conv2d/Reshape_1`);
      residual = skip();
      this.flushPending();
      const state = `state_${p.name}_stream_buffer`;
      const buffer = this.streamIn.get(state);
      if (!buffer) throw new Error(`${state} was not quantized`);
      const concat = this.g.act(`${P}/feature/stream_buffer/concat`, [1, T, H, H, E], RELU6);
      this.g.op(
        Op.CONCATENATION,
        [buffer.t, d5.t],
        [concat.t],
        opts(Opt.ConcatenationOptions, (fb) =>
          schema.ConcatenationOptions.createConcatenationOptions(fb, 1, Fused.NONE),
        ),
      );
      const flat = this.reshape(concat, [1, T, H * H, E], `${P}/feature/conv2d_temporal/Reshape`);
      const temporal = this.conv(
        flat,
        l.temporal,
        RELU6,
        [1, 1, H * H, E],
        keras(`${P}/feature/conv2d_temporal`, 'depthwise_conv2d_1/depthwise', true),
      );
      d = this.reshape(temporal, [1, H, H, E], `${P}/projection/conv2d/Reshape`);
      this.pending = { concat, frames: T - 1, state };
    }
    const proj = this.conv(
      d,
      l.projection,
      this.range(`${p.name}/projection`),
      [1, H, H, O],
      keras(`${P}/projection/conv2d`, 'conv2d_1/Conv2D', false),
    );
    const proj5 = this.reshape(proj, [1, 1, H, H, O], `${P}/projection/conv2d/Reshape_1`);
    const scale = this.scalarConst(`${P}/rezero/mul`, [1, 1, H, H, O], l.rezero);
    const scaled = this.binary('MUL', proj5, scale, this.range(`${p.name}/rezero`), `${P}/rezero/mul1`);
    residual ??= skip();
    const sum = this.binary('ADD', scaled, residual, this.range(`${p.name}/add`), `${P}/add_1`);
    const next = this.reshape(sum, [1, H, H, O], `${P}/output/Reshape`);
    return { x4: next, x5: sum };
  }
}

/** Every state of the stream signature, with the shapes Model Garden's initial_state_specs gives them. */
export function archStates(net: ArchNet): StateDef[] {
  const states: StateDef[] = [];
  for (const l of net.layers) {
    const p = l.plan;
    states.push({ name: `state_${p.name}_pool_buffer`, shape: [1, 1, 1, 1, p.expand], type: TT.FLOAT32 });
    states.push({ name: `state_${p.name}_pool_frame_count`, shape: [1], type: TT.INT32 });
    if (p.temporalKernel > 1)
      states.push({
        name: `state_${p.name}_stream_buffer`,
        shape: [1, p.temporalKernel - 1, p.outSize, p.outSize, p.expand],
        type: TT.FLOAT32,
      });
  }
  const spec = net.plan.spec;
  states.push({ name: 'state_head_pool_buffer', shape: [1, 1, 1, 1, spec.head.projectFilters], type: TT.FLOAT32 });
  states.push({ name: 'state_head_pool_frame_count', shape: [1], type: TT.INT32 });
  return states.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A seeded shuffle: the subgraph's input order is not the signature's, as in converted files. */
function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface EmitInfo {
  description: string;
  metadata: { name: string; data: Uint8Array }[];
}

export function emitArch(net: ArchNet, calib: ArchCalibration, info: EmitInfo): IrModel {
  const spec = net.plan.spec;
  const R = spec.resolution;
  const states = archStates(net);
  const stateByName = new Map(states.map((s) => [s.name, s]));
  const inputOrder = shuffled(['image', ...states.map((s) => s.name)], Rng.for(`${net.id}/inputs`));
  const sortedOutputs = ['logits', ...states.map((s) => s.name)];

  const inputs = new Map<string, number>();
  const e = new Emitter(net, calib, sortedOutputs);
  const g = e.g;
  for (const name of inputOrder) {
    const s = stateByName.get(name);
    inputs.set(
      name,
      g.add({
        name: `serving_default_${name}:0`,
        shape: s ? s.shape : [1, 1, R, R, 3],
        type: s ? s.type : TT.FLOAT32,
      }),
    );
  }
  const quantize = (name: string, q: Q): Act => {
    const src = inputs.get(name)!;
    const y = g.act(g.quantizeName(), g.tensors[src]!.shape, q);
    g.op(Op.QUANTIZE, [src], [y.t]);
    return y;
  };

  // Stream buffers in descending subgraph position, then the head's pool buffer, then the image.
  const streamStates = inputOrder.filter((n) => n.endsWith('_stream_buffer')).reverse();
  for (const name of streamStates) e.streamIn.set(name, quantize(name, RELU6));
  const frameMean = Math.min(6, e.hi(HEAD_RANGES.frameMean));
  const poolIn: Q = { scale: f((HEAD_POOL_FRAMES * frameMean) / 255), zp: -128 };
  const poolOut: Q = { scale: f(((HEAD_POOL_FRAMES + 1) * frameMean) / 255), zp: -128 };
  const headPool = quantize('state_head_pool_buffer', poolIn);
  const image = quantize('image', IMAGE);

  const stemPrefix = `${MG}/stem/stem/conv2d`;
  const image4 = e.reshape(image, [1, R, R, 3], `${stemPrefix}/Reshape`);
  const S = net.plan.stemSize;
  let x4 = e.conv(image4, net.stem, RELU6, [1, S, S, spec.stem.filters], keras(stemPrefix, 'conv2d/Conv2D', true));
  let x5: Act | undefined;
  for (const l of net.layers) ({ x4, x5 } = e.layer(l, x4, x5));

  // Head: causal global average pool over frames, then the classifier.
  const Hh = net.plan.headSize;
  const Pf = spec.head.projectFilters;
  const hp = `${MG}/head/project/conv2d`;
  const h = e.conv(x4, net.headProject, RELU6, [1, Hh, Hh, Pf], keras(hp, 'conv2d/Conv2D', true));
  const h5 = e.reshape(h, [1, 1, Hh, Hh, Pf], `${hp}/Reshape_1`);
  const gap = `${MG}/head/global_average_pool3d`;
  const sum = g.act(`${gap}/Sum`, [1, 1, 1, 1, Pf], { scale: f((Hh * Hh * 6) / 255), zp: -128 });
  g.op(
    Op.SUM,
    [h5.t, g.int32(`${gap}/Sum/reduction_indices`, [3], [1, 2, 3])],
    [sum.t],
    opts(Opt.ReducerOptions, (fb) => schema.ReducerOptions.createReducerOptions(fb, true)),
  );
  const inv = e.scalarConst(`${gap}/truediv;${gap}/Cast`, [1, 1, 1, 1, Pf], 1 / (Hh * Hh));
  const mean = e.binary('MUL', sum, inv, RELU6, `${gap}/truediv;${gap}/Cast1`);
  e.flushPending();
  const poolName = 'state_head_pool_buffer';
  const pooled = e.binary('ADD', mean, headPool, poolOut, `${e.outputName(poolName)}1`);
  const poolState = g.add({ name: e.outputName(poolName), shape: pooled.shape, type: TT.FLOAT32 });
  g.op(Op.DEQUANTIZE, [pooled.t], [poolState]);
  e.outputs.set(poolName, poolState);
  const countName = 'state_head_pool_frame_count';
  const frames = g.add({ name: e.outputName(countName), shape: [1], type: TT.INT32 });
  g.op(
    Op.ADD,
    [inputs.get(countName)!, g.int32(`${MG}/head/frame_count/one`, [], [1])],
    [frames],
    opts(Opt.AddOptions, (fb) => schema.AddOptions.createAddOptions(fb, Fused.NONE, true)),
  );
  e.outputs.set(countName, frames);
  const framesF = g.add({ name: `${gap}/Cast_1`, shape: [1], type: TT.FLOAT32 });
  g.op(Op.CAST, [frames], [framesF]);
  const avg = g.add({ name: `${gap}/truediv_1`, shape: pooled.shape, type: TT.FLOAT32 });
  g.op(
    Op.DIV,
    [poolState, framesF],
    [avg],
    opts(Opt.DivOptions, (fb) => schema.DivOptions.createDivOptions(fb, Fused.NONE)),
  );
  const avgQ = g.act(g.quantizeName(), pooled.shape, reluQuant(e.hi(HEAD_RANGES.average)));
  g.op(Op.QUANTIZE, [avg], [avgQ.t]);
  const ch = `${CLS}/head/conv2d`;
  const avg4 = e.reshape(avgQ, [1, 1, 1, Pf], `${ch}/Reshape`);
  const hidden = e.conv(
    avg4,
    net.classifierHead,
    reluQuant(e.hi(HEAD_RANGES.classifierHead)),
    [1, 1, 1, spec.head.headFilters],
    keras(ch, 'conv2d/Conv2D', true),
  );
  const logits4 = e.conv(
    hidden,
    net.classifier,
    e.range(HEAD_RANGES.logits),
    [1, 1, 1, spec.numClasses],
    keras(`${CLS}/classifier/conv2d`, 'conv2d_1/Conv2D', false),
  );
  const logitsQ = e.reshape(logits4, [1, spec.numClasses], `${e.outputName('logits')}1`, `${CLS}/squeeze3d/Squeeze`);
  const logits = g.add({ name: e.outputName('logits'), shape: [1, spec.numClasses], type: TT.FLOAT32 });
  g.op(Op.DEQUANTIZE, [logitsQ.t], [logits]);
  e.outputs.set('logits', logits);

  // Pool buffers and frame counts of the blocks pass through: the output is the input tensor.
  const outputOf = (name: string): number => e.outputs.get(name) ?? inputs.get(name)!;
  const outputOrder = inputOrder.map((n) => (n === 'image' ? 'logits' : n));
  return {
    tensors: g.tensors,
    ops: g.ops,
    inputs: inputOrder.map((n) => inputs.get(n)!),
    outputs: outputOrder.map(outputOf),
    signatureKey: 'serving_default',
    signatureInputs: ['image', ...states.map((s) => s.name)].map((name) => ({ name, tensor: inputs.get(name)! })),
    signatureOutputs: sortedOutputs.map((name) => ({ name, tensor: outputOf(name) })),
    description: info.description,
    metadata: info.metadata,
    opVersions: OP_VERSIONS,
  };
}
