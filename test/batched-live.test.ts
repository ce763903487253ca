import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { BatchedSession, SlotFrame } from '../src/backends/backend.js';
import { getBackend, registerBackend } from '../src/backends/index.js';
import type { AccuracyRun, ClipResult } from '../src/core/results.js';
import { openBatchedStates, type BatchedStreamStates } from '../src/live/batched-states.js';
import { runStreams } from '../src/live/streams.js';
import { resolveModel } from '../src/models/resolve.js';
import { accuracyReport } from '../src/run/accuracy.js';
import { readReport, type AccuracyReport } from '../src/report/schema.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING, assertOwnStreamLogits, cli, clip, isOneLineError, shortClip, tempDir } from './helpers.js';

/*
 * The batched schedule of `live --streams` and `accuracy --batch`, on the real A0 int8 graph and real clips: a
 * stream stepped in calls beside others gives, frame for frame, the logits of its own single-stream run on the
 * default graph, and a clip evaluated N at a time gives the result it gives alone.
 */

const a0 = resolveModel('a0');
const onnxruntime = getBackend('onnxruntime');
const tmp = tempDir('movinet-batched-live-');
const silent = { start() {}, update() {}, stop() {} };

/** Six real clips (the first seconds of five) of 9 to 25 frames at 5 fps: batched clips end at different calls. */
const SIX = [
  [shortClip('arm_wrestling__mmaction2-demo.mp4', 4), 'arm wrestling'],
  [shortClip('tai_chi__mmskeleton-ta_chi.mp4', 3), 'tai chi'],
  [clip('windsurfing__video-segmentation-surf.mp4'), 'windsurfing'],
  [shortClip('flipping_pancake__decord-flipping_a_pancake.mkv', 5), 'flipping pancake'],
  [shortClip('juggling_balls__mmskeleton-juggling_balls_w.gif', 3), 'juggling balls'],
  [shortClip('archery__PaddleVideo-example.avi', 2), 'archery'],
] as const;
const six = path.join(tmp, 'six.csv');
fs.writeFileSync(six, SIX.map(([file, label]) => `${file},${label}`).join('\n'));

const decode = (file: string) => collect(decodeFrames(file, { size: 172, fps: 5, resize: 'crop', maxFrames: 12 }));
const clips = Promise.all([decode(ARM_WRESTLING), decode(clip('tai_chi__mmskeleton-ta_chi.mp4'))]);

/** Records every stream's logits and every call's streams as the scheduler makes them. */
function recording(inner: BatchedStreamStates): {
  states: BatchedStreamStates;
  logits: Float32Array[][];
  calls: number[][];
} {
  const logits: Float32Array[][] = Array.from({ length: inner.streams }, () => []);
  const calls: number[][] = [];
  return {
    logits,
    calls,
    states: {
      placement: 'slots',
      streams: inner.streams,
      maxBatch: inner.maxBatch,
      warm: (frame, count) => inner.warm(frame, count),
      close: () => inner.close(),
      stepTogether: async (frames) => {
        const r = await inner.stepTogether(frames);
        calls.push(frames.map((f) => f.stream));
        for (const [k, f] of frames.entries()) logits[f.stream]!.push(r.logits[k]!.slice());
        return r;
      },
    },
  };
}

for (const maxBatch of [3, 2]) {
  test.serial(
    `batched schedule, 3 streams, calls of up to ${maxBatch}: each stream's own single-stream logits`,
    async (t) => {
      const frames = await clips;
      const opened = await openBatchedStates(onnxruntime, a0, 3, maxBatch, { threads: 1 });
      const { states, logits, calls } = recording(opened);
      try {
        // What a capacity step does first: the streams must start from zero state after it.
        await states.warm(frames[1]![3]!, 2);
        const run = await runStreams(states, {
          // Far above what the model keeps up with: every stream always has a frame waiting.
          fps: 1000,
          phase: 'spread',
          policy: 'queue',
          durationMs: 0,
          minFrames: 24,
          maxMs: 120_000,
          clips: frames,
          signal: new AbortController().signal,
        });
        t.true(run.processed >= 24);
        t.is(run.dropped, 0);
        t.deepEqual(
          run.calls.map((c) => c.size),
          calls.map((c) => c.length),
        );
        t.is(
          run.calls.reduce((a, c) => a + c.size, 0),
          run.processed,
        );
        t.true(
          calls.every((c) => c.length <= maxBatch),
          'no call is wider than --max-batch',
        );
        t.true(
          calls.some((c) => c.length === maxBatch),
          `streams waiting together were stepped together: ${JSON.stringify(calls.slice(0, 8))}`,
        );
        // Calls of up to 2 of 3 always-waiting streams take the two captured earliest: often not the first slots.
        t.is(
          calls.some((c) => c[0] !== 0),
          maxBatch === 2,
          'a call of streams that are not the first slots, gathered and scattered, only when a call is narrower',
        );
        await assertOwnStreamLogits(t, onnxruntime, a0, frames, logits);
      } finally {
        states.close();
      }
    },
  );
}

