import * as flatbuffers from 'flatbuffers';
import * as schema from './tflite-schema/tflite_generated.js';
import { UserError } from '../util/errors.js';

/**
 * A read-only parse of a .tflite flatbuffer: just the parts movinet-bench needs
 * (tensors, operators, buffers, signatures), read through the accessors flatc
 * generates from tflite-schema/tflite.fbs, so no field is addressed by number.
 */

/** The tensor types handled, named after the schema's TensorType in lower case (and listed in its code order). */
export const TENSOR_TYPES = [
  'float32',
  'float16',
  'int32',
  'uint8',
  'int64',
  'string',
  'bool',
  'int16',
  'complex64',
  'int8',
  'float64',
  'complex128',
  'uint64',
  'resource',
  'variant',
  'uint32',
  'uint16',
  'int4',
] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];
const HANDLED_TYPES: ReadonlySet<string> = new Set(TENSOR_TYPES);

export function builtinOpName(code: number): string {
  return schema.BuiltinOperator[code] ?? `BUILTIN_${code}`;
}

/** Any generated builtin options table (Conv2DOptions, Pool2DOptions, ...). */
export type BuiltinOptionsTable = NonNullable<ReturnType<typeof schema.unionToBuiltinOptions>>;

export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** Axis the per-channel scales run along; meaningful when scale.length > 1. */
  axis: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TensorType;
  buffer: number;
  quantization?: Quantization;
  isVariable: boolean;
}

export interface TfliteOperator {
  index: number;
  opcode: string;
  /** -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** The op's builtin options: the union's type code and the table, an instance of the generated class it names. */
  options?: { type: schema.BuiltinOptions; table: BuiltinOptionsTable };
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TensorMapEntry {
  name: string;
  tensorIndex: number;
}

export interface SignatureDef {
  key: string;
  subgraphIndex: number;
  inputs: TensorMapEntry[];
  outputs: TensorMapEntry[];
}

export interface TfliteModel {
  version: number;
  description: string;
  subgraphs: TfliteSubgraph[];
  signatures: SignatureDef[];
  metadataNames: string[];
  /** Buffer contents by index; empty for activations. */
  buffer(index: number): Uint8Array;
}

/**
 * A flatbuffer vector as an array, element by element: flatc's typed-array
 * views (scaleArray() ...) throw on a file buffer that is not aligned for them.
 * Within the length no element is null.
 */
function list<T>(length: number, at: (i: number) => T | null): T[] {
  return Array.from({ length }, (_, i) => at(i)!);
}

function readQuantization(q: schema.QuantizationParameters | null): Quantization | undefined {
  if (!q) return undefined;
  const scale = list(q.scaleLength(), (i) => q.scale(i));
  if (scale.length === 0) return undefined;
  const zeroPoint = list(q.zeroPointLength(), (i) => q.zeroPoint(i)).map(Number);
  return { scale, zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0), axis: q.quantizedDimension() };
}

function readTensor(t: schema.Tensor, index: number): TfliteTensor {
  const typeCode = t.type();
  const type = schema.TensorType[typeCode]?.toLowerCase();
  if (!type || !HANDLED_TYPES.has(type)) throw new UserError(`tensor ${index} has unknown type code ${typeCode}`);
  return {
    index,
    name: t.name() ?? `tensor_${index}`,
    shape: list(t.shapeLength(), (i) => t.shape(i)),
    type: type as TensorType,
    buffer: t.buffer(),
    quantization: readQuantization(t.quantization()),
    isVariable: t.isVariable(),
  };
}

function readOperator(op: schema.Operator, index: number, opcodes: string[]): TfliteOperator {
  const type = op.builtinOptionsType();
  const table = schema.unionToBuiltinOptions(type, (o) => op.builtinOptions(o));
  return {
    index,
    opcode: opcodes[op.opcodeIndex()] ?? `OPCODE_${op.opcodeIndex()}`,
    inputs: list(op.inputsLength(), (i) => op.inputs(i)),
    outputs: list(op.outputsLength(), (i) => op.outputs(i)),
    options: table ? { type, table } : undefined,
  };
}

export function parseTflite(bytes: Uint8Array, label = 'model'): TfliteModel {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !schema.Model.bufferHasIdentifier(bb)) {
    throw new UserError(
      `${label} is not a TFLite flatbuffer (missing "TFL3" identifier); the file is corrupt or of another format`,
    );
  }
  try {
    return parseChecked(bytes, bb);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${label} is a corrupt TFLite flatbuffer (${(e as Error).message})`);
  }
}

function parseChecked(bytes: Uint8Array, bb: flatbuffers.ByteBuffer): TfliteModel {
  const model = schema.Model.getRootAsModel(bb);
  const opcodes = list(model.operatorCodesLength(), (i) => model.operatorCodes(i)).map((c) => {
    // Files from before codes outgrew a byte set only the deprecated field; newer ones set both (it capped at 127).
    const code = Math.max(c.deprecatedBuiltinCode(), c.builtinCode());
    return code === schema.BuiltinOperator.CUSTOM ? `CUSTOM:${c.customCode() ?? '?'}` : builtinOpName(code);
  });
  const subgraphs = list(model.subgraphsLength(), (i) => model.subgraphs(i)).map((sg): TfliteSubgraph => ({
    name: sg.name() ?? '',
    tensors: list(sg.tensorsLength(), (i) => sg.tensors(i)).map(readTensor),
    inputs: list(sg.inputsLength(), (i) => sg.inputs(i)),
    outputs: list(sg.outputsLength(), (i) => sg.outputs(i)),
    operators: list(sg.operatorsLength(), (i) => sg.operators(i)).map((op, index) => readOperator(op, index, opcodes)),
  }));
  const buffers = list(model.buffersLength(), (i) => model.buffers(i));
  const signatures = list(model.signatureDefsLength(), (i) => model.signatureDefs(i)).map((s): SignatureDef => {
    const entries = (maps: schema.TensorMap[]) =>
      maps.map((m) => ({ name: m.name() ?? '', tensorIndex: m.tensorIndex() }));
    return {
      key: s.signatureKey() ?? '',
      subgraphIndex: s.subgraphIndex(),
      inputs: entries(list(s.inputsLength(), (i) => s.inputs(i))),
      outputs: entries(list(s.outputsLength(), (i) => s.outputs(i))),
    };
  });
  const empty = new Uint8Array(0);
  return {
    version: model.version(),
    description: model.description() ?? '',
    subgraphs,
    signatures,
    metadataNames: list(model.metadataLength(), (i) => model.metadata(i)).map((m) => m.name() ?? ''),
    buffer(index: number): Uint8Array {
      const b = buffers[index];
      if (!b) return empty;
      const data = b.dataArray();
      if (data) return data;
      // Models over 2 GB keep buffer data after the flatbuffer; offset 0 and 1 mean none.
      const offset = Number(b.offset());
      const size = Number(b.size());
      return offset > 1 ? bytes.subarray(offset, offset + size) : empty;
    },
  };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
