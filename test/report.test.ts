import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { benchOne } from '../src/bench/run.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { resolveModel } from '../src/models/resolve.js';
import { reportHeader } from '../src/run/environment.js';
import { compareReports } from '../src/report/compare.js';
import { readReport, SCHEMA_VERSION, writeReport, type BenchReport } from '../src/report/schema.js';
import { thisMachine } from '../src/run/machine.js';
import { tempDir } from './helpers.js';

const silent = { start() {}, update() {}, stop() {} };

test('a real bench report round-trips through the schema, and a broken one is refused with one line', async (t) => {
  const a0 = resolveModel('a0');
  const result = await benchOne(a0, getBackend('tfjs-tflite'), syntheticFrames(4, 172), {
    threads: 1,
    frames: 12,
    warmup: 2,
    repeats: 2,
    percentiles: [50, 90, 99],
    input: 'synthetic',
    overhead: false,
    machine: thisMachine(),
    progress: silent,
  });
  t.is(result.samplesMs.length, 24);
  t.is(result.repeatP50Ms.length, 2);
  t.true(
    result.stats.min <= result.stats.p50 &&
      result.stats.p50 <= result.stats.p90 &&
      result.stats.p90 <= result.stats.max,
  );
  t.true(result.stats.medianCI95[0] <= result.stats.p50 && result.stats.p50 <= result.stats.medianCI95[1]);
  const report: BenchReport = {
    ...reportHeader('test'),
    kind: 'bench',
    config: {
      models: ['a0'],
      backends: ['tfjs-tflite'],
      threads: 1,
      frames: 12,
      processes: 1,
      warmup: 2,
      repeats: 2,
      input: 'synthetic',
      percentiles: [50, 90, 99],
    },
    results: [result],
    skipped: [{ model: 'a1-int8', backend: 'tfjs-tflite', cause: 'missing', reason: 'missing' }],
    failed: [],
  };
  const dir = tempDir('movinet-report-');
  const file = path.join(dir, 'r.json');
  writeReport(file, report);
  t.deepEqual(readReport(file), report);
  t.deepEqual(fs.readdirSync(dir), ['r.json']); // no temp file left behind

  const broken = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: { stats: { p50: unknown } }[] };
  broken.results[0]!.stats.p50 = 'fast';
  fs.writeFileSync(file, JSON.stringify(broken));
  t.throws(() => readReport(file), { message: /does not match the schema: results\.0\.stats\.p50/ });
  fs.writeFileSync(file, JSON.stringify({ ...report, schemaVersion: 99 }));
  t.throws(() => readReport(file), { message: /schemaVersion 99/ });
});

test('a schemaVersion 1 report is migrated on read: skipped and failed split, ids resolved, and compare reads it', async (t) => {
  const dir = tempDir('movinet-v1-');
  const a0 = resolveModel('a0');
  const result = await benchOne(a0, getBackend('onnxruntime'), syntheticFrames(2, 172), {
    threads: 1,
    frames: 5,
    warmup: 0,
    repeats: 1,
    percentiles: [50, 90],
    input: 'synthetic',
    overhead: false,
    machine: thisMachine(),
    progress: silent,
  });
  const v1 = {
    schemaVersion: 1,
    tool: { name: 'movinet-bench', version: '0.1.0' },
    createdAt: '2026-11-01T00:00:00.000Z',
    command: 'movinet-bench bench --models a0,a1',
    environment: reportHeader('x').environment,
    kind: 'bench',
    config: {
      models: ['a0', 'a1'],
      backends: ['tfjs-tflite'],
      threads: 1,
      frames: 3,
      warmup: 0,
      repeats: 1,
      input: 'synthetic',
      percentiles: [50, 90],
    },
    results: [{ ...result, status: 'ok' }],
    skipped: [
      {
        model: 'a1',
        backend: 'tfjs-tflite',
        status: 'skipped',
        reason: 'model a1-int8: file movinet_a1_stream_k600_int8.tflite not found',
      },
      { model: 'a0-int8', backend: 'litert', status: 'failed', reason: 'boom' },
    ],
  };
  const file = path.join(dir, 'v1.json');
  fs.writeFileSync(file, JSON.stringify(v1));
  const r = readReport(file);
  t.is(r.schemaVersion, SCHEMA_VERSION);
  t.deepEqual(r.skipped, [
    { model: 'a1-int8', backend: 'tfjs-tflite', cause: 'missing', reason: v1.skipped[0]!.reason },
  ]);
  t.deepEqual(r.failed, [{ model: 'a0-int8', backend: 'litert', error: 'boom' }]);
  const c = compareReports(r, readReport(file));
  t.is(c.regressions, 0);
  t.deepEqual(
    c.rows.map((x) => `${x.model} ${x.backend} ${x.metric} ${x.verdict}`),
    // One process a side: no rank test can reach alpha, so compare says so instead of guessing.
    ['a0-int8 onnxruntime p50 ms inconclusive', 'a0-int8 onnxruntime p90 ms inconclusive'],
  );
});
