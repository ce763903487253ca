import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {
  datasetRef,
  labelIndices,
  loadSubset,
  loadUserDataset,
  shardClips,
  verifyClips,
  type Dataset,
} from '../src/datasets/dataset.js';
import { agreement } from '../src/metrics/accuracy.js';
import { evaluate, evaluateTogether, type AccuracyOptions } from '../src/accuracy/run.js';
import type { Backend, Session, State } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/index.js';
import { resolveModel } from '../src/models/resolve.js';
import { reportHeader } from '../src/run/environment.js';
import { mergeAccuracyReports } from '../src/report/merge.js';
import type { AccuracyRun } from '../src/core/results.js';
import type { AccuracyReport } from '../src/report/schema.js';
import { UserError } from '../src/util/errors.js';
import { clip, cli, isOneLineError, shortClip, tempDir } from './helpers.js';

const a0 = resolveModel('a0');
const opts: AccuracyOptions = { resize: 'crop', fps: 5, threads: 1, progress: { start() {}, update() {}, stop() {} } };
const tmp = tempDir('movinet-acc-');

const SMALL = [
  ['arm wrestling', 'arm_wrestling__mmaction2-demo.mp4'],
  ['tai chi', 'tai_chi__mmskeleton-ta_chi.mp4'],
  ['windsurfing', 'windsurfing__video-segmentation-surf.mp4'],
  ['archery', 'archery__PaddleVideo-example.avi'],
  ['yoga', 'yoga__Ask-Anything-yoga.mp4'],
] as const;

/** The runtime of the tests whose point is the dataset, the shards, the cache or a failure, not the runtime. */
const RUNTIME = 'onnxruntime';

/** The first 3 s of each: these tests compare runs with each other, not with the labels. */
const short = (file: string) => shortClip(file, 3);

/** The same clips as a <label>/<clip> folder (labels spelled with '_') and as a CSV. */
function smallFolder(): string {
  const dir = path.join(tmp, 'folder');
  if (fs.existsSync(dir)) return dir;
  for (const [label, file] of SMALL) {
    fs.mkdirSync(path.join(dir, label.replace(/ /g, '_')), { recursive: true });
    fs.symlinkSync(short(file), path.join(dir, label.replace(/ /g, '_'), file));
  }
  return dir;
}

function smallCsv(extra: string[] = []): string {
  const file = path.join(tmp, `clips-${extra.length}.csv`);
  fs.writeFileSync(file, ['path,label', ...SMALL.map(([label, f]) => `${short(f)},${label}`), ...extra].join('\n'));
  return file;
}

function report(ds: Dataset, runs: AccuracyRun[], shard: { index: number; count: number } | null): AccuracyReport {
  return {
    ...reportHeader('test'),
    kind: 'accuracy',
    config: {
      dataset: datasetRef(ds),
      models: ['a0'],
      backends: [RUNTIME],
      resize: 'crop',
      fps: 5,
      shard: shard ? { ...shard, datasetClips: SMALL.length } : null,
    },
    runs,
    skipped: [],
    failed: [],
    agreement: agreement(runs),
  };
}

test('A0 int8 on the kinetics sample: every clip decoded in full, 18 of 22 right at top-1, the four known misses', async (t) => {
  const ds = shardClips(loadSubset('kinetics-sample'), null);
  verifyClips(ds);
  t.is(ds.clips.length, 22);
  const run = await evaluate(a0, getBackend('tfjs-tflite'), ds, opts);
  // Inspected clip by clip (closing note of issue 4). The misses:
  // - archery (PaddleVideo, 320x240 MPEG-4 AVI, 5 s): predicted "air drumming"; the bow is thin and low-res,
  //   archery is 3rd at 6%.
  // - juggling balls (mmskeleton GIF with a drawn skeleton overlay): "juggling soccer ball", the sibling class.
  // - making a cake (Ask-Anything): extreme close-up of hands; "putting in contact lenses".
  // - playing ping pong (PaddleVideo GIF with overlay, 4.6 s): "yoga"; the overlay dominates the small frame.
  const wrong = run.clips
    .filter((c) => !c.correct1)
    .map((c) => c.file)
    .sort();
  t.deepEqual(wrong, [
    'archery__PaddleVideo-example.avi',
    'juggling_balls__mmskeleton-juggling_balls_w.gif',
    'making_a_cake__Ask-Anything-making_cake.mp4',
    'playing_ping_pong__PaddleVideo-example_tennis_7.gif',
  ]);
  t.is(run.summary.correct1, 18);
  t.is(run.summary.errors, 0);
  t.true(run.summary.top1.low < 0.7 && run.summary.top1.high > 0.9, 'the interval is wide on 22 clips');
  t.true(run.summary.correct5 >= run.summary.correct1);
  const arm = run.clips.find((c) => c.file.startsWith('arm_wrestling'))!;
  t.is(arm.top5[0]!.label, 'arm wrestling');
  t.not(arm.timeToCorrectS, null);
  t.is(run.summary.top1ByFramesSeen.at(-1), 18 / 22);
  // In full, with no integrity error: as many frames as ffprobe's duration gives at 5 fps, give or take one.
  for (const c of run.clips) {
    const file = ds.clips.find((x) => path.basename(x.file) === c.file)!.file;
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], {
      encoding: 'utf8',
    });
    const seconds = Number(probe.stdout.trim());
    t.true(seconds > 0, `${c.file}: ffprobe duration '${probe.stdout.trim()}' ${probe.stderr}`);
    t.true(Math.abs(c.frames - seconds * 5) <= 1, `${c.file}: ${c.frames} frames in ${seconds} s`);
  }
});

