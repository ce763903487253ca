import { isPassThrough, type StreamSignature } from '../models/signature.js';
import type { TfliteModel } from '../models/tflite.js';
import type { Precision } from './context.js';

/** How a state's codes map to its float values: value = (code - zeroPoint) * scale. */
export interface StateCodec {
  scale: number;
  zeroPoint: number;
}

/** A state the graph takes and gives as codes: which TFLite tensors hold them, and their codec. */
export interface CodedState extends StateCodec {
  /** The QUANTIZE op's output: the codes the state's float input becomes. */
  codesIn: number;
  /** The DEQUANTIZE op's input: the codes the state's float output comes from. */
  codesOut: number;
  /** The two ops, which the converter leaves out. */
  ops: [number, number];
}

/**
 * The live states an int8 graph can take and give as int8 codes instead of
 * floats: the float input is read by nothing but one QUANTIZE to int8, and
 * the float output is written by a DEQUANTIZE of an int8 tensor with the same
 * scale and zero point. Feeding the output's codes back as the next input is
 * then exactly what the float round trip does (quantize(dequantize(q)) = q),
 * at a quarter of the bytes per frame.
 */
export function int8States(model: TfliteModel, sig: StreamSignature): Map<string, CodedState> {
  const sg = model.subgraphs[0]!;
  const readers = (t: number) => sg.operators.filter((op) => op.inputs.includes(t));
  const writer = (t: number) => sg.operators.find((op) => op.outputs.includes(t));
  const codec = (t: number): StateCodec | undefined => {
    const q = sg.tensors[t]?.quantization;
    return sg.tensors[t]?.type === 'int8' && q && q.scale.length === 1
      ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 }
      : undefined;
  };
  const out = new Map<string, CodedState>();
  for (const st of sig.states) {
    if (isPassThrough(st) || st.input.dtype !== 'float32') continue;
    const r = readers(st.input.tensorIndex);
    const quantize = r.length === 1 && r[0]!.opcode === 'QUANTIZE' ? r[0]! : undefined;
    const dequantize = writer(st.output.tensorIndex);
    if (!quantize || dequantize?.opcode !== 'DEQUANTIZE') continue;
    // Both float tensors disappear from the graph: nothing else may read the output or be either of them.
    const elsewhere = (t: number) =>
      sig.image.tensorIndex === t ||
      sig.logits.tensorIndex === t ||
      sig.states.some((o) => o !== st && (o.input.tensorIndex === t || o.output.tensorIndex === t));
    if (
      readers(st.output.tensorIndex).length > 0 ||
      elsewhere(st.input.tensorIndex) ||
      elsewhere(st.output.tensorIndex)
    )
      continue;
    const a = codec(quantize.outputs[0]!);
    const b = codec(dequantize.inputs[0]!);
    if (a && b && a.scale === b.scale && a.zeroPoint === b.zeroPoint)
      out.set(st.name, {
        ...a,
        codesIn: quantize.outputs[0]!,
        codesOut: dequantize.inputs[0]!,
        ops: [quantize.index, dequantize.index],
      });
  }
  return out;
}

/**
 * The states a converted graph of this precision takes and gives as uint8
 * codes (the int8 QDQ graph holds int8 activations as uint8: code + 128),
 * each with its codec in those codes: the one answer the converter and the
 * backends both read.
 */
export function stateCodes(precision: Precision, model: TfliteModel, sig: StreamSignature): Map<string, CodedState> {
  if (precision !== 'int8') return new Map();
  return new Map([...int8States(model, sig)].map(([name, c]) => [name, { ...c, zeroPoint: c.zeroPoint + 128 }]));
}
