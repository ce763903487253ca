/**
 * The batch curve (issue 33): per-frame cost of one batched session of a free-batch graph at several batch
 * sizes, in one process, on one loaded graph, so every B meets the same code, weights and machine state. Each
 * round times every B in turn (the order rotates from round to round, so a slow minute is spread over all of
 * them); a call steps B streams in slots 0..B-1 on their own frames, states carried, and its time over B is
 * the per-frame cost. `--default-graph` also times the usual one-stream session of the fixed graph, the cost
 * stepping streams one by one pays today. A measurement, not a test. Usage, after `npm run build`:
 *   node dist/scripts/batch-curve.js [--batches 1,2,4,8,16,32] [--calls 200] [--rounds 5] [--warmup 10]
 *     [--model a0] [--backend onnxruntime] [--threads 1] [--input synthetic|<video>] [--default-graph] [--json]
 *     [--profile 1,16]
 * `--profile` then loads a profiling session per listed B (never timed above) and gives onnxruntime's op profile
 * per frame at that B: which op types the batch makes cheaper per frame, and which it does not.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BatchedSession } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/index.js';
import { summarizeProfile } from '../src/metrics/profile.js';
import { median, percentileSorted } from '../src/metrics/stats.js';
import { resolveModel } from '../src/models/resolve.js';
import { StreamStepper } from '../src/stream/stream.js';
import { benchFrames } from '../src/video/frames.js';

export interface CurveOptions {
  batches: readonly number[];
  /** Timed calls per B, over all rounds. */
  calls: number;
  rounds: number;
  /** Untimed calls per B before each round's timed ones. */
  warmup: number;
  model: string;
  backend: string;
  threads: number;
  input: string;
  /** Also time the fixed graph's one-stream session. */
  defaultGraph: boolean;
}

export interface CurvePoint {
  /** Streams per call; 'default' is the fixed graph's one-stream session. */
  batch: number | 'default';
  calls: number;
  /** Call time over its streams, ms. */
  perFrameP50: number;
  perFrameP90: number;
  /** perFrameP50 over that of B = 1 of the same free-batch graph. */
  vsBatch1: number | null;
}

export interface Curve {
  model: string;
  backend: string;
  threads: number;
  build: string;
  points: CurvePoint[];
}

/** Per-frame cost of the batched graph at each B (and, if asked, of the default graph), as described above. */
export async function batchCurve(opts: CurveOptions): Promise<Curve> {
  const batches = [...new Set(opts.batches)].sort((a, b) => a - b);
  if (batches.length === 0 || batches.some((b) => !Number.isInteger(b) || b < 1))
    throw new Error(`batch sizes must be whole numbers from 1 up: ${opts.batches.join(',')}`);
  const model = resolveModel(opts.model);
  const backend = getBackend(opts.backend);
  if (!backend.facts.batch.can || !backend.loadBatched)
    throw new Error(
      `${backend.name} cannot batch: ${backend.facts.batch.can ? 'no batched session' : backend.facts.batch.because}`,
    );
  const widest = batches[batches.length - 1]!;
  // One frame per stream: B streams of the same clip would step the same pixels, which no cache should see.
  const frames = await benchFrames(opts.input, model.signature.height, Math.max(widest, 8));
  const session: BatchedSession = await backend.loadBatched(model, { threads: opts.threads, slots: widest });
  const times = new Map<number | 'default', number[]>();
  try {
    const slots = Array.from({ length: widest }, () => session.open());
    let tick = 0;
    const call = (b: number) =>
      session.step(slots.slice(0, b).map((slot, s) => ({ slot, frame: frames[(tick + s) % frames.length]! })));
    const perRound = Math.ceil(opts.calls / opts.rounds);
    for (let r = 0; r < opts.rounds; r++) {
      for (const b of [...batches.slice(r % batches.length), ...batches.slice(0, r % batches.length)]) {
        for (let w = 0; w < opts.warmup; w++, tick++) await call(b);
        const list = times.get(b) ?? [];
        for (let i = 0; i < perRound; i++, tick++) {
          const t0 = performance.now();
          await call(b);
          list.push((performance.now() - t0) / b);
        }
        times.set(b, list);
      }
    }
  } finally {
    session.dispose();
  }
  if (opts.defaultGraph) {
    const single = await backend.load(model, { threads: opts.threads });
    const stepper = new StreamStepper(single);
    try {
      for (let w = 0; w < opts.warmup; w++) await stepper.step(frames[w % frames.length]!);
      const list: number[] = [];
      for (let i = 0; i < opts.calls; i++) list.push((await stepper.step(frames[i % frames.length]!)).ms);
      times.set('default', list);
    } finally {
      stepper.close();
      single.dispose();
    }
  }
  const p50 = (b: number | 'default') => median(times.get(b) ?? []) ?? NaN;
  const one = times.has(1) ? p50(1) : null;
  const points = [...times.keys()].map((b) => {
    const sorted = [...times.get(b)!].sort((x, y) => x - y);
    return {
      batch: b,
      calls: sorted.length,
      perFrameP50: p50(b),
      perFrameP90: percentileSorted(sorted, 90),
      vsBatch1: one === null ? null : p50(b) / one,
    };
  });
  return { model: model.id, backend: backend.name, threads: opts.threads, build: session.runtime.build, points };
}

