import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { runClip } from '../src/accuracy/clip.js';
import type { Session } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/index.js';
import { loadNativeTflite } from '../src/backends/tflite-native.js';
import { argmax } from '../src/metrics/probabilities.js';
import { className, resolveModel, type ResolvedModel } from '../src/models/resolve.js';
import { readReport } from '../src/report/schema.js';
import { osThreads } from '../src/util/os-threads.js';
import { collect } from '../src/video/frames.js';
import { decodeFrames } from '../src/video/decode.js';
import { ARM_WRESTLING, cli, CUSTOM_MODEL, isOneLineError, shortClip, tempDir } from './helpers.js';

const a0 = resolveModel('a0');
const DYNAMIC_MODEL = path.join(path.dirname(CUSTOM_MODEL), 'a0_stream_finetuned_7class_dynamic.tflite');
const XNNPACK = 'tflite-native-xnnpack';
const BUILTIN = 'tflite-native-builtin';

async function withSessions<T>(
  model: ResolvedModel,
  names: readonly string[],
  body: (sessions: Session[]) => Promise<T>,
): Promise<T> {
  const sessions: Session[] = [];
  try {
    for (const n of names) sessions.push(await getBackend(n).load(model, { threads: 1 }));
    return await body(sessions);
  } finally {
    for (const s of sessions) s.dispose();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

test.before(async () => {
  // The library comes from the registry tarball on first use: fetched once here, not inside a timed test.
  await loadNativeTflite();
});

test('native TFLite with XNNPACK classifies a real clip as tfjs-tflite does, bit for bit; without a delegate, the same top-1', async (t) => {
  await withSessions(a0, ['tfjs-tflite', XNNPACK, BUILTIN], async ([wasm, xnn, builtin]) => {
    const [w, x, b] = [
      await runClip(wasm!, a0, ARM_WRESTLING, { resize: 'crop', fps: 5 }),
      await runClip(xnn!, a0, ARM_WRESTLING, { resize: 'crop', fps: 5 }),
      await runClip(builtin!, a0, ARM_WRESTLING, { resize: 'crop', fps: 5 }),
    ];
    t.is(x.frames, 50);
    t.is(className(a0, argmax(x.logits)), 'arm wrestling');
    // TFLite's WASM build runs the same XNNPACK int8 kernels: identical logits after 50 carried frames.
    t.is(maxDiff(w.logits, x.logits), 0);
    t.deepEqual(x.top1ByFrame, w.top1ByFrame);
    // The built-in kernels round some requantizations the other way (see RESULTS.md): close, not equal.
    t.is(argmax(b.logits), argmax(x.logits));
    t.true(maxDiff(b.logits, x.logits) > 0);
  });
});

test('the rows say which kernels ran: XNNPACK takes every conv in partitions, the built-in variant takes none', async (t) => {
  await withSessions(a0, [XNNPACK, BUILTIN], async ([xnn, builtin]) => {
    const kx = xnn!.runtime.kernels!;
    const kb = builtin!.runtime.kernels!;
    const ops = a0.graph.subgraphs[0]!.operators.length;
    for (const k of [kx, kb]) {
      t.is(k.tfliteVersion, '2.9.0');
      t.is(k.nodes, ops);
      t.regex(k.library.sha256, /^[0-9a-f]{64}$/);
      t.true(fs.existsSync(k.library.file));
      t.is(k.delegatedNodes + k.builtinOps.reduce((n, o) => n + o.nodes, 0), ops);
    }
    t.is(kx.delegate, 'XNNPACK');
    t.deepEqual(kx.delegateFlags, ['QS8', 'QU8']);
    t.true(kx.delegatedNodes > 0 && kx.partitions > 0 && kx.partitions <= kx.delegatedNodes);
    // A0 int8: every multiply-accumulate runs in XNNPACK; what stays behind only moves data.
    t.is(kx.builtinMacShare, 0);
    t.false(kx.builtinOps.some((o) => o.op === 'CONV_2D' || o.op === 'DEPTHWISE_CONV_2D'));
    t.is(kb.delegate, null);
    t.is(kb.delegatedNodes, 0);
    t.is(kb.partitions, 0);
    t.is(kb.builtinMacShare, 1);
    t.regex(xnn!.runtime.build, /libtensorflowlite_c 2\.9\.0 .*XNNPACK/);
  });
});

test('exactly one thread: no XNNPACK thread pool and no OS thread started, for both variants', async (t) => {
  await withSessions(a0, [XNNPACK, BUILTIN], async ([xnn, builtin]) => {
    t.regex(xnn!.threads.enforcement, /XNNPACK num_threads=1, thread pool none/);
    for (const s of [xnn!, builtin!]) {
      t.is(s.threads.requested, 1);
      t.regex(s.threads.enforcement, /OS threads started by loading: 0/);
    }
    // Stepping starts none either.
    const before = osThreads();
    if (before === null) return t.fail('this OS lists no threads');
    for (const s of [xnn!, builtin!]) {
      let state = s.initialState();
      for (let i = 0; i < 5; i++) state = (await s.step(new Float32Array(172 * 172 * 3).fill(0.5), state)).state;
      s.release(state);
    }
    t.is(osThreads(), before);
  });
});

test('the native state loop: carried states matter, and a state hands over to tfjs-tflite and back with identical logits', async (t) => {
  const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 8 }));
  await withSessions(a0, [XNNPACK, 'tfjs-tflite'], async ([xnn, wasm]) => {
    let s = xnn!.initialState();
    for (const f of frames.slice(0, 6)) s = (await xnn!.step(f, s)).state;
    const carried = xnn!.readState(s);
    t.true(carried.get('state_block1_layer0_stream_buffer')!.some((v) => v !== 0));
    const native = await xnn!.step(frames[6]!, s);
    const handed = await wasm!.step(frames[6]!, wasm!.stateFrom(carried));
    t.is(maxDiff(native.logits, handed.logits), 0);
    const straight = await xnn!.step(frames[7]!, native.state);
    xnn!.release(straight.state);
    const back = await xnn!.step(frames[7]!, xnn!.stateFrom(wasm!.readState(handed.state)));
    t.is(maxDiff(back.logits, straight.logits), 0);
    const reset = await xnn!.step(frames[7]!, xnn!.initialState());
    t.true(maxDiff(reset.logits, straight.logits) > 1);
    for (const [session, st] of [
      [wasm!, handed.state],
      [xnn!, back.state],
      [xnn!, reset.state],
    ] as const)
      session.release(st);
    await t.throwsAsync(() => xnn!.step(frames[0]!, native.state), { message: /single-use/ });
  });
});

