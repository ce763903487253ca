import type { StreamSignature } from '../models/signature.js';
import type { TfliteModel, TfliteOperator, TfliteTensor } from '../models/tflite.js';
import { UserError } from '../util/errors.js';
import { OnnxGraphBuilder, OnnxType, type OnnxTypeName } from './onnx-builder.js';

/**
 * The state one conversion shares between the driver (tflite-to-onnx.ts) and
 * the per-op converters (ops.ts), kept apart from both so neither imports the other.
 */

export type Precision = 'float' | 'int8' | 'int8-exact';
export const PRECISIONS: readonly Precision[] = ['float', 'int8', 'int8-exact'];

/**
 * The graph's batch axis: 'fixed' is the TFLite model's own [1,...] (one stream per call); 'free' makes it a
 * symbolic dimension, so one call steps several streams, each a row of every input and output.
 */
export type BatchAxis = 'fixed' | 'free';
export const BATCH_AXES: readonly BatchAxis[] = ['fixed', 'free'];

/** The symbolic dimension a free-batch graph names in its inputs and outputs. */
export const BATCH_DIM = 'batch';

const QUANT_TYPES = new Set(['int8', 'uint8']);

/**
 * Converts a TFLite stream model to ONNX, in NHWC throughout except inside the
 * spatial ops (conv, depthwise, pooling), which are wrapped in transposes that
 * onnxruntime's transpose optimizer cancels between neighbours. Constant
 * weights are transposed at conversion time.
 *
 * precision 'float': every quantized constant is dequantized; activations are fp32.
 * precision 'int8': QDQ form. Weights stay int8 behind DequantizeLinear
 * (per-channel where the model is), and every int8 activation goes through
 * QuantizeLinear/DequantizeLinear with the model's own scale and zero point,
 * so onnxruntime fuses the patterns into its quantized kernels. Activations
 * (and constants read as operands of elementwise ops) are stored as uint8,
 * code + 128 with zero point + 128, which dequantizes to the same values:
 * onnxruntime's x86 kernels take uint8 activations, and its own int8-to-uint8
 * rewrite skips a QuantizeLinear read by several DequantizeLinear, leaving
 * mixed int8/uint8 groups it cannot fuse (QLinearAdd/Mul/Concat need one type).
 * precision 'int8-exact': TFLite's integer arithmetic emulated with fp32 ops
 * (convolutions on integer codes, XNNPACK's fp32 requantization, the integer
 * kernels' rounding), for bit-exact parity; it runs on fp32 kernels.
 */
export class Converter {
  /** The ONNX graph being built. */
  readonly graph = new OnnxGraphBuilder();
  private readonly values = new Map<number, string>();
  /** int8 QDQ: the uint8 codes an int8 activation's value dequantizes, where the graph has them. */
  private readonly codes = new Map<number, string>();
  readonly tensors: TfliteTensor[];
  /** Activations keep their int8 rounding (int8 and int8-exact). */
  readonly quantized: boolean;
  /** Convolutions are emulated in integer arithmetic (int8-exact). */
  readonly exact: boolean;
  /** int8 activations are stored as uint8 (int8 QDQ). */
  readonly unsigned: boolean;
  /** Free batch: the tensors computed from a graph input, whose first axis is the batch (constants have none). */
  private readonly batched: ReadonlySet<number>;

  constructor(
    readonly model: TfliteModel,
    readonly signature: StreamSignature,
    readonly precision: Precision,
    readonly batch: BatchAxis = 'fixed',
  ) {
    this.quantized = precision !== 'float';
    this.exact = precision === 'int8-exact';
    this.unsigned = precision === 'int8';
    const sg = model.subgraphs[0];
    if (!sg) throw new UserError('model has no subgraph');
    this.tensors = sg.tensors;
    this.batched = batch === 'free' ? batchedTensors(this, sg.operators) : new Set();
  }

  /** Whether tensor i holds one row per stream on its first axis (free batch only). */
  carriesBatch(i: number): boolean {
    return this.batched.has(i);
  }

  /**
   * A Reshape target for tensor i's `shape`: as written, or with the batch left to the runtime (-1 in front:
   * the other dimensions are static, so it can only be the batch) when i carries it.
   */
  shapeOf(i: number, shape: readonly number[]): number[] {
    return this.carriesBatch(i) ? [-1, ...shape.slice(1)] : [...shape];
  }