export interface OpShare {
  op: string;
  nodes: number;
  msPerFrame: number;
  share: number;
}

/** onnxruntime's op profile of `calls` calls at batch b, per frame (a node's time over the b frames it served). */
export async function profileAt(
  opts: CurveOptions,
  b: number,
  calls: number,
): Promise<{ batch: number; ops: OpShare[] }> {
  const model = resolveModel(opts.model);
  const backend = getBackend(opts.backend);
  if (!backend.loadBatched) throw new Error(`${backend.name} cannot batch`);
  const frames = await benchFrames(opts.input, model.signature.height, Math.max(b, 8));
  const profile = { warmup: opts.warmup, frames: calls };
  const session = await backend.loadBatched(model, { threads: opts.threads, slots: b, profile });
  try {
    if (!session.profiler) throw new Error(`${backend.name} has no op profiler`);
    const slots = Array.from({ length: b }, () => session.open());
    for (let i = 0; i < opts.warmup + calls; i++)
      await session.step(slots.map((slot, s) => ({ slot, frame: frames[(i + s) % frames.length]! })));
    const times = await session.profiler.nodeTimes();
    const p = summarizeProfile(backend.name, session.profiler.source, times, calls * b);
    return { batch: b, ops: p.byOp };
  } finally {
    session.dispose();
  }
}

function profileTable(p: { batch: number; ops: OpShare[] }): string {
  const rows = p.ops
    .slice(0, 10)
    .map(
      (o) =>
        `  ${o.op.padEnd(24)} ${String(o.nodes).padStart(5)}  ${o.msPerFrame.toFixed(3).padStart(8)}  ${(100 * o.share).toFixed(1).padStart(5)} %`,
    );
  return [
    `op profile at batch ${p.batch} (per frame)`,
    '  op                       nodes  ms/frame  share',
    ...rows,
  ].join('\n');
}

function table(curve: Curve): string {
  const head = `${curve.model} on ${curve.backend}, ${curve.threads} thread(s): ${curve.build}`;
  const rows = curve.points.map((p) =>
    [
      String(p.batch).padStart(7),
      String(p.calls).padStart(6),
      p.perFrameP50.toFixed(3).padStart(10),
      p.perFrameP90.toFixed(3).padStart(10),
      (p.vsBatch1 === null ? '-' : `${p.vsBatch1.toFixed(2)}x`).padStart(9),
    ].join('  '),
  );
  return [head, '  batch   calls  p50 ms/fr  p90 ms/fr  vs B=1', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string', default: '1,2,4,8,16,32' },
      calls: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '10' },
      model: { type: 'string', default: 'a0' },
      backend: { type: 'string', default: 'onnxruntime' },
      threads: { type: 'string', default: '1' },
      input: { type: 'string', default: 'synthetic' },
      'default-graph': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      profile: { type: 'string', default: '' },
    },
  });
  const opts: CurveOptions = {
    batches: values.batches.split(',').map(Number),
    calls: Number(values.calls),
    rounds: Math.max(1, Number(values.rounds)),
    warmup: Number(values.warmup),
    model: values.model,
    backend: values.backend,
    threads: Number(values.threads),
    input: values.input,
    defaultGraph: values['default-graph'],
  };
  const curve = await batchCurve(opts);
  const profiles = [];
  for (const b of values.profile ? values.profile.split(',').map(Number) : [])
    profiles.push(await profileAt(opts, b, 50));
  if (values.json) process.stdout.write(`${JSON.stringify({ ...curve, profiles }, null, 1)}\n`);
  else process.stdout.write(`${[table(curve), ...profiles.map(profileTable)].join('\n\n')}\n`);
}