test('every model the harness knows runs on both native variants: fine-tuned int8 and dynamic-range, and the arch models', async (t) => {
  const frames = await collect(decodeFrames(ARM_WRESTLING, { size: 172, fps: 5, resize: 'crop', maxFrames: 3 }));
  const seen: Record<string, number> = {};
  for (const ref of [CUSTOM_MODEL, DYNAMIC_MODEL, 'a0-arch', 'a1-arch', 'a2-arch']) {
    const model = resolveModel(ref);
    const size = model.signature.image.shape[2]!;
    const input = size === 172 ? frames : frames.map(() => new Float32Array(size * size * 3).fill(0.25));
    await withSessions(model, [XNNPACK, BUILTIN], async (sessions) => {
      const logits: Float32Array[] = [];
      for (const s of sessions) {
        let state = s.initialState();
        let out: Float32Array = new Float32Array();
        for (const f of input) ({ logits: out, state } = await s.step(f, state));
        s.release(state);
        t.is(out.length, model.signature.numClasses, `${model.id} ${s.runtime.build}`);
        t.true(out.every(Number.isFinite));
        logits.push(out);
      }
      const kx = sessions[0]!.runtime.kernels!;
      t.true(kx.delegatedNodes > 0, model.id);
      seen[model.id] = kx.builtinMacShare;
    });
  }
  // TFLite 2.9's XNNPACK has no hybrid (dynamic-range) convolution: those stay on built-in kernels, and the row says so.
  t.true(seen['a0_stream_finetuned_7class_dynamic']! > 0.5);
  t.is(seen['a0_stream_finetuned_7class_int8'], 0);
});

