import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { cli, isOneLineError, tempDir } from './helpers.js';

const tmp = tempDir('movinet-arch-cli-');

test.serial('a1-arch and a2-arch are benchmarked on every runtime, marked architecture only', (t) => {
  const out = path.join(tmp, 'bench.json');
  const r = cli([
    'bench',
    '--models',
    'a1-arch,a2-arch',
    '--backends',
    'tfjs-tflite,litert,onnxruntime',
    '--frames',
    '5',
    '--warmup',
    '1',
    '--no-overhead',
    '--no-roofline',
    '--out',
    out,
  ]);
  t.is(r.code, 0, r.stderr);
  const report = readReport(out) as BenchReport;
  t.deepEqual(
    report.results.map((x) => `${x.model.id} ${x.backend} ${x.model.resolution}`),
    [
      'a1-arch tfjs-tflite 172',
      'a1-arch litert 172',
      'a1-arch onnxruntime 172',
      'a2-arch tfjs-tflite 224',
      'a2-arch litert 224',
      'a2-arch onnxruntime 224',
    ],
  );
  t.true(report.results.every((x) => /architecture only: generated weights, latency only/.test(x.model.note ?? '')));
  t.regex(r.stdout, /note a1-arch: architecture only.*assumption/);
});

test.serial('accuracy and classify refuse architecture-only models in one line', (t) => {
  for (const args of [
    ['accuracy', '--subset', 'kinetics-sample', '--models', 'a1-arch'],
    ['classify', path.join(tmp, 'x.mp4'), '--model', 'a2-arch'],
  ]) {
    fs.writeFileSync(path.join(tmp, 'x.mp4'), 'x');
    const r = cli(args);
    t.is(r.code, 2, r.stderr);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, /architecture only \(generated weights\)/);
  }
});

test.serial('a missing A1 file points at a1-arch; models build reports the pinned build', (t) => {
  const r = cli(['bench', '--models', 'a1', '--backends', 'onnxruntime', '--frames', '3', '--offline']);
  t.is(r.code, 2);
  t.regex(r.stderr, /'a1-arch' \(architecture only: generated weights\)/);
  const b = cli(['models', 'build', 'a2-arch', '--json']);
  t.is(b.code, 0, b.stderr);
  t.is(
    (JSON.parse(b.stdout) as { sha256: string }).sha256,
    '9d9e6fc5b51fc8b021456c0465556102837b7d986c0d598cc177ec117d90aeed',
  );
});