test('folder and CSV datasets give the same clips, labels and predictions', async (t) => {
  const folder = shardClips(loadUserDataset(smallFolder()), null);
  const csv = shardClips(loadUserDataset(smallCsv()), null);
  t.is(folder.clips.length, 5);
  const labelled = (ds: Dataset) => {
    const idx = labelIndices(ds, a0.labels!);
    return ds.clips.map((c, i) => `${path.basename(c.file)}=${a0.labels![idx[i]!]}`).sort();
  };
  t.deepEqual(labelled(folder), labelled(csv));
  t.true(labelled(folder).includes('arm_wrestling__mmaction2-demo.mp4=arm wrestling'));
  const backend = getBackend(RUNTIME);
  const [x, y] = [await evaluate(a0, backend, folder, opts), await evaluate(a0, backend, csv, opts)];
  const byName = (r: AccuracyRun) => new Map(r.clips.map((c) => [path.basename(c.file), c.top5[0]!.index]));
  t.deepEqual(byName(x), byName(y));
  t.is(x.summary.correct1, y.summary.correct1);
});

test('an unknown label is a clear error naming the closest labels', (t) => {
  const file = path.join(tmp, 'typo.csv');
  fs.writeFileSync(file, `${clip(SMALL[0][1])},arm wrestlin\n`);
  const err = t.throws(() => labelIndices(loadUserDataset(file), a0.labels!), { instanceOf: UserError });
  t.regex(err!.message, /unknown label 'arm wrestlin' .*closest model labels: 'arm wrestling'/);
});

test('a clip that cannot be decoded is an error for that clip; the run goes on and exits 2', (t) => {
  const broken = path.join(tmp, 'broken.mp4');
  fs.writeFileSync(broken, fs.readFileSync(clip(SMALL[0][1])).subarray(0, 2000));
  const csv = smallCsv([`${broken},arm wrestling`]);
  const out = path.join(tmp, 'acc.json');
  const r = cli(['accuracy', '--dataset', csv, '--backends', RUNTIME, '--out', out]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /1 clip\(s\) could not be evaluated/);
  const rep = JSON.parse(fs.readFileSync(out, 'utf8')) as AccuracyReport;
  const run = rep.runs[0]!;
  t.is(run.summary.clips, 6);
  t.is(run.summary.errors, 1);
  t.is(run.summary.evaluated, 5);
  const bad = run.clips.find((c) => c.file === 'broken.mp4')!;
  t.is(bad.status, 'error');
  t.regex(bad.error!, /cannot decode video/);
});

test('shards 0/2 and 1/2 merged equal the single run', async (t) => {
  const ds = loadUserDataset(smallFolder());
  const backend = getBackend(RUNTIME);
  const single = report(ds, [await evaluate(a0, backend, shardClips(ds, null), opts)], null);
  const shards: AccuracyReport[] = [];
  for (const index of [0, 1]) {
    const part = shardClips(ds, { index, count: 2 });
    shards.push(report(part, [await evaluate(a0, backend, part, opts)], { index, count: 2 }));
  }
  t.deepEqual(shards.map((s) => s.runs[0]!.clips.length).sort(), [2, 3]);
  const merged = mergeAccuracyReports(shards, ['s0.json', 's1.json']);
  // Timings differ between any two runs; predictions and metrics must not.
  const strip = (r: AccuracyReport) =>
    r.runs.map((run) => ({
      summary: run.summary,
      clips: run.clips.map(({ stepMs: _s, decodeWaitMs: _w, ...c }) => c),
    }));
  t.deepEqual(strip(merged), strip(single));
  t.is(merged.config.shard, null);
  t.is(merged.config.dataset.clips, 5);
  t.throws(() => mergeAccuracyReports([shards[0]!], ['s0.json']), { message: /only 1 of 2 shards/ });
  // Nothing is counted twice: a report with itself, a shard given twice, a shard with the whole run.
  t.throws(() => mergeAccuracyReports([single, single], ['a.json', 'b.json']), {
    message: /is in both a\.json and b\.json/,
  });
  t.throws(() => mergeAccuracyReports([shards[0]!, shards[0]!, shards[1]!], ['s0.json', 'again.json', 's1.json']), {
    message: /both shard 0\/2/,
  });
  t.throws(() => mergeAccuracyReports([single, shards[0]!], ['all.json', 's0.json']), {
    message: /whole run, the others are shards|others are shards/,
  });
  // A split whose shards do not cover the dataset they came from is refused.
  const short = structuredClone(shards);
  short[1]!.runs[0]!.clips.pop();
  t.throws(() => mergeAccuracyReports(short, ['s0.json', 's1.json']), {
    message: /hold 4 clips but the dataset has 5/,
  });
});