  /** The shape a graph input or output declares for tensor i: its batch symbolic when it carries one. */
  ioShape(i: number): (number | string)[] {
    const shape = this.tensor(i).shape;
    return this.carriesBatch(i) ? [BATCH_DIM, ...shape.slice(1)] : [...shape];
  }

  tensor(i: number): TfliteTensor {
    const t = this.tensors[i];
    if (!t) throw new UserError(`tensor ${i} does not exist`);
    return t;
  }

  isConstant(i: number): boolean {
    return this.model.buffer(this.tensor(i).buffer).length > 0;
  }

  isQuantized(t: TfliteTensor): boolean {
    return QUANT_TYPES.has(t.type) && t.quantization !== undefined;
  }

  /** The ONNX value of a TFLite tensor: float for quantized and float tensors, int32/int64 otherwise. */
  value(i: number): string {
    const v = this.values.get(i);
    if (v) return v;
    const codes = this.codes.get(i);
    if (codes) {
      const dq = this.graph.node('DequantizeLinear', [codes, ...this.unsignedParams(i)], `t${i}`);
      this.values.set(i, dq);
      return dq;
    }
    if (!this.isConstant(i))
      throw new UserError(`tensor ${i} (${this.tensor(i).name}) is read before any operator writes it`);
    const name = this.constant(i, undefined, true);
    this.values.set(i, name);
    return name;
  }

  /** Raw constant data as numbers (int8, int32, float32, int64). */
  constantData(i: number): Float32Array | Int32Array | Int8Array | Uint8Array | number[] {
    const t = this.tensor(i);
    const bytes = this.model.buffer(t.buffer).slice();
    switch (t.type) {
      case 'float32':
        return new Float32Array(bytes.buffer);
      case 'float16':
        return halfToFloat(new Uint16Array(bytes.buffer));
      case 'int32':
        return new Int32Array(bytes.buffer);
      case 'int8':
        return new Int8Array(bytes.buffer);
      case 'uint8':
        return bytes;
      case 'int64':
        return Array.from(new BigInt64Array(bytes.buffer), Number);
      default:
        throw new UserError(`constant tensor ${i} (${t.name}) has unsupported type ${t.type}`);
    }
  }

  /**
   * Materialises a constant, optionally with its axes permuted (perm[k] = old
   * axis of new axis k), as an ONNX value in this converter's domain. An
   * `operand` (a constant an elementwise op reads like an activation) is
   * stored the way activations are; weights keep int8.
   */
  constant(i: number, perm?: number[], operand = false): string {
    const t = this.tensor(i);
    let data = this.constantData(i);
    let shape = t.shape;
    if (perm) {
      data = transposeData(data, shape, perm);
      shape = perm.map((p) => t.shape[p]!);
    }
    const base = `c${i}`;
    const q = t.quantization;
    if (!q || !(QUANT_TYPES.has(t.type) || t.type === 'int32')) {
      const type: OnnxTypeName =
        t.type === 'float32' || t.type === 'float16'
          ? 'float'
          : t.type === 'int32'
            ? 'int32'
            : t.type === 'int64'
              ? 'int64'
              : 'int8';
      return this.graph.constant(base, type, shape, data as ArrayLike<number>);
    }
    const axis = q.scale.length > 1 ? (perm ? perm.indexOf(q.axis) : q.axis) : -1;
    if (!this.quantized || t.type === 'uint8') {
      return this.graph.constant(
        base,
        'float',
        shape,
        dequantize(data as ArrayLike<number>, shape, q.scale, q.zeroPoint, axis),
      );
    }
    if (operand && this.unsigned && t.type === 'int8') {
      const stored = this.graph.constant(
        `${base}_q`,
        'uint8',
        shape,
        Array.from(data as ArrayLike<number>, (v) => v + 128),
      );
      if (!perm && q.scale.length === 1) this.codes.set(i, stored);
      return this.dequantizeLinear(
        stored,
        q.scale,
        q.zeroPoint.map((z) => z + 128),
        'uint8',
        axis,
        base,
      );
    }
    const stored = this.graph.constant(
      `${base}_q`,
      t.type === 'int32' ? 'int32' : 'int8',
      shape,
      data as ArrayLike<number>,
    );
    return this.dequantizeLinear(stored, q.scale, q.zeroPoint, t.type === 'int32' ? 'int32' : 'int8', axis, base);
  }

