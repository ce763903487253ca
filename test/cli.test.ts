import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { latencyStats } from '../src/metrics/stats.js';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { A0_FILE, ARM_WRESTLING, cli, isOneLineError } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-cli-'));

test('unknown model id: one-line error, exit 2', (t) => {
  const r = cli(['classify', ARM_WRESTLING, '--model', 'a9']);
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /unknown model 'a9'; known ids: a0-int8, a0/);
});

test('missing model file: one-line error naming the file and where it looked, exit 2', (t) => {
  const r = cli(['classify', ARM_WRESTLING, '--model', 'a1']);
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /movinet_a1_stream_k600_int8\.tflite not found \(looked in .*models/);
});

test('corrupt model given by path: one-line error, exit 2', (t) => {
  const bad = path.join(tmp, 'corrupt.tflite');
  fs.writeFileSync(bad, Buffer.from('this is not a flatbuffer at all'));
  const r = cli(['classify', ARM_WRESTLING, '--model', bad]);
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /not a TFLite flatbuffer/);
});

test('truncated model in the data dir: sha256 mismatch, one-line error, exit 2', (t) => {
  const dir = path.join(tmp, 'data');
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models', path.basename(A0_FILE)), fs.readFileSync(A0_FILE).subarray(0, 100_000));
  const r = cli(['classify', ARM_WRESTLING, '--model', 'a0'], { MOVINET_DATA_DIR: dir });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /has sha256 .* expected 6125b36e2485/);
});

test('bad thread count, undecodable and empty videos, unwritable output: one-line errors, exit 2', (t) => {
  const cases: [string[], RegExp][] = [
    [['bench', '--threads', '0'], /--threads must be an integer from 1/],
    [['bench', '--threads', '2', '--backends', 'litert'], /runs on at most 1 thread/],
    [['classify', path.join(tmp, 'nope.mp4')], /does not exist/],
    [['classify', writeFile('empty.mp4', '')], /is empty/],
    [['classify', writeFile('text.mp4', 'hello')], /cannot decode video/],
    [['bench', '--frames', '2', '--out', '/proc/nope/report.json'], /cannot write output/],
    [['bench', '--backends', 'tensorrt'], /unknown backend 'tensorrt'/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    t.is(r.code, 2, args.join(' '));
    t.true(isOneLineError(r.stderr), `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message);
  }
});

function writeFile(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

test('bench a0,a1,a2 --skip-missing: a0 on both backends, a1/a2 skipped with the reason, report validates', (t) => {
  const out = path.join(tmp, 'bench.json');
  const r = cli([
    'bench',
    '--models',
    'a0,a1,a2',
    '--backends',
    'tfjs-tflite,litert',
    '--threads',
    '1',
    '--frames',
    '20',
    '--warmup',
    '3',
    '--skip-missing',
    '--out',
    out,
  ]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /a0-int8 .*tfjs-tflite/);
  t.regex(r.stdout, /a0-int8 .*litert/);
  t.regex(
    r.stdout,
    /skipped a1-int8 \(tfjs-tflite, litert\): model a1-int8: file movinet_a1_stream_k600_int8\.tflite not found/,
  );
  const report = readReport(out);
  t.is(report.kind, 'bench');
  if (report.kind !== 'bench') return;
  t.deepEqual(
    report.results.map((x) => x.backend),
    ['tfjs-tflite', 'litert'],
  );
  t.is(report.results[0]!.samplesMs.length, 20);
  t.is(report.results[0]!.model.sha256, '6125b36e2485eeb5cc1fd6206cf5e5d70235593fbc84610d1dce97fe3aa9c2ac');
  t.is(report.skipped.length, 4);
  t.true(report.results.every((x) => x.overhead !== null && x.runtime.threads.requested === 1));
  // Without --skip-missing the same run exits 2.
  const strict = cli([
    'bench',
    '--models',
    'a0,a1',
    '--backends',
    'tfjs-tflite',
    '--frames',
    '5',
    '--warmup',
    '0',
    '--no-overhead',
    '--out',
    path.join(tmp, 'b2.json'),
  ]);
  t.is(strict.code, 2);
});

test('--json prints only the report on stdout, parseable and complete', (t) => {
  const r = cli([
    'bench',
    '--models',
    'a0',
    '--backends',
    'tfjs-tflite',
    '--frames',
    '5',
    '--warmup',
    '1',
    '--no-overhead',
    '--json',
    '--out',
    path.join(tmp, 'j.json'),
  ]);
  t.is(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { kind: string; results: unknown[] };
  t.is(parsed.kind, 'bench');
  t.is(parsed.results.length, 1);
});

test('compare exits 1 when a pair disappeared or slowed down, 0 against itself', (t) => {
  const base = path.join(tmp, 'bench.json');
  if (!fs.existsSync(base)) cli(['bench', '--models', 'a0', '--frames', '20', '--warmup', '3', '--out', base]);
  const same = cli(['compare', base, base]);
  t.is(same.code, 0, same.stdout + same.stderr);
  t.regex(same.stdout, /no regression/);
  const report = readReport(base) as BenchReport;
  const slower = structuredClone(report);
  // Every sample 1.5x slower, and the statistics recomputed from them so the report stays consistent.
  const first = slower.results[0]!;
  first.samplesMs = first.samplesMs.map((v) => v * 1.5);
  first.stats = latencyStats(first.samplesMs, slower.config.percentiles);
  slower.results.pop();
  const file = path.join(tmp, 'slower.json');
  fs.writeFileSync(file, JSON.stringify(slower));
  const r = cli(['compare', base, file]);
  t.is(r.code, 1, r.stdout);
  t.regex(r.stdout, /regression/);
  t.regex(r.stdout, /missing/);
});

test('report writes a self-contained HTML page from reports', (t) => {
  const base = path.join(tmp, 'bench.json');
  if (!fs.existsSync(base)) cli(['bench', '--models', 'a0', '--frames', '20', '--warmup', '3', '--out', base]);
  const html = path.join(tmp, 'summary.html');
  const r = cli(['report', base, '--out', html]);
  t.is(r.code, 0, r.stderr);
  const page = fs.readFileSync(html, 'utf8');
  t.regex(page, /<svg /);
  t.notRegex(page, /<script|src="http/);
  t.regex(page, /Pixel 4 ms/);
});

test('suite runs its steps in their own processes into one folder with an HTML summary', (t) => {
  const file = path.join(tmp, 'tiny.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      description: 'tiny',
      steps: [
        {
          name: 'b',
          command: 'bench',
          args: ['--models', 'a0', '--backends', 'tfjs-tflite', '--frames', '5', '--warmup', '1', '--no-overhead'],
        },
      ],
    }),
  );
  const dir = path.join(tmp, 'suite');
  const r = cli(['suite', file, '--out-dir', dir, '--json']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(fs.readdirSync(dir).sort(), ['b.json', 'summary.html']);
  t.is(readReport(path.join(dir, 'b.json')).kind, 'bench');
  const unknown = cli(['suite', 'nope']);
  t.is(unknown.code, 2);
  t.true(isOneLineError(unknown.stderr), unknown.stderr);
  t.regex(unknown.stderr, /unknown suite 'nope'; known: latency, smoke/);
});
