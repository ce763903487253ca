import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { BatchedSession, Session, SlotFrame, StateTensor } from '../src/backends/backend.js';
import { getBackend, registerBackend } from '../src/backends/index.js';
import { reportVerdict } from '../src/cli/emit.js';
import { onnxCachePath } from '../src/convert/cache.js';
import { convertToOnnx } from '../src/convert/tflite-to-onnx.js';
import { loadUserDataset, shardClips } from '../src/datasets/dataset.js';
import { parityPassed } from '../src/metrics/parity.js';
import { resolveModel, type ResolvedModel } from '../src/models/resolve.js';
import { runStreamParity } from '../src/parity/streams.js';
import { parityReport } from '../src/run/parity.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING, clip, cli, isOneLineError, fourShortClips, tempDir } from './helpers.js';

/*
 * The batch axis of the converted graphs, on the real A0 and real clips: a free-batch graph computes what the
 * default graph computes, row by row, and a batched session keeps each stream's states in its own slot
 * whatever joins, leaves, pauses or arrives out of order beside it.
 */

const a0 = resolveModel('a0');
const tmp = tempDir('movinet-batched-');
const silent = { start() {}, update() {}, stop() {} };
const CLIPS = fourShortClips();
const csv = path.join(tmp, 'clips.csv');
fs.writeFileSync(csv, CLIPS.map(([file, label]) => `${file},${label}`).join('\n'));
const ds = shardClips(loadUserDataset(csv), null);
/** The three short ones, for the other runtimes: two slots still see a slot reused and calls out of slot order. */
const shortCsv = path.join(tmp, 'short.csv');
fs.writeFileSync(shortCsv, [CLIPS[0]!, CLIPS[1]!, CLIPS[3]!].map(([file, label]) => `${file},${label}`).join('\n'));
const shortDs = shardClips(loadUserDataset(shortCsv), null);
const options = { resize: 'crop', fps: 5, threads: 1, progress: silent } as const;

const framesOf = (file: string, count: number) =>
  collect(decodeFrames(file, { size: a0.signature.height, fps: 5, resize: 'crop', maxFrames: count }));

/** Every frame the clips give at the model's size and 5 fps. */
async function framesIn(clips: readonly (readonly [string, string])[]): Promise<number> {
  const counts = await Promise.all(clips.map(async ([file]) => (await framesOf(file, Infinity)).length));
  return counts.reduce((a, b) => a + b, 0);
}

function differing(a: Map<string, StateTensor>, b: Map<string, StateTensor>): string[] {
  return [...a].flatMap(([name, v]) => {
    const w = b.get(name);
    return w && w.length === v.length && v.every((x, k) => Object.is(x, w[k])) ? [] : [name];
  });
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, k) => Object.is(x, b[k]));

test('the free batch axis leaves the default graph and its cache file as they were', (t) => {
  for (const p of ['int8', 'int8-exact', 'float'] as const) {
    const fixed = convertToOnnx(a0.graph, a0.signature, p);
    const free = convertToOnnx(a0.graph, a0.signature, p, [], 'free');
    t.false(Buffer.from(fixed.bytes).includes('movinet.batch'), p);
    t.true(Buffer.from(free.bytes).includes('movinet.batch'), p);
    t.is(fixed.batch, 'fixed');
    t.deepEqual(fixed.ops, free.ops, 'the same TFLite ops are converted');
    t.regex(path.basename(onnxCachePath(a0, p)), new RegExp(`^${a0.sha256}-${p}-c\\d+\\.onnx$`));
    t.not(onnxCachePath(a0, p, 'free'), onnxCachePath(a0, p));
  }
  t.deepEqual(getBackend('onnxruntime').facts.batch, { can: true });
  for (const name of ['onnxruntime-exact', 'onnxruntime-float']) t.true(getBackend(name).facts.batch.can);
  for (const name of ['tfjs-tflite', 'litert', 'tflite-native-xnnpack', 'tflite-native-builtin']) {
    const { batch } = getBackend(name).facts;
    t.false(batch.can);
    t.regex(batch.can ? '' : batch.because, /reshape targets are constant \[1,\.\.\.\]/);
  }
});

