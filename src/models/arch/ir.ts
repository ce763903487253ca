import type * as flatbuffers from 'flatbuffers';
import type { BuiltinOperator, BuiltinOptions, TensorType } from '../tflite-schema/tflite_generated.js';

/** A TFLite model before serialisation: the graph emit.ts builds and writer.ts writes. */

export interface QuantParams {
  scale: number[];
  zeroPoint: number[];
  /** Quantized dimension; meaningful with more than one scale. */
  axis: number;
}

export interface IrTensor {
  name: string;
  shape: number[];
  type: TensorType;
  /** Constant contents, little-endian; absent for activations. */
  data?: Uint8Array;
  quant?: QuantParams;
}

export interface IrOptions {
  type: BuiltinOptions;
  write(b: flatbuffers.Builder): flatbuffers.Offset;
}

export interface IrOp {
  op: BuiltinOperator;
  inputs: number[];
  outputs: number[];
  options?: IrOptions;
}

export interface IrNamedTensor {
  name: string;
  tensor: number;
}

export interface IrModel {
  tensors: IrTensor[];
  ops: IrOp[];
  inputs: number[];
  outputs: number[];
  signatureKey: string;
  signatureInputs: IrNamedTensor[];
  signatureOutputs: IrNamedTensor[];
  description: string;
  metadata: { name: string; data: Uint8Array }[];
  /** OperatorCode.version per builtin, as the official converter stamped them. */
  opVersions: ReadonlyMap<BuiltinOperator, number>;
}
