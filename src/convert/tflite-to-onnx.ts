import type { StreamSignature } from '../models/signature.js';
import type { TfliteModel, TfliteOperator, TfliteTensor } from '../models/tflite.js';
import { UserError } from '../util/errors.js';
import { BATCH_DIM, Converter, type BatchAxis, type Precision } from './context.js';
import type { OnnxTypeName } from './onnx-builder.js';
import { stateCodes } from './int8-states.js';
import { OP_CONVERTERS } from './ops.js';

export { BATCH_AXES, BATCH_DIM, PRECISIONS, type BatchAxis, type Precision } from './context.js';

/** Bump when the converter's output changes: cached conversions are keyed by it. */
export const CONVERTER_VERSION = 9;

/**
 * The converter version each precision's graph last changed in, written into
 * the file: a change to one precision leaves the other precisions' files byte
 * for byte the same.
 */
const GRAPH_VERSION: Record<Precision, number> = { float: 4, int8: CONVERTER_VERSION, 'int8-exact': 5 };

/** ONNX values are unique, but a stream state has one signature name for input and output. */
export function onnxOutputName(signatureName: string, isState: boolean): string {
  return isState ? `${signatureName}:next` : signatureName;
}

export interface ConvertResult {
  bytes: Uint8Array;
  precision: Precision;
  batch: BatchAxis;
  nodes: number;
  /** Ops converted, by TFLite opcode. */
  ops: Record<string, number>;
}

/** int8 when the model carries int8 weights (QDQ keeps them), float otherwise. */
export function nativePrecision(model: TfliteModel): Precision {
  return model.subgraphs[0]!.tensors.some(
    (t) => t.type === 'int8' && t.quantization && model.buffer(t.buffer).length > 0,
  )
    ? 'int8'
    : 'float';
}

/** The graph a backend asking for `wanted` runs: a float source has nothing to quantize, so every variant is fp32. */
export function graphPrecision(model: TfliteModel, wanted: 'native' | Precision): Precision {
  const native = nativePrecision(model);
  return wanted === 'native' || native === 'float' ? native : wanted;
}

function onnxType(t: TfliteTensor, label: string): OnnxTypeName {
  if (t.type === 'float32') return 'float';
  if (t.type === 'int32') return 'int32';
  throw new UserError(
    `${label} '${t.name}' has type ${t.type}; only float32 and int32 graph inputs and outputs are supported`,
  );
}

/**
 * `probes`: extra tensors exposed as outputs `probe_<index>` (float domain), for locating a numeric divergence.
 * `batch` 'free': every input and output gets a symbolic batch axis, so one call steps several streams.
 */
export function convertToOnnx(
  model: TfliteModel,
  signature: StreamSignature,
  precision: Precision,
  probes: number[] = [],
  batch: BatchAxis = 'fixed',
): ConvertResult {
  const c = new Converter(model, signature, precision, batch);
  const sg = model.subgraphs[0]!;
  // Stream states the graph takes and gives as uint8 codes: their QUANTIZE and DEQUANTIZE ops are left out.
  const coded = stateCodes(precision, model, signature);
  const skipped = new Set([...coded.values()].flatMap((s) => s.ops));
  for (const spec of [signature.image, ...signature.states.map((s) => s.input)]) {
    const t = c.tensor(spec.tensorIndex);
    const codes = coded.get(spec.name);
    c.graph.input({
      name: spec.name,
      type: codes ? 'uint8' : onnxType(t, 'input'),
      shape: c.ioShape(spec.tensorIndex),
    });
    if (codes) c.setCodes(codes.codesIn, spec.name);
    else c.setValue(spec.tensorIndex, spec.name);
  }
  const ops: Record<string, number> = {};
  for (const op of sg.operators) {
    if (!skipped.has(op.index)) convertOperator(c, op);
    ops[op.opcode] = (ops[op.opcode] ?? 0) + 1;
  }
  const outputs = [
    { spec: signature.logits, state: false },
    ...signature.states.map((s) => ({ spec: s.output, state: true })),
  ];
  for (const { spec, state } of outputs) {
    const name = onnxOutputName(spec.name, state);
    const codes = state ? coded.get(spec.name) : undefined;
    c.graph.reserve(name);
    c.graph.node('Identity', [codes ? c.codesOf(codes.codesOut) : c.value(spec.tensorIndex)], [name]);
    c.graph.output({
      name,
      type: codes ? 'uint8' : onnxType(c.tensor(spec.tensorIndex), 'output'),
      shape: c.ioShape(spec.tensorIndex),
    });
  }
  for (const i of probes) {
    const name = `probe_${i}`;
    c.graph.reserve(name);
    c.graph.node('Identity', [c.value(i)], [name]);
    const t = c.tensor(i);
    c.graph.output({ name, type: t.type === 'int32' ? 'int32' : 'float', shape: c.ioShape(i) });
  }
  const free = batch === 'free';
  const bytes = c.graph.encode({
    producer: 'movinet-bench',
    version: String(GRAPH_VERSION[precision]),
    doc: `converted from TFLite signature '${signature.key}' (${precision}${free ? ', free batch axis' : ''})`,
    props: {
      'movinet.precision': precision,
      'movinet.signature': signature.key,
      'movinet.states': String(signature.states.length),
      'movinet.uint8-states': [...coded.keys()].join(','),
      // Only a free-batch graph says so: the fixed graph's bytes stay those of earlier versions.
      ...(free ? { 'movinet.batch': BATCH_DIM } : {}),
    },
  });
  return { bytes, precision, batch, nodes: c.graph.nodeCount(), ops };
}

/** Converts one operator; an op without a converter stops the conversion with one line. */
export function convertOperator(c: Converter, op: TfliteOperator): void {
  const convert = OP_CONVERTERS[op.opcode];
  if (!convert)
    throw new UserError(
      `cannot convert op ${op.opcode} (operator #${op.index}): not supported by the TFLite-to-ONNX converter`,
    );
  convert(c, op);
}
