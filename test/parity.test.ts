import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadUserDataset, shardClips } from '../src/datasets/dataset.js';
import { getBackend } from '../src/backends/index.js';
import { benchOne } from '../src/bench/run.js';
import { resolveModel } from '../src/models/resolve.js';
import { runParity } from '../src/parity/run.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { clip, cli } from './helpers.js';

const a0 = resolveModel('a0');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-parity-'));
const silent = { start() {}, update() {}, stop() {} };
const csv = path.join(tmp, 'clips.csv');
fs.writeFileSync(
  csv,
  [
    `${clip('arm_wrestling__mmaction2-demo.mp4')},arm wrestling`,
    `${clip('tai_chi__mmskeleton-ta_chi.mp4')},tai chi`,
    `${clip('windsurfing__video-segmentation-surf.mp4')},windsurfing`,
    `${clip('flipping_pancake__decord-flipping_a_pancake.mkv')},flipping pancake`,
  ].join('\n'),
);

test('on real clips, the converted model matches tfjs-tflite: int8-exact frame by frame, QDQ int8 clip by clip', async (t) => {
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
  t.true(exact!.frameTop1Agreement >= 0.99, `int8-exact agreement ${exact!.frameTop1Agreement}`);
  t.is(exact!.frames, 50 + 50 + 9 + 52);
  t.is(qdq!.clipsMatching, 4);
  t.true(qdq!.maxAbsProbDiff > 0 && qdq!.maxAbsProbDiff < 1);
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
    progress: silent,
  });
  t.is(r.samplesMs.length, 10);
  t.regex(r.runtime.threads.enforcement, /intraOpNumThreads=1, interOpNumThreads=1, executionMode=sequential/);
  t.regex(r.runtime.build, /int8 QDQ/);
});
