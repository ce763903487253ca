import fs from 'node:fs';
import os from 'node:os';
import test from 'ava';
import type { Backend, Session } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/index.js';
import { combineProcesses } from '../src/bench/combine.js';
import { benchOne } from '../src/bench/run.js';
import { isPassThrough } from '../src/models/signature.js';
import { resolveModel } from '../src/models/resolve.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { thisMachine } from '../src/run/machine.js';
import { waitFor, tempDir } from './helpers.js';

// Profilers keep their traces under the temporary folder: this file's own, so a test can see what stays.
process.env.TMPDIR = tempDir('movinet-profile-');
const leftTraces = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('movinet-ort-profile-'));

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
  machine: thisMachine(),
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

test('a profile covers the window after its warm-up: onnxruntime lists every node once per step, TFLite most of the step', async (t) => {
  const frames = syntheticFrames(4, 172);
  const window = { warmup: 3, frames: 12 };
  for (const name of ['tfjs-tflite', 'onnxruntime'] as const) {
    const session = await getBackend(name).load(a0, { threads: 1, profile: window });
    let state = session.initialState();
    let windowMs = 0;
    for (let i = 0; i < window.warmup + window.frames; i++) {
      const start = performance.now();
      state = (await session.step(frames[i % frames.length]!, state)).state;
      if (i >= window.warmup) windowMs += performance.now() - start;
    }
    const times = await session.profiler!.nodeTimes();
    session.dispose();
    const nodeMs = times.reduce((s, n) => s + n.ms, 0);
    const says = `${name}: ${nodeMs} ms of nodes in ${windowMs} ms of steps`;
    t.true(nodeMs <= windowMs, says);
    if (name === 'onnxruntime') {
      // Its trace has an event per node run: each node ran in each window step, and in no other.
      const runs = new Map<string, number>();
      for (const n of times) runs.set(n.node, (runs.get(n.node) ?? 0) + 1);
      t.deepEqual(new Set(runs.values()), new Set([window.frames]));
    } else {
      // TFLite's summary sums each node and checks its count itself. Its nodes run one after another on this
      // thread with little between, so they are most of the step even on a loaded machine; a profile of other
      // steps than the window's (the fault this guards) came to about a quarter. onnxruntime is not held to
      // a share: each step returns through the event loop, which a loaded machine delays by any amount.
      t.true(nodeMs >= 0.5 * windowMs, says);
    }
  }
});

// Serial, so that no other test's trace is in the folder when it looks.
test.serial(
  'a profiler that cannot be read leaves the timed run standing, its profile marked unavailable with the cause, and its trace removed',
  async (t) => {
    const ort = getBackend('onnxruntime');
    const broken: Backend = {
      ...ort,
      load: async (model, o) => {
        const session = await ort.load(model, o);
        const profiler = {
          source: 'broken',
          nodeTimes: () => Promise.reject(new Error('the trace is gone')),
          dispose: () => session.profiler?.dispose?.(),
        };
        return Object.assign(Object.create(session) as Session, { profiler });
      },
    };
    const r = await benchOne(a0, broken, syntheticFrames(4, 172), opts);
    t.is(r.samplesMs.length, 20);
    t.false(r.profile!.available);
    t.is(r.profile!.source, 'the profiler could not be read: the trace is gone');
    t.true(await waitFor(() => leftTraces().length === 0, 5000), `left behind: ${leftTraces().join(', ')}`);
  },
);

/** onnxruntime, but every step first leaves some megabytes of short-lived objects behind. */
function littering(): Backend {
  const ort = getBackend('onnxruntime');
  const litter = () => Array.from({ length: 200_000 }, (_, i) => ({ i })).length;
  return {
    ...ort,
    load: async (model, o) => {
      const session = await ort.load(model, o);
      return new Proxy(session, {
        get(target, prop) {
          if (prop === 'step')
            return (frame: Float32Array, state: unknown) => {
              litter();
              return target.step(frame, state as never);
            };
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
}

test('pass-through states are detected from the graph, and every result records the collections of its measured frames', async (t) => {
  // The official A0 returns 30 of its 43 states untouched (block pool buffers and frame counts).
  t.is(a0.signature.states.filter(isPassThrough).length, 30);
  const frames = syntheticFrames(4, 172);
  const measure = (backend: Backend) => benchOne(a0, backend, frames, { ...opts, frames: 50, profile: false });
  const quiet = await measure(getBackend('onnxruntime'));
  const busy = await measure(littering());
  // Each result and its one process carry the counts; garbage made while measuring is counted.
  for (const r of [quiet, busy]) {
    t.is(r.processes.length, 1);
    t.truthy(r.processes[0]!.gc, 'the process records its collections');
    t.deepEqual(r.processes[0]!.gc, r.gc);
  }
  t.true(busy.gc!.minor > 0, `collections while littering: ${JSON.stringify(busy.gc)}`);
  t.true(busy.gc!.pauseMs > 0);
  // Processes combined: the result's counts are the sums of its processes'.
  const second = { ...busy, processes: busy.processes.map((p) => ({ ...p, id: `${p.id}-second` })) };
  const both = combineProcesses([quiet, second], opts.percentiles);
  t.is(both.processes.length, 2);
  t.true(both.processes.every((p) => p.gc !== undefined));
  t.deepEqual(both.gc, {
    major: quiet.gc!.major + busy.gc!.major,
    minor: quiet.gc!.minor + busy.gc!.minor,
    pauseMs: quiet.gc!.pauseMs + busy.gc!.pauseMs,
  });
});