test('a native row in a real bench report: kernels recorded and validated, collections counted, overhead measured', (t) => {
  const dir = tempDir('native-bench-');
  const out = path.join(dir, 'b.json');
  const r = cli(['bench', '--models', 'a0', '--backends', XNNPACK, '--frames', '60', '--no-roofline', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const report = readReport(out);
  if (report.kind !== 'bench') return t.fail('not a bench report');
  const row = report.results[0]!;
  t.is(row.backend, XNNPACK);
  t.is(row.runtime.kernels?.delegate, 'XNNPACK');
  t.is(row.runtime.package, 'tfjs-tflite-node');
  // The collections during the measured frames are recorded (how few there are is a measurement: RESULTS.md).
  t.truthy(row.gc, 'gc counts recorded');
  t.deepEqual(row.processes[0]!.gc, row.gc);
  // Overhead measured: the stepped loop against the bare loop doing the same work.
  t.true(row.overhead !== null && row.overhead.bareP50Ms > 0 && row.overhead.ratio > 0.5 && row.overhead.ratio < 2);
  const k = row.runtime.kernels!;
  // The table and the page say it too.
  t.true(r.stdout.includes(`took ${k.delegatedNodes}/${k.nodes} nodes in ${k.partitions} partitions`), r.stdout);
  const html = path.join(dir, 'summary.html');
  t.is(cli(['report', out, '--out', html]).code, 0);
  const page = fs.readFileSync(html, 'utf8');
  t.regex(page, /Which kernels ran \(native TFLite\)/);
  t.true(page.includes(`${k.delegatedNodes} / ${k.nodes}`));
  t.true(page.includes(k.library.sha256));
});

test('without the library (offline, empty cache) the pair is skipped with its cause; the others run', (t) => {
  const dir = tempDir('native-offline-');
  const out = path.join(dir, 'b.json');
  const env = { MOVINET_CACHE_DIR: path.join(dir, 'cache'), MOVINET_OFFLINE: '1' };
  const args = ['bench', '--models', 'a0', '--backends', `${XNNPACK},tfjs-tflite`, '--frames', '20'];
  const strict = cli([...args, '--no-roofline', '--out', out], env);
  t.is(strict.code, 2);
  t.regex(strict.stderr, /runtime is unavailable were skipped: tflite-native-xnnpack \(.*offline/);
  const rowsAndSkipped = (file: string) => {
    const report = readReport(file);
    if (report.kind !== 'bench') return t.fail(`${file} is a ${report.kind} report`);
    return {
      rows: report.results.map((r) => [r.backend, r.samplesMs.length]),
      skipped: report.skipped.map((s) => [s.backend, s.cause]),
    };
  };
  const expected = { rows: [['tfjs-tflite', 20]], skipped: [[XNNPACK, 'runtime']] };
  t.deepEqual(rowsAndSkipped(out), expected);
  // With --skip-missing the same report, and exit 0.
  fs.rmSync(out);
  const lenient = cli([...args, '--no-roofline', '--out', out, '--skip-missing'], env);
  t.is(lenient.code, 0, lenient.stderr);
  t.deepEqual(rowsAndSkipped(out), expected);
  const one = cli(['classify', ARM_WRESTLING, '--backend', BUILTIN], env);
  t.is(one.code, 2);
  t.true(isOneLineError(one.stderr), one.stderr);
});

test('native TFLite is refused in one line under --target chromium', (t) => {
  for (const command of ['bench', 'parity']) {
    const r = cli([command, '--target', 'chromium', '--backends', `tfjs-tflite,${BUILTIN}`]);
    t.is(r.code, 2);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, /native TFLite C library, which has no browser build/);
  }
});

test('parity --locate finds where the built-in kernels part from XNNPACK: one code in a convolution', (t) => {
  const dir = tempDir('native-locate-');
  const csv = path.join(dir, 'one.csv');
  // The first seconds are enough: the variants part on the first frame.
  fs.writeFileSync(csv, `${shortClip('arm_wrestling__mmaction2-demo.mp4', 3)},arm wrestling\n`);
  const out = path.join(dir, 'p.json');
  const r = cli([
    'parity',
    ...['--models', 'a0', '--backends', `tfjs-tflite,${XNNPACK},${BUILTIN}`, '--dataset', csv, '--locate'],
    ...['--out', out],
  ]);
  t.true(r.code === 0 || r.code === 1, r.stderr);
  const report = readReport(out);
  if (report.kind !== 'parity') return t.fail('not a parity report');
  const pair = (b: string) => report.pairs.find((p) => p.backend === b)!;
  t.is(pair(XNNPACK).maxAbsLogitDiff, 0);
  const clip = pair(BUILTIN).clips[0]!;
  t.is(clip.locate?.firstFrame, 0);
  const tensor = clip.locate?.tensor;
  t.is(tensor?.op, 'CONV_2D');
  t.is(tensor?.unit, 'code');
  t.is(tensor?.maxAbsDiff, 1);
});
