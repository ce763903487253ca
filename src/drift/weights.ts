import { dequantize, halfToFloat } from '../convert/context.js';
import type { SameNetwork } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { TfliteModel, TfliteTensor } from '../models/tflite.js';

/** Ops whose second input is a filter: the weights that say which network a file is. */
const FILTER_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'CONV_3D', 'TRANSPOSE_CONV']);

/**
 * Share of filter values that must agree within tolerance for two files to be one network. Exports of one
 * checkpoint agree on every value (each int8 weight is its float weight rounded to the nearest step); a
 * fine-tune or another training run moves most values by more than a step, so the rule has a wide margin on
 * both sides and is not sensitive to its exact value.
 */
export const SAME_NETWORK_SHARE = 0.99;

/** float16 keeps 11 significant bits: a float16 file's weights are its float32 weights within this share. */
const FLOAT16_RELATIVE = 2 ** -10;

/** A filter tensor as float values, each with the quantization step it was stored with (0 for a float). */
export interface Filter {
  op: string;
  opIndex: number;
  shape: number[];
  values: Float32Array;
  steps: Float32Array;
}

/** The constant behind a filter input: the tensor itself, or the constant a DEQUANTIZE op expands. */
function constantOf(graph: TfliteModel, index: number): TfliteTensor | undefined {
  const sg = graph.subgraphs[0]!;
  const t = sg.tensors[index];
  if (!t) return undefined;
  if (graph.buffer(t.buffer).length > 0) return t;
  const producer = sg.operators.find((op) => op.outputs.includes(index));
  if (producer?.opcode !== 'DEQUANTIZE') return undefined;
  const source = sg.tensors[producer.inputs[0]!];
  return source && graph.buffer(source.buffer).length > 0 ? source : undefined;
}

function filterValues(graph: TfliteModel, t: TfliteTensor): { values: Float32Array; steps: Float32Array } | undefined {
  const bytes = graph.buffer(t.buffer).slice();
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.type === 'float32') return { values: new Float32Array(bytes.buffer), steps: new Float32Array(n) };
  if (t.type === 'float16') return { values: halfToFloat(new Uint16Array(bytes.buffer)), steps: new Float32Array(n) };
  const q = t.quantization;
  if ((t.type !== 'int8' && t.type !== 'uint8') || !q) return undefined;
  const codes = t.type === 'int8' ? new Int8Array(bytes.buffer) : bytes;
  const axis = q.scale.length > 1 ? q.axis : -1;
  const values = dequantize(codes, t.shape, q.scale, q.zeroPoint, axis);
  // The step of each value is its channel's scale: dequantize the codes 1 with zero points 0.
  const ones = new Int8Array(codes.length).fill(1);
  const steps = dequantize(
    ones,
    t.shape,
    q.scale,
    q.scale.map(() => 0),
    axis,
  );
  return { values, steps };
}

/** Every filter of a model, in operator order. */
export function filters(model: ResolvedModel): Filter[] {
  const sg = model.graph.subgraphs[0]!;
  return sg.operators.flatMap((op) => {
    if (!FILTER_OPS.has(op.opcode)) return [];
    const t = constantOf(model.graph, op.inputs[1] ?? -1);
    const read = t && filterValues(model.graph, t);
    return read ? [{ op: op.opcode, opIndex: op.index, shape: t.shape, ...read }] : [];
  });
}

const shapeText = (s: readonly number[]) => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Pairs the filters of two files: in operator order when their shapes line up, else (exports may order
 * operators differently) within each shape by the closest values. A structural mismatch comes back as a sentence.
 */
function pairFilters(a: readonly Filter[], b: readonly Filter[], names: [string, string]): [Filter, Filter][] | string {
  if (a.length !== b.length) return `${names[0]} has ${a.length} filter weight tensors, ${names[1]} ${b.length}`;
  if (a.every((f, i) => sameShape(f.shape, b[i]!.shape))) return a.map((f, i) => [f, b[i]!]);
  const key = (f: Filter) => `${f.op} ${shapeText(f.shape)}`;
  const left = new Map<string, Filter[]>();
  for (const f of b) left.set(key(f), [...(left.get(key(f)) ?? []), f]);
  const pairs: [Filter, Filter][] = [];
  for (const [i, f] of a.entries()) {
    const options = left.get(key(f)) ?? [];
    if (options.length === 0)
      return `filter #${i} (${f.op} ${shapeText(f.shape)}) of ${names[0]} has none of that op and shape in ${names[1]}`;
    const best = options.reduce((x, y) => (relativeRms(f.values, y.values) < relativeRms(f.values, x.values) ? y : x));
    options.splice(options.indexOf(best), 1);
    pairs.push([f, best]);
  }
  return pairs;
}

/** RMS of (a - b) over RMS of b: 0 for equal tensors, about √2 for unrelated ones of one distribution. */
export function relativeRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let r = 0;
  for (let k = 0; k < a.length; k++) {
    d += (a[k]! - b[k]!) ** 2;
    r += b[k]! ** 2;
  }
  return r > 0 ? Math.sqrt(d / r) : d > 0 ? Infinity : 0;
}

/**
 * Whether two files hold one network, from their weights: every filter pairs with one of the same op and shape,
 * and the values agree within one quantization step of the coarser side (a float value and its int8 rounding
 * differ by half a step; two roundings of one value by at most one), or float16 rounding between float files.
 * Returns the figures (the caller states the rule it judged them by), or why the files cannot even be paired.
 */
export function compareWeights(quantized: ResolvedModel, reference: ResolvedModel): Omit<SameNetwork, 'rule'> | string {
  const names: [string, string] = [quantized.id, reference.id];
  const pairs = pairFilters(filters(quantized), filters(reference), names);
  if (typeof pairs === 'string') return pairs;
  let [values, within] = [0, 0];
  let worst: SameNetwork['worst'] = null;
  for (const [i, [q, r]] of pairs.entries()) {
    for (let k = 0; k < q.values.length; k++) {
      const [x, y] = [q.values[k]!, r.values[k]!];
      const tolerance =
        Math.max(q.steps[k]!, r.steps[k]!) * (1 + 1e-6) + FLOAT16_RELATIVE * Math.max(Math.abs(x), Math.abs(y));
      if (Math.abs(x - y) <= tolerance) within++;
    }
    values += q.values.length;
    const rel = relativeRms(q.values, r.values);
    if (!worst || rel > worst.relativeRms) worst = { index: i, op: q.op, shape: q.shape, relativeRms: rel };
  }
  return {
    how: 'weights',
    tensors: pairs.length,
    values,
    within: values ? within / values : 1,
    worst,
  };
}