for (const name of ['onnxruntime', 'onnxruntime-exact', 'onnxruntime-float']) {
  test(`${name}: the free-batch graph at batch 1 gives the default graph's logits and states`, async (t) => {
    const backend = getBackend(name);
    const frames = await framesOf(ARM_WRESTLING, 15);
    const single = await backend.load(a0, { threads: 1 });
    const batched = await backend.loadBatched!(a0, { threads: 1, slots: 1 });
    try {
      t.regex(batched.runtime.build, /free batch axis/);
      const slot = batched.open();
      let state = single.initialState();
      t.deepEqual(differing(single.readState(state), batched.readState(slot)), [], 'zero states');
      for (const [f, frame] of frames.entries()) {
        const ref = await single.step(frame, state);
        state = ref.state;
        const [logits] = await batched.step([{ slot, frame }]);
        t.true(same(ref.logits, logits!), `logits of frame ${f}`);
        t.deepEqual(differing(single.readState(state), batched.readState(slot)), [], `states after frame ${f}`);
      }
      single.release(state);
    } finally {
      single.dispose();
      batched.dispose();
    }
  });
}

test('int8 QDQ, 3 streams of 4 clips: each its own run through staggered starts, pauses, reordering', async (t) => {
  const { pair, schedule } = await runStreamParity(a0, getBackend('onnxruntime'), ds, { ...options, streams: 3 });
  t.is(pair.backend, 'onnxruntime@batch3');
  t.is(pair.reference, 'onnxruntime');
  t.is(pair.clips.length, 4);
  t.is(pair.frames, await framesIn(CLIPS), 'every frame of every clip compared');
  t.is(pair.maxAbsLogitDiff, 0);
  t.is(pair.clipsMatching, 4);
  t.true(
    pair.clips.every((c) => c.locate === undefined),
    'no stream parts from its own run, in logits or states',
  );
  t.true(parityPassed([pair], 0.99));
  t.is(schedule.widest, 3);
  t.true(schedule.reused >= 1, 'a slot a stream left was opened again, from zero state');
  t.true(schedule.reordered >= 1, 'calls listed their streams out of slot order');
  t.true(schedule.paused >= 1, 'a stream sat out calls its neighbours stepped');
  const spans = schedule.spans.map((s) => s!);
  t.is(new Set(spans.map((s) => s.first)).size, 4, 'every stream started at a call of its own');
  t.true(new Set(spans.map((s) => s.last)).size >= 3, 'streams ended at different calls');
  t.true(spans[3]!.first > Math.min(...spans.slice(0, 3).map((s) => s.last)), 'the fourth clip waited for a slot');
});

test('int8-exact and fp32, 2 streams: each its own run (int8-exact bit for bit, fp32 by the rule)', async (t) => {
  for (const name of ['onnxruntime-exact', 'onnxruntime-float']) {
    const { pair, schedule } = await runStreamParity(a0, getBackend(name), shortDs, { ...options, streams: 2 });
    t.is(pair.clipsMatching, 3, name);
    t.true(parityPassed([pair], 0.99), name);
    t.true(schedule.reused >= 1 && schedule.reordered >= 1, name);
    if (name === 'onnxruntime-exact') {
      t.is(pair.maxAbsLogitDiff, 0);
      t.true(
        pair.clips.every((c) => c.locate === undefined),
        'int8-exact: no state differs either',
      );
    }
  }
});

test('onnxruntime-web batches the same graph without preallocated outputs: 2 streams, each its own run', async (t) => {
  const web = getBackend('onnxruntime-web');
  t.true(web.facts.batch.can);
  const { pair, schedule } = await runStreamParity(a0, web, shortDs, { ...options, streams: 2 });
  t.is(pair.maxAbsLogitDiff, 0);
  t.is(pair.clipsMatching, 3);
  t.true(pair.clips.every((c) => c.locate === undefined));
  t.true(schedule.reused >= 1 && schedule.reordered >= 1);
});