  dequantizeLinear(
    x: string,
    scale: number[],
    zeroPoint: number[],
    type: 'int8' | 'uint8' | 'int32',
    axis: number,
    base: string,
  ): string {
    const perChannel = scale.length > 1;
    const s = this.graph.constant(`${base}_scale`, 'float', perChannel ? [scale.length] : [], scale);
    const z = this.graph.constant(`${base}_zp`, type, perChannel ? [zeroPoint.length] : [], zeroPoint);
    return this.graph.node('DequantizeLinear', [x, s, z], base, perChannel ? { axis: { i: axis } } : {});
  }

  /**
   * Records the value an operator produced for tensor i. In the int8 modes an
   * int8 activation is rounded the way the TFLite kernel rounds it: Q then DQ with
   * the tensor's own scale and zero point (int8 QDQ keeps the uint8 codes between them).
   */
  produce(i: number, v: string): void {
    const t = this.tensor(i);
    if (this.quantized && this.isQuantized(t)) {
      const q = t.quantization!;
      if (q.scale.length !== 1)
        throw new UserError(
          `tensor ${i} (${t.name}) has per-channel quantized activations, which the converter does not support`,
        );
      if (this.unsigned) {
        this.setCodes(i, this.quantizeLinear(i, v));
        return;
      }
      const s = this.graph.scalarFloat(`s${i}`, q.scale[0]!);
      const z = this.graph.constant(`zp${i}`, 'int8', [], [q.zeroPoint[0]!]);
      const quant = this.graph.node('QuantizeLinear', [v, s, z], `q${i}`);
      v = this.graph.node('DequantizeLinear', [quant, s, z], `t${i}`);
    }
    this.values.set(i, v);
  }

  /** int8 QDQ: the scale and uint8 zero point of quantized tensor i (an int8 one's moves up by 128). */
  private unsignedParams(i: number): [string, string] {
    const t = this.tensor(i);
    const q = t.quantization!;
    return [
      this.graph.scalarFloat(`s${i}`, q.scale[0]!),
      this.graph.constant(`zpu${i}`, 'uint8', [], [q.zeroPoint[0]! + (t.type === 'int8' ? 128 : 0)]),
    ];
  }

  /** int8 QDQ: v quantized to int8 tensor i's uint8 codes. */
  private quantizeLinear(i: number, v: string): string {
    return this.graph.node('QuantizeLinear', [v, ...this.unsignedParams(i)], `q${i}`);
  }

  /**
   * int8 QDQ: the uint8 codes of int8 tensor i, quantizing its value when no
   * op has produced them (the codes are exact: the value is on the tensor's grid).
   */
  codesOf(i: number): string {
    const known = this.codes.get(i);
    if (known) return known;
    const v = this.value(i);
    const codes = this.codes.get(i) ?? this.quantizeLinear(i, v);
    this.codes.set(i, codes);
    return codes;
  }

  /** int8 QDQ: tensor i is these uint8 codes; its value is their DequantizeLinear, added when first read. */
  setCodes(i: number, codes: string): void {
    this.codes.set(i, codes);
    this.values.delete(i);
  }

  /** The integer codes (q - zero point) of a value on the int8 grid, as exact float integers. */
  centredCodes(i: number): string {
    const q = this.tensor(i).quantization!;
    return this.graph.node(
      'Round',
      [this.graph.node('Div', [this.value(i), this.graph.scalarFloat(`s${i}`, q.scale[0]!)], `qdiv${i}`)],
      `qcodes${i}`,
    );
  }

  /**
   * Sets int8 tensor i to round(x) + offset, clamped (or wrapped, for a kernel
   * that casts without clamping), with halves rounded away from zero as
   * TFLite's integer kernels round (QuantizeLinear would round ties to even).
   * `x` must be computed exactly for ties to be ties.
   */
  produceRoundedAway(i: number, x: string, offset: number, overflow: 'clamp' | 'wrap' = 'clamp'): void {
    const away = this.graph.node(
      'Floor',
      [
        this.graph.node(
          'Add',
          [this.graph.node('Abs', [x], `qabs${i}`), this.graph.scalarFloat('half', 0.5)],
          `qhalf${i}`,
        ),
      ],
      `qfloor${i}`,
    );
    const rounded = this.graph.node('Mul', [this.graph.node('Sign', [x], `qsign${i}`), away], `qround${i}`);
    const raw = this.graph.node('Add', [rounded, this.graph.scalarFloat(`off${offset}`, offset)], `qoff${i}`);
    const code =
      overflow === 'clamp'
        ? this.graph.node(
            'Clip',
            [raw, this.graph.scalarFloat('qmin', -128), this.graph.scalarFloat('qmax', 127)],
            `qclip${i}`,
          )
        : this.wrapInt8(raw, i);
    if (this.unsigned) {
      // Stored as uint8 codes like every activation of the QDQ graph, so onnxruntime fuses the consumers.
      const shifted = this.graph.node('Add', [code, this.graph.scalarFloat('c128', 128)], `qu${i}`);
      this.setCodes(i, this.graph.node('Cast', [shifted], `q${i}`, { to: { i: OnnxType.uint8 } }));
    } else this.values.set(i, this.fromCodes(i, code));
  }

