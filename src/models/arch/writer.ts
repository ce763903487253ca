import * as flatbuffers from 'flatbuffers';
import * as schema from '../tflite-schema/tflite_generated.js';
import type { IrModel, IrNamedTensor, IrTensor } from './ir.js';

/**
 * Serialises an IrModel with the builders flatc generated from
 * tflite-schema/tflite.fbs. Like the MLIR converter, every tensor gets its own
 * buffer (index = tensor index + 1; buffer 0 is the empty sentinel) and
 * metadata buffers follow. The same IrModel always gives the same bytes.
 */

/** Buffer data 16-byte aligned (flatc 2.0.8 drops the schema's force_align), so runtimes can map weights in place. */
function alignedBytes(b: flatbuffers.Builder, data: Uint8Array): flatbuffers.Offset {
  b.startVector(1, data.length, 16);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]!);
  return b.endVector();
}

function tensor(b: flatbuffers.Builder, t: IrTensor, buffer: number): flatbuffers.Offset {
  const name = b.createString(t.name);
  const shape = schema.Tensor.createShapeVector(b, t.shape);
  let quant = 0;
  if (t.quant) {
    const scale = schema.QuantizationParameters.createScaleVector(b, t.quant.scale);
    const zp = schema.QuantizationParameters.createZeroPointVector(b, t.quant.zeroPoint.map(BigInt));
    schema.QuantizationParameters.startQuantizationParameters(b);
    schema.QuantizationParameters.addScale(b, scale);
    schema.QuantizationParameters.addZeroPoint(b, zp);
    schema.QuantizationParameters.addQuantizedDimension(b, t.quant.axis);
    quant = schema.QuantizationParameters.endQuantizationParameters(b);
  }
  schema.Tensor.startTensor(b);
  schema.Tensor.addShape(b, shape);
  schema.Tensor.addType(b, t.type);
  schema.Tensor.addBuffer(b, buffer);
  schema.Tensor.addName(b, name);
  if (quant) schema.Tensor.addQuantization(b, quant);
  return schema.Tensor.endTensor(b);
}

function tensorMaps(b: flatbuffers.Builder, entries: IrNamedTensor[]): flatbuffers.Offset[] {
  return entries.map((e) => schema.TensorMap.createTensorMap(b, b.createString(e.name), e.tensor));
}

export function writeTflite(m: IrModel): Uint8Array {
  const weightBytes = m.tensors.reduce((a, t) => a + (t.data?.length ?? 0), 0);
  const b = new flatbuffers.Builder(weightBytes + 1024 * 1024);

  // Data first: built back to front, the weights end up at the end of the file, after the tables.
  const buffers: flatbuffers.Offset[] = [schema.Buffer.createBuffer(b, 0, BigInt(0), BigInt(0))];
  for (const t of m.tensors) {
    const data = t.data ? alignedBytes(b, t.data) : 0;
    schema.Buffer.startBuffer(b);
    if (data) schema.Buffer.addData(b, data);
    buffers.push(schema.Buffer.endBuffer(b));
  }
  const metadata = m.metadata.map((md) => {
    const index = buffers.length;
    const data = alignedBytes(b, md.data);
    schema.Buffer.startBuffer(b);
    schema.Buffer.addData(b, data);
    buffers.push(schema.Buffer.endBuffer(b));
    return schema.Metadata.createMetadata(b, b.createString(md.name), index);
  });

  const codes: schema.BuiltinOperator[] = [];
  for (const op of m.ops) if (!codes.includes(op.op)) codes.push(op.op);
  const opcodeOffsets = codes.map((code) =>
    schema.OperatorCode.createOperatorCode(
      b,
      Math.min(code, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES),
      0,
      m.opVersions.get(code) ?? 1,
      code,
    ),
  );
  const operators = m.ops.map((op) => {
    const inputs = schema.Operator.createInputsVector(b, op.inputs);
    const outputs = schema.Operator.createOutputsVector(b, op.outputs);
    const options = op.options ? op.options.write(b) : 0;
    schema.Operator.startOperator(b);
    schema.Operator.addOpcodeIndex(b, codes.indexOf(op.op));
    schema.Operator.addInputs(b, inputs);
    schema.Operator.addOutputs(b, outputs);
    if (op.options) {
      schema.Operator.addBuiltinOptionsType(b, op.options.type);
      schema.Operator.addBuiltinOptions(b, options);
    }
    return schema.Operator.endOperator(b);
  });
  const tensors = m.tensors.map((t, i) => tensor(b, t, i + 1));
  const subgraph = schema.SubGraph.createSubGraph(
    b,
    schema.SubGraph.createTensorsVector(b, tensors),
    schema.SubGraph.createInputsVector(b, m.inputs),
    schema.SubGraph.createOutputsVector(b, m.outputs),
    schema.SubGraph.createOperatorsVector(b, operators),
    b.createString('main'),
  );
  const signature = schema.SignatureDef.createSignatureDef(
    b,
    schema.SignatureDef.createInputsVector(b, tensorMaps(b, m.signatureInputs)),
    schema.SignatureDef.createOutputsVector(b, tensorMaps(b, m.signatureOutputs)),
    b.createString(m.signatureKey),
    0,
  );
  const model = schema.Model.createModel(
    b,
    3,
    schema.Model.createOperatorCodesVector(b, opcodeOffsets),
    schema.Model.createSubgraphsVector(b, [subgraph]),
    b.createString(m.description),
    schema.Model.createBuffersVector(b, buffers),
    0,
    schema.Model.createMetadataVector(b, metadata),
    schema.Model.createSignatureDefsVector(b, [signature]),
  );
  schema.Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}