test('the accuracy CLI rejects a missing --subset/--dataset with one line', (t) => {
  const r = cli(['accuracy']);
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
});

/** An ffmpeg that logs every decode it is asked for, then runs the real one. */
function countingFfmpeg(): { bin: string; decodes: () => string[] } {
  const log = path.join(tmp, `ffmpeg-${Date.now()}.log`);
  const bin = path.join(tmp, `ffmpeg-counting-${Date.now()}`);
  const real = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(
    bin,
    `#!/bin/sh\nfor a in "$@"; do case "$a" in *.mp4|*.avi) echo "$a" >> '${log}';; esac; done\nexec '${real}' "$@"\n`,
  );
  fs.chmodSync(bin, 0o755);
  return { bin, decodes: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []) };
}

test.serial('three backends on one dataset: each clip decoded once, the backends agree with their solo runs', (t) => {
  const ffmpeg = countingFfmpeg();
  const out = path.join(tmp, 'together.json');
  const env = { FFMPEG_PATH: ffmpeg.bin };
  const args = ['accuracy', '--dataset', smallCsv(), '--backends', 'tfjs-tflite,litert,onnxruntime', '--out', out];
  const r = cli(args, env);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(ffmpeg.decodes().sort(), SMALL.map(([, f]) => short(f)).sort());
  const together = JSON.parse(fs.readFileSync(out, 'utf8')) as AccuracyReport;
  const d = together.decoding![0]!;
  t.deepEqual(d.backends, ['tfjs-tflite', 'litert', 'onnxruntime']);
  t.is(d.clips, 5);
  t.is(d.fromCache, 0);
  t.is(
    d.inferenceMs,
    together.runs.reduce((a, x) => a + x.inferenceMs, 0),
  );
  t.true(together.runs.every((x) => x.wallMs === d.wallMs && x.decodeWaitMs === d.decodeWaitMs));
  // A backend run beside others sees the same frames as run alone: same per-frame top-1 on every clip.
  const solo = path.join(tmp, 'solo.json');
  t.is(cli(['accuracy', '--dataset', smallCsv(), '--backends', RUNTIME, '--out', solo]).code, 0);
  const alone = JSON.parse(fs.readFileSync(solo, 'utf8')) as AccuracyReport;
  t.deepEqual(
    alone.runs[0]!.clips.map((c) => c.top1ByFrame),
    together.runs.find((x) => x.backend === RUNTIME)!.clips.map((c) => c.top1ByFrame),
  );
});

test.serial('--frame-cache: a repeated run reads every clip from the cache, decodes none, same results', (t) => {
  const dir = path.join(tmp, 'frames');
  const args = (out: string) => [
    'accuracy',
    '--dataset',
    smallCsv(),
    '--backends',
    RUNTIME,
    '--frame-cache',
    dir,
    '--out',
    out,
  ];
  const first = path.join(tmp, 'cache-1.json');
  t.is(cli(args(first)).code, 0);
  t.is(fs.readdirSync(dir).filter((f) => f.endsWith('.rgb24')).length, SMALL.length);
  const ffmpeg = countingFfmpeg();
  const second = path.join(tmp, 'cache-2.json');
  const r = cli(args(second), { FFMPEG_PATH: ffmpeg.bin });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(ffmpeg.decodes(), []);
  const [a, b] = [first, second].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as AccuracyReport);
  t.is(a!.decoding![0]!.fromCache, 0);
  t.is(b!.decoding![0]!.fromCache, SMALL.length);
  t.deepEqual(
    b!.runs[0]!.clips.map((c) => [c.file, c.frames, c.top5]),
    a!.runs[0]!.clips.map((c) => [c.file, c.frames, c.top5]),
  );
});

test.serial('a backend that fails mid-clip becomes a failed entry; the others finish every clip', async (t) => {
  const ds = shardClips(loadUserDataset(smallCsv()), null);
  const real = getBackend(RUNTIME);
  // The real runtime, made to fail on its 20th frame (in the second clip).
  const failing: Backend = {
    name: 'failing',
    facts: real.facts,
    maxThreads: 1,
    async load(model, o) {
      const session = await real.load(model, o);
      let steps = 0;
      return Object.assign(Object.create(session) as Session, {
        step: (frame: Float32Array, state: State) => {
          if (++steps === 20) return Promise.reject(new Error('runtime fault on frame 20'));
          return session.step(frame, state);
        },
      });
    },
  };
  const { runs, failed, decoding } = await evaluateTogether(a0, [real, failing], ds, opts);
  t.deepEqual(
    runs.map((r) => r.backend),
    [RUNTIME],
  );
  t.is(runs[0]!.summary.evaluated, SMALL.length);
  t.deepEqual(failed, [{ model: a0.id, backend: 'failing', error: 'runtime fault on frame 20' }]);
  t.deepEqual(decoding!.backends, [RUNTIME]);
});
