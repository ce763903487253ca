import { isPassThrough, type StreamSignature } from '../models/signature.js';
import type { TfliteModel } from '../models/tflite.js';
import type { Precision } from './context.js';

/** How an int8 state's codes map to its float values: value = (code - zeroPoint) * scale. */
export interface StateCodec {
  scale: number;
  zeroPoint: number;
}

/**
 * The live states an int8 graph can take and give as int8 codes instead of
 * floats: the float input is read by nothing but one QUANTIZE to int8, and
 * the float output is written by a DEQUANTIZE of an int8 tensor with the same
 * scale and zero point. Feeding the output's codes back as the next input is
 * then exactly what the float round trip does (quantize(dequantize(q)) = q),
 * at a quarter of the bytes per frame.
 */
export function int8States(model: TfliteModel, sig: StreamSignature): Map<string, StateCodec> {
  const sg = model.subgraphs[0]!;
  const readers = (t: number) => sg.operators.filter((op) => op.inputs.includes(t));
  const writer = (t: number) => sg.operators.find((op) => op.outputs.includes(t));
  const codec = (t: number): StateCodec | undefined => {
    const q = sg.tensors[t]?.quantization;
    return sg.tensors[t]?.type === 'int8' && q && q.scale.length === 1
      ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 }
      : undefined;
  };
  const out = new Map<string, StateCodec>();
  for (const st of sig.states) {
    if (isPassThrough(st) || st.input.dtype !== 'float32') continue;
    const r = readers(st.input.tensorIndex);
    const quantize = r.length === 1 && r[0]!.opcode === 'QUANTIZE' ? r[0]! : undefined;
    const dequantize = writer(st.output.tensorIndex);
    if (!quantize || dequantize?.opcode !== 'DEQUANTIZE') continue;
    const a = codec(quantize.outputs[0]!);
    const b = codec(dequantize.inputs[0]!);
    if (a && b && a.scale === b.scale && a.zeroPoint === b.zeroPoint) out.set(st.name, a);
  }
  return out;
}

/**
 * The states a converted graph of this precision takes and gives as int8
 * codes: the one answer the converter and the backends both read.
 */
export function int8StateIo(
  precision: Precision,
  model: TfliteModel,
  sig: StreamSignature,
): ReadonlyMap<string, StateCodec> {
  return INT8_STATE_IO && precision === 'int8' ? int8States(model, sig) : new Map();
}

/** Off until the converter emits int8 state inputs and outputs. */
const INT8_STATE_IO = false;