test.serial(
  'live --streams 3 --schedule batched --max-batch 2: the schedule, the slots, the calls in the report',
  (t) => {
    const out = path.join(tmp, 'live.json');
    const input = `${ARM_WRESTLING},${clip('tai_chi__mmskeleton-ta_chi.mp4')}`;
    const r = cli([
      ...['live', '--streams', '3', '--schedule', 'batched', '--max-batch', '2', '--input', input, '--model', 'a0'],
      ...['--fps', '200', '--duration', '1', '--out', out],
    ]);
    t.is(r.code, 0, r.stderr);
    const report = readReport(out);
    if (report.kind !== 'live') return t.fail(report.kind);
    const result = report.results[0]!;
    t.is(result.backend, 'onnxruntime', 'the batched schedule defaults to a backend that can batch');
    t.regex(result.runtime.build, /free batch axis/);
    const c = result.capacity!;
    t.like(c.schedule, { kind: 'batched', maxBatch: 2 });
    t.deepEqual(
      c.schedule!.probe!.map((p) => p.batch),
      [1, 2],
    );
    t.is(c.placement.chosen, 'slots');
    t.true(c.memoryPerStreamMB >= 0);
    const step = c.steps[0]!;
    t.is(step.perStream.length, 3);
    t.true(step.processed >= 662, 'a step lasts until a p99 claim can be made');
    const sizes = step.calls!.bySize.map((b) => b.size);
    t.true(sizes.every((s) => s <= 2));
    t.true(sizes.includes(2), `calls by size: ${JSON.stringify(step.calls)}`);
    t.regex(r.stdout, /a0-int8 +onnxruntime +slots +3 \([01]\/1 pass\)/);
    t.regex(r.stderr, /states per stream in the slots of one batched session; batch 1 [\d.]+ ms a frame; batch 2/);
  },
);

/** What a clip's result says, without the times, which differ from run to run (and batched, are shares of calls). */
const verdicts = (run: AccuracyRun) =>
  run.clips.map((c: ClipResult) => {
    const rest: Partial<ClipResult> = { ...c };
    delete rest.stepMs;
    delete rest.decodeWaitMs;
    return rest;
  });

/** A batched session that records the width of every call and which slots open and close. */
function counting(inner: BatchedSession, log: { widths: number[]; events: string[] }): BatchedSession {
  return {
    threads: inner.threads,
    runtime: inner.runtime,
    slots: inner.slots,
    open: () => {
      const slot = inner.open();
      log.events.push(`open ${slot}`);
      return slot;
    },
    close: (slot) => {
      log.events.push(`close ${slot}`);
      inner.close(slot);
    },
    readState: (slot) => inner.readState(slot),
    dispose: () => inner.dispose(),
    step(frames: readonly SlotFrame[]) {
      log.widths.push(frames.length);
      return inner.step(frames);
    },
  };
}

