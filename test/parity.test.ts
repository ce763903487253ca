import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadUserDataset, shardClips } from '../src/datasets/dataset.js';
import { getBackend } from '../src/backends/index.js';
import { benchOne } from '../src/bench/run.js';
import { resolveModel } from '../src/models/resolve.js';
import { runParity } from '../src/parity/run.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { ARM_WRESTLING, cli, CUSTOM_MODEL, fourShortClips, tempDir } from './helpers.js';
import { thisMachine } from '../src/run/machine.js';

const a0 = resolveModel('a0');
const tmp = tempDir('movinet-parity-');
const silent = { start() {}, update() {}, stop() {} };
const csv = path.join(tmp, 'clips.csv');
const CLIPS = fourShortClips();
fs.writeFileSync(csv, CLIPS.map(([file, label]) => `${file},${label}`).join('\n'));

test('on real clips, the converted A0 matches tfjs-tflite bit for bit on every frame: int8-exact, and the fused QDQ graph (x86)', async (t) => {
  const ds = shardClips(loadUserDataset(csv), null);
  const { pairs } = await runParity(a0, ['tfjs-tflite', 'onnxruntime-exact', 'onnxruntime'].map(getBackend), ds, {
    resize: 'crop',
    fps: 5,
    threads: 1,
    progress: silent,
  });
  const [exact, qdq] = pairs;
  t.is(exact!.backend, 'onnxruntime-exact');
  t.is(exact!.clipsMatching, 4);
  t.is(exact!.frameTop1Agreement, 1);
  t.is(exact!.maxAbsLogitDiff, 0);
  const decoded = await Promise.all(
    CLIPS.map(async ([file]) => (await collect(decodeFrames(file, { size: 172, fps: 5, resize: 'crop' }))).length),
  );
  t.is(exact!.frames, decoded[0]! + decoded[1]! + decoded[2]! + decoded[3]!, 'every frame of every clip compared');
  t.is(qdq!.clipsMatching, 4);
  t.is(qdq!.frameTop1Agreement, 1);
  t.is(qdq!.maxAbsLogitDiff, 0);
});

test('the fine-tuned A0 converted to int8-exact gives the logits of tfjs-tflite on every frame', async (t) => {
  const ds = shardClips(loadUserDataset(csv), null);
  const { pairs } = await runParity(
    resolveModel(CUSTOM_MODEL),
    ['tfjs-tflite', 'onnxruntime-exact'].map(getBackend),
    ds,
    { resize: 'crop', fps: 5, threads: 1, progress: silent },
  );
  t.is(pairs[0]!.clipsMatching, 4);
  t.is(pairs[0]!.frameTop1Agreement, 1);
  t.is(pairs[0]!.maxAbsLogitDiff, 0);
});

test('parity --locate names the frame, the drifted states and the first differing tensor of the fp32 graph', (t) => {
  const one = path.join(tmp, 'one.csv');
  fs.writeFileSync(one, `${ARM_WRESTLING},arm wrestling\n`);
  const out = path.join(tmp, 'locate.json');
  const args = ['parity', '--backends', 'tfjs-tflite,onnxruntime-exact,onnxruntime-float', '--dataset', one];
  const r = cli([...args, '--locate', '--min-agreement', '0', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    pairs: { backend: string; clips: { locate?: Record<string, unknown> }[] }[];
  };
  const [exact, float] = report.pairs;
  t.is(exact!.clips[0]!.locate, undefined, 'int8-exact does not part');
  const l = float!.clips[0]!.locate as {
    firstFrame: number;
    firstLogitFrame: number;
    states: { name: string; maxAbsDiff: number }[];
    tensor: { op: string; values: number; unit: string };
  };
  t.true(l.firstFrame >= 0 && l.firstLogitFrame >= l.firstFrame, JSON.stringify(l));
  t.true(l.states.length > 0 && l.states[0]!.maxAbsDiff > 0);
  // The fp32 graph keeps no int8 rounding: it parts on the first frame, at an int8 tensor (compared in codes).
  t.is(l.firstFrame, 0);
  t.is(l.tensor.unit, 'code');
  t.true(l.tensor.values > 0, JSON.stringify(l.tensor));
  t.regex(
    r.stdout,
    /onnxruntime-float vs tfjs-tflite, .*arm_wrestling.*:\n {2}parts at frame \d+; logits differ from frame \d+/,
  );
  t.regex(r.stdout, /first differing tensor: #\d+ '.+' \(op #\d+ [A-Z_0-9]+\)/);
});

test('parity exits 1 when agreement is below --min-agreement, and writes the report', (t) => {
  const out = path.join(tmp, 'parity.json');
  const r = cli([
    'parity',
    '--backends',
    'tfjs-tflite,onnxruntime-float',
    '--dataset',
    csv,
    '--min-agreement',
    '1',
    '--out',
    out,
  ]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /parity FAILED/);
  t.is((JSON.parse(fs.readFileSync(out, 'utf8')) as { passed: boolean }).passed, false);
});

test('onnxruntime is benchmarked behind the same interface, with its thread settings recorded', async (t) => {
  const r = await benchOne(a0, getBackend('onnxruntime'), syntheticFrames(4, 172), {
    threads: 1,
    frames: 10,
    warmup: 2,
    repeats: 1,
    percentiles: [50, 90],
    input: 'synthetic',
    overhead: false,
    machine: thisMachine(),
    progress: silent,
  });
  t.is(r.samplesMs.length, 10);
  t.regex(r.runtime.threads.enforcement, /intraOpNumThreads=1, interOpNumThreads=1, executionMode=sequential/);
  t.regex(r.runtime.build, /int8 QDQ/);
});