test('a slot reopened after its stream left starts from zero state (quantized: the zero point)', async (t) => {
  const backend = getBackend('onnxruntime');
  const [x, y, z] = await Promise.all(
    [ARM_WRESTLING, clip('tai_chi__mmskeleton-ta_chi.mp4'), clip('windsurfing__video-segmentation-surf.mp4')].map((f) =>
      framesOf(f, 6),
    ),
  );
  const single = await backend.load(a0, { threads: 1 });
  const batched = await backend.loadBatched!(a0, { threads: 1, slots: 2 });
  const zero = single.readState(single.initialState());
  try {
    const [a, b] = [batched.open(), batched.open()];
    t.deepEqual([a, b], [0, 1]);
    let yState = single.initialState();
    for (let f = 0; f < 4; f++) {
      await batched.step([
        { slot: a, frame: x![f]! },
        { slot: b, frame: y![f]! },
      ]);
      yState = (await single.step(y![f]!, yState)).state;
    }
    t.true(differing(zero, batched.readState(a)).length > 0, 'the stream that leaves has moved off zero');
    batched.close(a);
    t.throws(() => batched.readState(a), { message: /slot 0 is not open/ });
    const c = batched.open();
    t.is(c, a, 'the freed slot is reused');
    t.deepEqual(differing(zero, batched.readState(c)), [], 'it holds the zero state a fresh stream starts from');
    let zState = single.initialState();
    for (let f = 0; f < 2; f++) {
      // The newcomer arrives second, so the call is gathered out of slot order.
      const [yLogits, zLogits] = await batched.step([
        { slot: b, frame: y![4 + f]! },
        { slot: c, frame: z![f]! },
      ]);
      const zRef = await single.step(z![f]!, zState);
      const yRef = await single.step(y![4 + f]!, yState);
      [zState, yState] = [zRef.state, yRef.state];
      t.true(same(zRef.logits, zLogits!), `the newcomer's frame ${f} is a fresh stream's`);
      t.true(same(yRef.logits, yLogits!), `the stream that stayed is undisturbed at frame ${4 + f}`);
    }
    t.deepEqual(differing(single.readState(zState), batched.readState(c)), []);
    t.deepEqual(differing(single.readState(yState), batched.readState(b)), []);
    single.release(zState);
    single.release(yState);
  } finally {
    single.dispose();
    batched.dispose();
  }
});

/** A batched session that, once, steps two streams on each other's states: the leak parity must catch. */
function leaking(inner: BatchedSession, atCall: number): BatchedSession {
  let calls = 0;
  let leaked = false;
  return {
    threads: inner.threads,
    runtime: inner.runtime,
    slots: inner.slots,
    open: () => inner.open(),
    close: (slot) => inner.close(slot),
    readState: (slot) => inner.readState(slot),
    dispose: () => inner.dispose(),
    step(frames: readonly SlotFrame[]) {
      const [first, second] = frames;
      if (++calls < atCall || leaked || !first || !second) return inner.step(frames);
      leaked = true;
      return inner.step([
        { slot: second.slot, frame: first.frame },
        { slot: first.slot, frame: second.frame },
        ...frames.slice(2),
      ]);
    },
  };
}

test('parity --streams catches a batched session that mixes two streams up: exit 1, and where they part', async (t) => {
  const real = getBackend('onnxruntime');
  registerBackend({
    ...real,
    name: 'leaky-onnxruntime',
    load: (model: ResolvedModel, opts): Promise<Session> => real.load(model, opts),
    loadBatched: async (model, opts) => leaking(await real.loadBatched!(model, opts), 8),
  });
  const report = await parityReport({
    ...options,
    models: ['a0'],
    backends: ['leaky-onnxruntime'],
    dataset: csv,
    minAgreement: 0.99,
    streams: 2,
  });
  t.false(report.passed);
  t.is(reportVerdict(report, {}).code, 1);
  const pair = report.pairs[0]!;
  t.is(pair.backend, 'leaky-onnxruntime@batch2');
  const parted = pair.clips.filter((c) => c.locate);
  t.true(parted.length >= 2, 'both streams that were swapped part');
  for (const c of parted) {
    t.false(c.match);
    t.true(c.locate!.firstFrame !== null && c.locate!.states.length > 0, JSON.stringify(c.locate));
  }
});

test('parity --streams from the command line: a passing run, and bad input refused in one line (exit 2)', async (t) => {
  const two = path.join(tmp, 'two.csv');
  fs.writeFileSync(
    two,
    CLIPS.slice(1, 3)
      .map(([file, label]) => `${file},${label}`)
      .join('\n'),
  );
  const out = path.join(tmp, 'streams.json');
  const ok = cli(['parity', '--streams', '2', '--dataset', two, '--json', '--out', out]);
  t.is(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as { passed: boolean; pairs: { backend: string; frames: number }[] };
  t.true(report.passed);
  t.deepEqual(
    report.pairs.map((p) => [p.backend, p.frames]),
    [['onnxruntime@batch2', await framesIn(CLIPS.slice(1, 3))]],
  );
  const refused: [string[], RegExp][] = [
    [['--streams', '0'], /--streams must be an integer from 1/],
    [
      ['--streams', '2', '--backends', 'tfjs-tflite'],
      /tfjs-tflite cannot batch streams: .*reshape targets are constant/,
    ],
    [['--streams', '3'], /--streams 3 needs as many different clips; the dataset has 2/],
    [['--streams', '2', '--locate'], /does not combine with --locate/],
  ];
  for (const [args, message] of refused) {
    const r = cli(['parity', '--dataset', two, ...args, '--out', path.join(tmp, 'refused.json')]);
    t.is(r.code, 2, args.join(' '));
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, message);
  }
});