test.serial('accuracy --batch 4 on 6 clips: every clip as in the unbatched run; resumed, the same', async (t) => {
  const args = ['accuracy', '--dataset', six, '--models', 'a0', '--backends', 'onnxruntime'];
  const [alone, batched] = [path.join(tmp, 'alone.json'), path.join(tmp, 'batched.json')];
  const r1 = cli([...args, '--out', alone]);
  t.is(r1.code, 0, r1.stderr);
  const r2 = cli([...args, '--batch', '4', '--out', batched]);
  t.is(r2.code, 0, r2.stderr);
  const [want, got] = [alone, batched].map((f) => (readReport(f) as AccuracyReport).runs[0]!);
  t.is(got!.clips.length, 6);
  t.true(
    got!.clips.every((c) => c.stepMs.length === c.frames),
    'a step time (a share of its call) for every frame',
  );
  t.true(
    got!.clips.every((c) => c.status === 'ok'),
    'every clip ran',
  );
  t.deepEqual(verdicts(got!), verdicts(want!));
  t.deepEqual(got!.summary, want!.summary);
  t.is((readReport(batched) as AccuracyReport).config.batch, 4, 'the report says how it was made');
  t.is((readReport(alone) as AccuracyReport).config.batch, undefined);

  // The schedule that gave it: calls of four clips, a slot freed by a clip that ended and refilled by the next.
  const log = { widths: [] as number[], events: [] as string[] };
  registerBackend({
    ...onnxruntime,
    name: 'counting-onnxruntime',
    loadBatched: async (model, opts) => counting(await onnxruntime.loadBatched!(model, opts), log),
  });
  const report = await accuracyReport({
    dataset: six,
    models: ['a0'],
    backends: ['counting-onnxruntime'],
    resize: 'crop',
    fps: 5,
    threads: 1,
    batch: 4,
    progress: silent,
  });
  t.deepEqual(verdicts(report.runs[0]!), verdicts(want!));
  t.is(Math.max(...log.widths), 4);
  t.is(log.events.filter((e) => e.startsWith('open')).length, 6);
  const reopened = log.events.findIndex(
    (e, k) => e.startsWith('open') && log.events.slice(0, k).includes(`close ${e.slice(5)}`),
  );
  t.true(reopened > 0, `a slot a clip left was opened again: ${log.events.join(', ')}`);

  // A run killed after two clips resumes with the batch it was written with, and only then.
  const lines = fs.readFileSync(`${batched}.journal.jsonl`, 'utf8').split('\n').filter(Boolean);
  t.is(lines.length, 7);
  const resumed = path.join(tmp, 'resumed.json');
  fs.writeFileSync(`${resumed}.journal.jsonl`, `${lines.slice(0, 3).join('\n')}\n`);
  const unbatched = cli([...args, '--out', resumed, '--resume']);
  t.is(unbatched.code, 2);
  t.true(isOneLineError(unbatched.stderr), unbatched.stderr);
  t.regex(unbatched.stderr, /--resume: .* was written with batch 4, this run has null/);
  const r3 = cli([...args, '--batch', '4', '--out', resumed, '--resume']);
  t.is(r3.code, 0, r3.stderr);
  t.regex(r3.stderr, /resumed: 2 clip result\(s\) taken from/);
  t.deepEqual(verdicts((readReport(resumed) as AccuracyReport).runs[0]!), verdicts(want!));
});

test.serial('live --schedule/--max-batch and accuracy --batch: bad input in one line, exit 2', (t) => {
  const live = ['live', '--input', ARM_WRESTLING, '--model', 'a0'];
  const accuracy = ['accuracy', '--dataset', six, '--models', 'a0', '--out', path.join(tmp, 'refused.json')];
  const cases: [string[], RegExp][] = [
    [
      [...live, '--streams', '3', '--schedule', 'batched', '--backend', 'tfjs-tflite'],
      /--schedule batched: backend tfjs-tflite cannot batch streams: .*reshape targets are constant \[1,\.\.\.\]/,
    ],
    [[...live, '--streams', '3', '--schedule', 'batched', '--max-batch', '0'], /--max-batch must be an integer from 1/],
    [[...live, '--streams', '3', '--schedule', 'batched', '--max-batch', '1.5'], /--max-batch must be an integer/],
    [[...live, '--streams', '3', '--schedule', 'batched', '--max-batch', 'all'], /--max-batch must be an integer/],
    [[...live, '--streams', '3', '--max-batch', '2'], /--max-batch applies to --schedule batched/],
    [[...live, '--schedule', 'batched'], /--schedule batched steps several streams in one call: it needs --streams/],
    [[...live, '--streams', '3', '--schedule', 'sideways'], /--schedule/],
    [
      [...live, '--streams', '3', '--schedule', 'batched', '--state', 'sessions'],
      /--state sessions does not apply to --schedule batched/,
    ],
    [[...accuracy, '--batch', '7'], /--batch 7 steps that many clips at once; the dataset has 6/],
    [[...accuracy, '--batch', '4', '--shard', '0/2'], /--batch 4 steps that many clips at once; this shard .* has 3/],
    [[...accuracy, '--batch', '0'], /--batch must be an integer from 1/],
    [
      [...accuracy, '--batch', '2', '--backends', 'onnxruntime,litert'],
      /--batch: backend litert cannot batch streams: .*reshape targets are constant/,
    ],
  ];
  for (const [args, says] of cases) {
    const r = cli(args);
    t.is(r.code, 2, args.join(' '));
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, says, args.join(' '));
  }
});
