import { FbTable, fileIdentifier, rootTable } from './flatbuffer.js';
import { UserError } from '../util/errors.js';

/**
 * A read-only parse of a .tflite flatbuffer: just the parts movinet-bench needs
 * (tensors, operators, buffers, signatures). Field ids follow the TFLite schema
 * (tensorflow/lite/schema/schema.fbs); each table lists them where it is read.
 */

export const TENSOR_TYPES = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16',
  'complex64', 'int8', 'float64', 'complex128', 'uint64', 'resource', 'variant',
  'uint32', 'uint16', 'int4',
] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];

/** BuiltinOperator enum, by code. */
const BUILTIN_OPS = (
  'ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP ' +
  'FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC ' +
  'LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX ' +
  'SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD ' +
  'UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE ' +
  'UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX ' +
  'DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER ' +
  'GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL ' +
  'NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ' +
  'ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL ' +
  'FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE ' +
  'CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE ' +
  'MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND ' +
  'SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE ' +
  'BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT ' +
  'HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS ' +
  'RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 ' +
  'UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN ' +
  'BITCAST BITWISE_XOR RIGHT_SHIFT'
).split(' ');

export function builtinOpName(code: number): string {
  return BUILTIN_OPS[code] ?? `BUILTIN_${code}`;
}

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
  /** The op's builtin options table, if any; read with the helpers in convert/. */
  options?: FbTable;
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

function readQuantization(t: FbTable | undefined): Quantization | undefined {
  // QuantizationParameters: min 0, max 1, scale 2, zero_point 3, details 4/5, quantized_dimension 6
  if (!t) return undefined;
  const scale = t.float32s(2);
  if (scale.length === 0) return undefined;
  const zeroPoint = t.int64s(3);
  return { scale, zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0), axis: t.int32(6) };
}

function readTensor(t: FbTable, index: number): TfliteTensor {
  // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5
  const typeCode = t.int8(1);
  const type = TENSOR_TYPES[typeCode];
  if (!type) throw new UserError(`tensor ${index} has unknown type code ${typeCode}`);
  return {
    index,
    name: t.string(3) ?? `tensor_${index}`,
    shape: t.int32s(0),
    type,
    buffer: t.uint32(2),
    quantization: readQuantization(t.table(4)),
    isVariable: t.bool(5),
  };
}

export function parseTflite(bytes: Uint8Array, label = 'model'): TfliteModel {
  if (fileIdentifier(bytes) !== 'TFL3') {
    throw new UserError(`${label} is not a TFLite flatbuffer (missing "TFL3" identifier); the file is corrupt or of another format`);
  }
  try {
    return parseChecked(bytes);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${label} is a corrupt TFLite flatbuffer (${(e as Error).message})`);
  }
}

function parseChecked(bytes: Uint8Array): TfliteModel {
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4,
  // metadata_buffer 5, metadata 6, signature_defs 7
  const root = rootTable(bytes);
  const opcodes = root.tables(1).map((c) => {
    // OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1, version 2, builtin_code 3 (int32)
    const code = Math.max(c.int8(0), c.int32(3));
    return code === 32 ? `CUSTOM:${c.string(1) ?? '?'}` : builtinOpName(code);
  });
  const subgraphs = root.tables(2).map((sg): TfliteSubgraph => ({
    // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4
    name: sg.string(4) ?? '',
    tensors: sg.tables(0).map(readTensor),
    inputs: sg.int32s(1),
    outputs: sg.int32s(2),
    // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options 3 (type) / 4 (table)
    operators: sg.tables(3).map((op, index) => ({
      index,
      opcode: opcodes[op.uint32(0)] ?? `OPCODE_${op.uint32(0)}`,
      inputs: op.int32s(1),
      outputs: op.int32s(2),
      options: op.table(4),
    })),
  }));
  const buffers = root.tables(4);
  const signatures = root.tables(7).map((s): SignatureDef => {
    // SignatureDef: inputs 0, outputs 1, signature_key 2, deprecated_tag 3, subgraph_index 4
    // TensorMap: name 0, tensor_index 1
    const entries = (id: number) => s.tables(id).map((m) => ({ name: m.string(0) ?? '', tensorIndex: m.uint32(1) }));
    return { key: s.string(2) ?? '', subgraphIndex: s.uint32(4), inputs: entries(0), outputs: entries(1) };
  });
  const empty = new Uint8Array(0);
  return {
    version: root.uint32(0),
    description: root.string(3) ?? '',
    subgraphs,
    signatures,
    // Metadata: name 0, buffer 1
    metadataNames: root.tables(6).map((m) => m.string(0) ?? ''),
    buffer(index: number): Uint8Array {
      // Buffer: data 0, offset 1, size 2 (offset/size only for models > 2 GB)
      const b = buffers[index];
      if (!b) return empty;
      const data = b.bytes(0);
      if (data) return data;
      const offset = Number(b.uint64(1));
      const size = Number(b.uint64(2));
      return offset > 1 ? bytes.subarray(offset, offset + size) : empty;
    },
  };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
