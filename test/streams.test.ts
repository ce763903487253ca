import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { openStreamStates, STATE_PLACEMENTS, type StreamStates } from '../src/live/stream-states.js';
import { captureMs, runStreams, type StreamsRunOptions } from '../src/live/streams.js';
import { resolveModel } from '../src/models/resolve.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { compareReports } from '../src/report/compare.js';
import { renderHtml } from '../src/report/html.js';
import { readReport } from '../src/report/schema.js';
import {
  ARM_WRESTLING,
  assertOwnStreamLogits,
  cli,
  CLI_MAIN,
  clip,
  isOneLineError,
  shortClip,
  tempDir,
} from './helpers.js';

const model = resolveModel('a0');
const decode = (file: string) => collect(decodeFrames(file, { size: 172, fps: 5, resize: 'crop', maxFrames: 12 }));
const clips = Promise.all([decode(ARM_WRESTLING), decode(clip('tai_chi__mmskeleton-ta_chi.mp4'))]);

/** Records every stream's logits as the scheduler gets them: the loop itself keeps none. */
function recording(states: StreamStates): { states: StreamStates; logits: Float32Array[][] } {
  const logits: Float32Array[][] = Array.from({ length: states.streams }, () => []);
  return {
    logits,
    states: {
      placement: states.placement,
      streams: states.streams,
      session: states.session,
      warm: (frame, count) => states.warm(frame, count),
      step: async (s, frame) => {
        const r = await states.step(s, frame);
        logits[s]!.push(r.logits.slice());
        return r;
      },
      close: () => states.close(),
    },
  };
}

const fast = (frames: readonly (readonly Float32Array[])[], minFrames: number): StreamsRunOptions => ({
  // Far above what the model keeps up with: every stream always has a frame waiting, so streams interleave.
  fps: 1000,
  phase: 'spread',
  policy: 'queue',
  durationMs: 0,
  minFrames,
  maxMs: 120_000,
  clips: frames,
  signal: new AbortController().signal,
});

for (const backend of ['tfjs-tflite', 'onnxruntime']) {
  for (const placement of STATE_PLACEMENTS) {
    test.serial(
      `${backend}, ${placement}: each of 3 interleaved streams gives its own single-stream logits`,
      async (t) => {
        const frames = await clips;
        const opened = await openStreamStates(getBackend(backend), model, 3, placement, { threads: 1 });
        const { states, logits } = recording(opened);
        try {
          const run = await runStreams(states, fast(frames, 24));
          t.is(run.processed, 24);
          t.is(run.dropped, 0);
          await assertOwnStreamLogits(t, getBackend(backend), model, frames, logits);
        } finally {
          opened.close();
        }
      },
    );
  }
}

/** Blocks the thread as a synchronous runtime's step would, without spending the CPU the other test files need. */
const BLOCKER = new Int32Array(new SharedArrayBuffer(4));

/** A stream whose step takes a known time and computes nothing. */
function busy(streams: number, ms: number): StreamStates {
  const logits = new Float32Array(600);
  return {
    placement: 'save-restore',
    streams,
    session: undefined as never,
    warm: async () => undefined,
    step: async () => {
      Atomics.wait(BLOCKER, 0, 0, ms);
      return { logits, ms, serviceMs: ms };
    },
    close: () => undefined,
  };
}

test('pacing: frame i of stream s of N arrives at (i + s/N)/fps, spread over the period, or all at i/fps', (t) => {
  t.is(captureMs(0, 0, 4, 5, 'spread'), 0);
  t.is(captureMs(0, 1, 4, 5, 'spread'), 50);
  t.is(captureMs(3, 3, 4, 5, 'spread'), 750);
  t.is(captureMs(3, 3, 4, 5, 'aligned'), 600);
  t.is(captureMs(7, 2, 4, 20, 'aligned'), 350);
});

test.serial('N paced streams: every frame is accounted for, each stream captures at its rate', async (t) => {
  const frames = [[new Float32Array(3)]];
  for (const phase of ['spread', 'aligned'] as const) {
    const run = await runStreams(busy(4, 1), {
      fps: 20,
      phase,
      policy: 'queue',
      durationMs: 1000,
      minFrames: 0,
      maxMs: 5000,
      clips: frames,
      signal: new AbortController().signal,
    });
    t.is(run.streams, 4);
    t.is(run.perStream.length, 4, 'a row per stream for the check below');
    t.is(run.captured, run.processed + run.dropped + run.unprocessed, phase);
    t.is(run.dropped, 0, 'queue never drops');
    // Keeping up, no frame is left a period behind; one that arrived just before the end may wait, and is no failure.
    t.is(run.overdue, 0, `${phase}: ${run.unprocessed} waiting at the end`);
    // Each stream captured what arrived within the run's own wall time (a busy machine lengthens it, no more).
    for (const [s, st] of run.perStream.entries()) {
      const arrived = Math.floor((run.wallMs - captureMs(0, s, 4, 20, phase)) / 50) + 1;
      t.true(Math.abs(st.captured - arrived) <= 1, `${phase} stream ${s}: ${st.captured} captured, ${arrived} due`);
    }
    // Aligned, the four frames of a period arrive together: the last waits for the three before it.
    if (phase === 'aligned') t.true(run.queueMs!.max >= 3, `aligned: queue max ${run.queueMs!.max} ms`);
  }
});

