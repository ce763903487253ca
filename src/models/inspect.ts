import { elementCount, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite.js';
import type { ResolvedModel } from './resolve.js';
import type { TensorSpec } from './signature.js';

export interface TensorSummary {
  name: string;
  tensorName: string;
  shape: number[];
  dtype: string;
}

export interface ModelInspection {
  id: string;
  path: string;
  bytes: number;
  sha256: string;
  signatureKey: string;
  image: TensorSummary;
  logits: TensorSummary;
  states: (TensorSummary & { outputTensorName: string })[];
  stateElements: number;
  operators: number;
  opHistogram: Record<string, number>;
  /** Constant (weight) tensors by element type, e.g. {int8: 120, int32: 40}. */
  weightTypes: Record<string, number>;
  quantization: 'int8' | 'float16' | 'float32' | 'mixed';
  perChannelQuantizedTensors: number;
  /** Multiply-accumulates per frame in CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED. */
  macsPerFrame: number;
  metadata: string[];
}

const summary = (t: TensorSpec): TensorSummary => ({
  name: t.name,
  tensorName: t.tensorName,
  shape: t.shape,
  dtype: t.dtype,
});

/** Multiply-accumulates of one operator of the main subgraph: conv, depthwise and fully connected ops; 0 for others. */
export function operatorMacs(graph: TfliteModel, op: TfliteOperator): number {
  const sg = graph.subgraphs[0]!;
  const out: TfliteTensor | undefined = sg.tensors[op.outputs[0]!];
  const w: TfliteTensor | undefined = sg.tensors[op.inputs[1] ?? -1];
  if (!out || !w) return 0;
  const outCount = elementCount(out.shape);
  if (op.opcode === 'CONV_2D') return outCount * w.shape[1]! * w.shape[2]! * w.shape[3]!;
  if (op.opcode === 'DEPTHWISE_CONV_2D') return outCount * w.shape[1]! * w.shape[2]!;
  if (op.opcode === 'FULLY_CONNECTED') return outCount * w.shape[w.shape.length - 1]!;
  return 0;
}

/** Multiply-accumulates per frame in the conv, depthwise and fully connected ops. */
export function graphMacs(graph: TfliteModel): number {
  return graph.subgraphs[0]!.operators.reduce((total, op) => total + operatorMacs(graph, op), 0);
}

export function inspectModel(m: ResolvedModel): ModelInspection {
  const sg = m.graph.subgraphs[0]!;
  const opHistogram: Record<string, number> = {};
  for (const op of sg.operators) opHistogram[op.opcode] = (opHistogram[op.opcode] ?? 0) + 1;
  const weightTypes: Record<string, number> = {};
  let perChannel = 0;
  for (const t of sg.tensors) {
    if (m.graph.buffer(t.buffer).length === 0) continue;
    weightTypes[t.type] = (weightTypes[t.type] ?? 0) + 1;
    if ((t.quantization?.scale.length ?? 0) > 1) perChannel++;
  }
  const kinds = ['int8', 'float16', 'float32'].filter((k) => weightTypes[k]);
  const sig = m.signature;
  return {
    id: m.id,
    path: m.path,
    bytes: m.bytes.length,
    sha256: m.sha256,
    signatureKey: sig.key,
    image: summary(sig.image),
    logits: summary(sig.logits),
    states: sig.states.map((s) => ({ ...summary(s.input), outputTensorName: s.output.tensorName })),
    stateElements: sig.states.reduce((a, s) => a + elementCount(s.input.shape), 0),
    operators: sg.operators.length,
    opHistogram,
    weightTypes,
    quantization:
      kinds.length === 1 ? (kinds[0] as 'int8' | 'float16' | 'float32') : weightTypes.int8 ? 'int8' : 'mixed',
    perChannelQuantizedTensors: perChannel,
    macsPerFrame: graphMacs(m.graph),
    metadata: m.graph.metadataNames,
  };
}
