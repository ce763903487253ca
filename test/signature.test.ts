import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { resolveModel } from '../src/models/resolve.js';
import { pairStreamTensors } from '../src/models/signature.js';
import { BuiltinOptions } from '../src/models/tflite-schema/tflite_generated.js';
import { builtinOpName, parseTflite } from '../src/models/tflite.js';
import { UserError } from '../src/util/errors.js';

const a0 = resolveModel('a0');

test('A0 signature: image [1,1,172,172,3], logits [1,600], 43 states paired by signature name', (t) => {
  const s = a0.signature;
  t.deepEqual(s.image.shape, [1, 1, 172, 172, 3]);
  t.deepEqual(s.logits.shape, [1, 600]);
  t.is(s.states.length, 43);
  // Raw names differ between in and out, which is why pairing uses signature names.
  const stream = s.states.find((x) => x.name === 'state_block1_layer0_stream_buffer')!;
  t.is(stream.input.tensorName, 'serving_default_state_block1_layer0_stream_buffer:0');
  t.regex(stream.output.tensorName, /^StatefulPartitionedCall:\d+$/);
  // And the subgraph input order is not the signature order.
  const sg = a0.graph.subgraphs[0]!;
  t.notDeepEqual(
    sg.inputs,
    a0.graph.signatures[0]!.inputs.map((e) => e.tensorIndex),
  );
});

test('pairing by subgraph order instead of names is detected', (t) => {
  const s = a0.signature;
  const sg = a0.graph.subgraphs[0]!;
  const inputs = [s.image, ...s.states.map((x) => x.input)];
  // Name the outputs after the inputs in subgraph order: the mistake the signature prevents.
  const outputs = sg.outputs.map((idx, i) => {
    const t = sg.tensors[idx]!;
    const name = i === 0 ? 'logits' : inputs[i]!.name;
    return { name, tensorName: t.name, tensorIndex: idx, shape: t.shape, dtype: t.type };
  });
  const err = t.throws(() => pairStreamTensors('x', inputs, outputs), { instanceOf: UserError });
  t.regex(err!.message, /do not form a stream signature/);
});

test('a runtime whose tensors do not match the signature is refused at load', async (t) => {
  const broken = structuredClone({ ...a0, graph: undefined }) as unknown as typeof a0;
  Object.assign(broken, { graph: a0.graph, bytes: a0.bytes });
  broken.signature.states[0]!.input.tensorName = 'no_such_tensor:0';
  await t.throwsAsync(() => getBackend('tfjs-tflite').load(broken, { threads: 1 }), {
    message: /wrong signature\/tensor mapping/,
  });
  const swapped = structuredClone({ ...a0, graph: undefined }) as unknown as typeof a0;
  Object.assign(swapped, { graph: a0.graph, bytes: a0.bytes });
  // State 0 is a [1,1,1,1,24] pool buffer, state 4 a [1,2,22,22,80] stream buffer: swap which name each one feeds.
  const [x, y] = [swapped.signature.states[0]!.input, swapped.signature.states[4]!.input];
  [x.name, y.name] = [y.name, x.name];
  await t.throwsAsync(() => getBackend('litert').load(swapped, { threads: 1 }), {
    message: /wrong signature\/tensor mapping/,
  });
});

test('operator names come from the schema enum; codes it does not name stay numbers', (t) => {
  t.is(builtinOpName(3), 'CONV_2D');
  t.is(builtinOpName(117), 'HARD_SWISH');
  t.is(builtinOpName(130), 'BROADCAST_TO');
  t.is(builtinOpName(9999), 'BUILTIN_9999');
});

test('A0 operators carry the options table their opcode implies: the union type codes line up with a real file', (t) => {
  const kinds: Record<string, string> = {};
  for (const op of a0.graph.subgraphs[0]!.operators) {
    const name = op.options ? op.options.table.constructor.name : 'none';
    if (op.options) t.is(BuiltinOptions[op.options.type], name, op.opcode);
    kinds[op.opcode] = name;
  }
  t.deepEqual(kinds, {
    QUANTIZE: 'none',
    DEQUANTIZE: 'none',
    RESHAPE: 'none',
    CAST: 'none',
    CONV_2D: 'Conv2DOptions',
    DEPTHWISE_CONV_2D: 'DepthwiseConv2DOptions',
    AVERAGE_POOL_2D: 'Pool2DOptions',
    ADD: 'AddOptions',
    MUL: 'MulOptions',
    DIV: 'DivOptions',
    SUM: 'ReducerOptions',
    CONCATENATION: 'ConcatenationOptions',
    STRIDED_SLICE: 'StridedSliceOptions',
  });
});

test('a file without the TFL3 identifier is refused in one line', (t) => {
  const err = t.throws(() => parseTflite(new TextEncoder().encode('not a flatbuffer'), 'x.tflite'), {
    instanceOf: UserError,
  });
  t.is(
    err!.message,
    'x.tflite is not a TFLite flatbuffer (missing "TFL3" identifier); the file is corrupt or of another format',
  );
  t.throws(() => parseTflite(new Uint8Array(4)), { message: /not a TFLite flatbuffer/ });
});
