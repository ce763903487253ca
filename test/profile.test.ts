import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { benchOne } from '../src/bench/run.js';
import { isPassThrough } from '../src/models/signature.js';
import { resolveModel } from '../src/models/resolve.js';
import { syntheticFrames } from '../src/video/synthetic.js';

const silent = { start() {}, update() {}, stop() {} };
const a0 = resolveModel('a0');
const opts = {
  threads: 1,
  frames: 20,
  warmup: 2,
  repeats: 1,
  percentiles: [50, 90],
  input: 'synthetic',
  overhead: false,
  progress: silent,
  profile: true,
};

test('bench --profile: onnxruntime and tfjs-tflite profile their ops in a separate run; litert says it has no profiler', async (t) => {
  const frames = syntheticFrames(4, 172);
  const ort = await benchOne(a0, getBackend('onnxruntime'), frames, opts);
  t.true(ort.profile!.available);
  t.regex(ort.profile!.source, /onnxruntime profiler/);
  t.is(ort.profile!.frames, 50);
  t.true(
    ort.profile!.byOp.some((o) => o.op === 'QLinearConv'),
    'int8 convolutions are fused',
  );
  const shares = ort.profile!.byOp.reduce((s, o) => s + o.share, 0);
  t.true(Math.abs(shares - 1) < 1e-9);
  t.true(ort.profile!.topNodes.length > 0 && ort.profile!.topNodes.length <= 15);
  t.is(ort.samplesMs.length, 20, 'the timed run is untouched by profiling');
  const tfl = await benchOne(a0, getBackend('tfjs-tflite'), frames, opts);
  t.true(tfl.profile!.available);
  t.true(tfl.profile!.totalMsPerFrame > 0);
  const lrt = await benchOne(a0, getBackend('litert'), frames, opts);
  t.false(lrt.profile!.available);
  t.regex(lrt.profile!.source, /no per-op profiler/);
});

test('pass-through states are detected from the graph, and every result records the collections of its measured frames', async (t) => {
  // The official A0 returns 30 of its 43 states untouched (block pool buffers and frame counts).
  t.is(a0.signature.states.filter(isPassThrough).length, 30);
  const r = await benchOne(a0, getBackend('onnxruntime'), syntheticFrames(4, 172), {
    ...opts,
    frames: 50,
    profile: false,
  });
  t.truthy(r.gc);
  t.true(Number.isInteger(r.gc!.major) && Number.isInteger(r.gc!.minor) && r.gc!.pauseMs >= 0);
  t.is(r.processes[0]!.gc?.major, r.gc!.major);
});
