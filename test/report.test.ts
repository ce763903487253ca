import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { benchOne } from '../src/bench/run.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { resolveModel } from '../src/models/resolve.js';
import { reportHeader } from '../src/run/environment.js';
import { readReport, writeReport, type BenchReport } from '../src/report/schema.js';

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
      warmup: 2,
      repeats: 2,
      input: 'synthetic',
      percentiles: [50, 90, 99],
    },
    results: [result],
    skipped: [{ model: 'a1-int8', backend: 'tfjs-tflite', cause: 'missing', reason: 'missing' }],
    failed: [],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-report-'));
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