test.serial(
  'under latest, a stream that falls behind keeps its newest frame and counts the others dropped',
  async (t) => {
    const run = await runStreams(busy(2, 40), {
      fps: 50,
      phase: 'spread',
      policy: 'latest',
      durationMs: 1000,
      minFrames: 0,
      maxMs: 5000,
      clips: [[new Float32Array(3)]],
      signal: new AbortController().signal,
    });
    t.true(run.dropped > 0);
    t.true(run.overdue <= run.unprocessed);
    t.is(run.captured, run.processed + run.dropped + run.unprocessed);
    t.true(run.unprocessed <= 2, 'at most one waiting frame per stream');
  },
);

test.serial('live --streams: bad input in one line, exit 2', (t) => {
  const cases: [string[], RegExp][] = [
    [['--streams', '0'], /--streams must be a whole number from 1 to 1024, or auto; got '0'/],
    [['--streams', '-3'], /--streams must be a whole number/],
    [['--streams', 'many'], /--streams must be a whole number/],
    [['--streams', '2', '--input', '/dev/video0'], /a camera is one stream \(drop --streams\)/],
    [['--streams', '2', '--fps', 'auto'], /--fps auto finds one stream's rate; --streams counts streams at one rate/],
    [['--streams', '2', '--phase', 'sideways'], /--phase/],
    [['--streams', '2', '--input', 'no-such-clip.mp4,other.mp4'], /--input .*no-such-clip\.mp4 does not exist/],
  ];
  for (const [args, says] of cases) {
    const r = cli(['live', '--input', ARM_WRESTLING, '--model', 'a0', '--backend', 'onnxruntime', ...args]);
    t.is(r.code, 2, args.join(' '));
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, says, args.join(' '));
  }
});

test.serial(
  'live --streams 2 on two clips: a capacity row, validated, with the steps, the table, compare and the page',
  async (t) => {
    const out = path.join(tempDir('movinet-streams-'), 'two.json');
    // The first seconds of two clips: the streams loop them, and the point is the capacity row.
    const input = `${shortClip('arm_wrestling__mmaction2-demo.mp4', 3)},${shortClip('tai_chi__mmskeleton-ta_chi.mp4', 3)}`;
    const r = cli([
      ...['live', '--streams', '2', '--input', input, '--model', 'a0', '--backend', 'onnxruntime'],
      ...['--fps', '200', '--duration', '1', '--state', 'sessions', '--out', out],
    ]);
    t.is(r.code, 0, r.stderr);
    const report = readReport(out);
    t.is(report.kind, 'live');
    if (report.kind !== 'live') return;
    const c = report.results[0]!.capacity!;
    t.is(report.config.streams, 2);
    t.like(c, { fps: 200, phase: 'spread', maxStreams: null, placement: { chosen: 'sessions', measured: false } });
    t.is(c.steps.length, 1);
    t.is(c.steps[0]!.perStream.length, 2);
    t.true(c.steps[0]!.processed >= 662, 'a step lasts until a p99 claim can be made');
    t.true(c.decoder!.cpuPerStreamSecond > 0, 'the decoder was timed');
    t.regex(r.stdout, /a0-int8 +onnxruntime +sessions +2 \([01]\/1 pass\)/);
    t.regex(r.stdout, /steps a0-int8 onnxruntime: fixed 2: (pass|fail)/);

    // compare: two --streams auto reports, the new one serving fewer streams beyond the threshold, regresses.
    const found = (max: number) => ({
      ...report,
      config: { ...report.config, streams: 'auto' as const },
      results: report.results.map((x) => ({ ...x, capacity: { ...x.capacity!, maxStreams: max } })),
    });
    const row = (a: number, b: number) =>
      compareReports(found(a), found(b)).rows.find((x) => x.metric === 'max streams');
    t.like(row(8, 6), { old: 8, new: 6, verdict: 'regression', gates: true });
    t.like(row(20, 20), { verdict: 'unchanged' });
    t.like(row(20, 24), { verdict: 'improvement' });

    // The page: its own section, the table, and p99 against streams with the frame period drawn.
    const html = await renderHtml([report]);
    t.regex(html, /<h2[^>]*>Streams per core<\/h2>/);
    t.regex(html, /the dashed line is the frame period \(5 ms\)/);
    t.notRegex(html, /<h2[^>]*>Live streams<\/h2>/, 'not drawn again as a live run');
  },
);

test.serial(
  'live --streams stopped by SIGINT: the steps that ran are the report, no further step starts',
  async (t) => {
    const out = path.join(tempDir('movinet-streams-int-'), 'interrupted.json');
    const args = ['live', '--streams', '2', '--fps', '200', '--duration', '1', '--runs', '20', '--state', 'sessions'];
    const input = shortClip('arm_wrestling__mmaction2-demo.mp4', 3);
    const child = spawn(
      process.execPath,
      [CLI_MAIN, ...args, '--backend', 'onnxruntime', '--input', input, '--out', out],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    let stepsBeforeSignal = -1;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const steps = (stderr.match(/stream\(s\) (pass|fail)/g) ?? []).length;
      if (steps >= 1 && stepsBeforeSignal < 0) {
        stepsBeforeSignal = steps;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.is(code, 130, stderr);
    const report = readReport(out);
    if (report.kind !== 'live') return t.fail('not a live report');
    t.true(report.interrupted);
    const steps = report.results[0]!.capacity!.steps;
    t.true(steps.length >= stepsBeforeSignal && steps.length <= stepsBeforeSignal + 1, `${steps.length} steps`);
    t.is(report.results[0]!.capacity!.maxStreams, null);
  },
);