  /** An integer held as a float, cast to int8 as C's static_cast does: modulo 256. */
  private wrapInt8(v: string, i: number): string {
    const shifted = this.graph.node('Add', [v, this.graph.scalarFloat('c128', 128)], `qwrap${i}`);
    const turns = this.graph.node(
      'Floor',
      [this.graph.node('Mul', [shifted, this.graph.scalarFloat('inv256', 1 / 256)], `qturns${i}`)],
      `qfloorturns${i}`,
    );
    return this.graph.node(
      'Sub',
      [v, this.graph.node('Mul', [turns, this.graph.scalarFloat('c256', 256)], `qturns256${i}`)],
      `qwrapped${i}`,
    );
  }

  /** The real value (code - zero point) * scale of int8 codes held as floats, with tensor i's quantization. */
  fromCodes(i: number, code: string): string {
    const q = this.tensor(i).quantization!;
    const z = this.graph.scalarFloat(`zpf${i}`, q.zeroPoint[0]!);
    return this.graph.node(
      'Mul',
      [this.graph.node('Sub', [code, z], `qcentre${i}`), this.graph.scalarFloat(`s${i}`, q.scale[0]!)],
      `t${i}`,
    );
  }

  /** Names the ONNX value that holds TFLite tensor i. */
  setValue(i: number, name: string): void {
    this.values.set(i, name);
    this.codes.delete(i);
  }
}

/**
 * The tensors a free-batch graph computes per stream: the image and state inputs, and every output of an op that
 * reads one. Each must hold its stream on a leading axis of 1 (the TFLite model's batch of one); a model that
 * folds the batch into another axis, or drops it, cannot be batched by giving that axis a free size.
 */
function batchedTensors(c: Converter, operators: readonly TfliteOperator[]): Set<number> {
  const sig = c.signature;
  const carrying = new Set([sig.image.tensorIndex, ...sig.states.map((s) => s.input.tensorIndex)]);
  for (const op of operators) if (op.inputs.some((i) => carrying.has(i))) for (const o of op.outputs) carrying.add(o);
  for (const i of carrying) {
    const t = c.tensor(i);
    if (t.shape[0] !== 1)
      throw new UserError(
        `tensor ${i} (${t.name}) has shape [${t.shape.join(',')}]: a graph with a free batch axis needs every ` +
          'tensor computed from an input to hold its stream on a leading axis of 1',
      );
  }
  return carrying;
}

/** IEEE 754 half to single precision (float16 models store their weights this way, behind DEQUANTIZE). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let k = 0; k < h.length; k++) {
    const v = h[k]!;
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    out[k] =
      exp === 0
        ? sign * 2 ** -14 * (frac / 1024)
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

export function dequantize(
  data: ArrayLike<number>,
  shape: number[],
  scale: number[],
  zeroPoint: number[],
  axis: number,
): Float32Array {
  const out = new Float32Array(data.length);
  if (axis < 0) {
    const s = scale[0]!;
    const z = zeroPoint[0] ?? 0;
    for (let k = 0; k < data.length; k++) out[k] = s * (data[k]! - z);
    return out;
  }
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = shape[axis]!;
  for (let k = 0; k < data.length; k++) {
    const c = Math.floor(k / inner) % dim;
    out[k] = scale[c]! * (data[k]! - (zeroPoint[c] ?? 0));
  }
  return out;
}

/** out[new index] = data[old index], new axis k being old axis perm[k]. */
export function transposeData<T extends ArrayLike<number>>(data: T, shape: number[], perm: number[]): T {
  const rank = shape.length;
  const newShape = perm.map((p) => shape[p]!);
  const oldStrides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    oldStrides[k] = s;
    s *= shape[k]!;
  }
  const out = new (data.constructor as new (n: number) => T & { [k: number]: number })(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let n = 0; n < data.length; n++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * oldStrides[perm[k]!]!;
    out[n] = data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < newShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}
