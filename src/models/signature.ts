import { UserError } from '../util/errors.js';
import type { TensorType, TfliteModel, TfliteSubgraph } from './tflite.js';

/** One named tensor of the stream signature. `tensorIndex` is its index in the subgraph. */
export interface TensorSpec {
  name: string;
  tensorName: string;
  tensorIndex: number;
  shape: number[];
  dtype: TensorType;
}

export interface StateSpec {
  name: string;
  input: TensorSpec;
  output: TensorSpec;
}

/** A state the graph returns untouched: its output is its own input tensor (never assumed from its name). */
export function isPassThrough(state: StateSpec): boolean {
  return state.input.tensorIndex === state.output.tensorIndex;
}

/**
 * The streaming contract of a MoViNet stream model: one frame and the previous
 * states in, logits and the next states out. States are paired by signature
 * name, because raw tensor names differ between inputs and outputs and the
 * subgraph order is not the signature order.
 */
export interface StreamSignature {
  key: string;
  image: TensorSpec;
  logits: TensorSpec;
  states: StateSpec[];
  height: number;
  width: number;
  numClasses: number;
}

const STATE_DTYPES: readonly TensorType[] = ['float32', 'int32'];

function spec(sg: TfliteSubgraph, name: string, tensorIndex: number): TensorSpec {
  const t = sg.tensors[tensorIndex];
  if (!t) throw new UserError(`signature entry '${name}' points at tensor ${tensorIndex}, which does not exist`);
  return { name, tensorName: t.name, tensorIndex, shape: t.shape, dtype: t.type };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Signature names for a model without SignatureDefs: raw names, with the converter's decorations removed. */
function namedFromSubgraph(sg: TfliteSubgraph, indices: number[]): { name: string; tensorIndex: number }[] {
  return indices.map((i) => ({
    name: (sg.tensors[i]?.name ?? `tensor_${i}`).replace(/^serving_default_/, '').replace(/:0$/, ''),
    tensorIndex: i,
  }));
}

export function streamSignature(model: TfliteModel, label = 'model'): StreamSignature {
  const sig = model.signatures[0];
  const sg = model.subgraphs[sig?.subgraphIndex ?? 0];
  if (!sg) throw new UserError(`${label} has no subgraph`);
  const inputs = sig ? sig.inputs : namedFromSubgraph(sg, sg.inputs);
  const outputs = sig ? sig.outputs : namedFromSubgraph(sg, sg.outputs);
  return pairStreamTensors(
    sig?.key ?? '(none)',
    inputs.map((e) => spec(sg, e.name, e.tensorIndex)),
    outputs.map((e) => spec(sg, e.name, e.tensorIndex)),
    label,
  );
}

/** Exported for tests: builds and checks the pairing from named input and output specs. */
export function pairStreamTensors(
  key: string,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  label = 'model',
): StreamSignature {
  const isFrame = (t: TensorSpec) =>
    t.dtype === 'float32' && t.shape.length === 5 && t.shape[4] === 3 && t.shape[0] === 1 && t.shape[1] === 1;
  const image =
    inputs.find((t) => t.name === 'image') ??
    onlyOne(inputs.filter(isFrame), `${label}: no unique [1,1,H,W,3] float32 image input`);
  if (!isFrame(image)) {
    const found = `input '${image.name}' has shape [${image.shape}] ${image.dtype}`;
    throw new UserError(`${label}: ${found}; a stream model takes one frame [1,1,H,W,3] float32`);
  }
  const logits =
    outputs.find((t) => t.name === 'logits') ??
    onlyOne(
      outputs.filter(
        (t) =>
          t.shape.length === 2 && t.shape[0] === 1 && t.dtype === 'float32' && !inputs.some((i) => i.name === t.name),
      ),
      `${label}: no unique [1,N] float32 logits output`,
    );
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const states: StateSpec[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    if (input === image) continue;
    const output = byName.get(input.name);
    if (!output) problems.push(`state input '${input.name}' has no output of the same name`);
    else if (!sameShape(input.shape, output.shape) || input.dtype !== output.dtype) {
      problems.push(
        `state '${input.name}' is [${input.shape}] ${input.dtype} in but [${output.shape}] ${output.dtype} out`,
      );
    } else if (!STATE_DTYPES.includes(input.dtype)) {
      problems.push(`state '${input.name}' has unsupported type ${input.dtype}`);
    } else states.push({ name: input.name, input, output });
  }
  const unmatched = outputs.filter((o) => o !== logits && !inputs.some((i) => i.name === o.name));
  for (const o of unmatched) problems.push(`output '${o.name}' is neither logits nor a state`);
  if (problems.length) {
    const more = problems.length > 3 ? ` (+${problems.length - 3} more)` : '';
    const shown = `${problems.slice(0, 3).join('; ')}${more}`;
    throw new UserError(`${label}: inputs and outputs do not form a stream signature: ${shown}`);
  }
  return {
    key,
    image,
    logits,
    states,
    height: image.shape[2]!,
    width: image.shape[3]!,
    numClasses: logits.shape[1]!,
  };
}

function onlyOne<T>(items: T[], message: string): T {
  if (items.length !== 1) throw new UserError(message);
  return items[0]!;
}
