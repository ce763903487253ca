import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { latencyStats, medianInterval } from '../src/metrics/stats.js';
import type { BenchResult } from '../src/core/results.js';
import type { Comparison } from '../src/report/compare.js';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { A0_FILE, ARM_WRESTLING, cli, isOneLineError, tempDir } from './helpers.js';

const tmp = tempDir('movinet-cli-');

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
    'tfjs-tflite,onnxruntime',
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
  t.regex(r.stdout, /a0-int8 .*onnxruntime/);
  t.regex(
    r.stdout,
    /skipped a1-int8 \(tfjs-tflite, onnxruntime\): model a1-int8: file movinet_a1_stream_k600_int8\.tflite not found/,
  );
  const report = readReport(out);
  t.is(report.kind, 'bench');
  if (report.kind !== 'bench') return;
  t.deepEqual(
    report.results.map((x) => x.backend),
    ['tfjs-tflite', 'onnxruntime'],
  );
  t.is(report.results[0]!.samplesMs.length, 20);
  t.is(report.results[0]!.model.sha256, '6125b36e2485eeb5cc1fd6206cf5e5d70235593fbc84610d1dce97fe3aa9c2ac');
  t.is(report.skipped.length, 4);
  t.true(report.results.every((x) => x.overhead !== null && x.runtime.threads.requested === 1));
  // Each row beside its runtime's probed int8 peak: the achieved rate is the graph's MACs over the row's p50.
  for (const x of report.results) {
    const roof = x.roofline!;
    t.is(roof.probe.runtime, x.backend);
    t.is(roof.dtype, 'int8');
    t.is(roof.peakGmacPerS, roof.probe.int8GmacPerS);
    t.is(roof.achievedGmacPerS, roof.macsPerFrame / (x.stats.p50 * 1e6));
    t.is(roof.fractionOfPeak, roof.achievedGmacPerS / roof.peakGmacPerS);
  }
  t.regex(r.stdout, /roofline a0-int8 onnxruntime: [\d.]+ GMAC\/s at p50 = \d+% of the int8 probe [\d.]+ GMAC\/s/);
  // Without --skip-missing the same run exits 2.
  const strict = cli([
    'bench',
    '--models',
    'a0,a1',
    '--backends',
    'onnxruntime',
    '--frames',
    '5',
    '--warmup',
    '0',
    '--no-overhead',
    '--no-roofline',
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
    'onnxruntime',
    '--frames',
    '5',
    '--warmup',
    '1',
    '--no-overhead',
    '--no-roofline',
    '--json',
    '--out',
    path.join(tmp, 'j.json'),
  ]);
  t.is(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { kind: string; results: unknown[] };
  t.is(parsed.kind, 'bench');
  t.is(parsed.results.length, 1);
});

/** The same result with every process's frames `factor` times slower, every statistic recomputed from them. */
function slowed(result: BenchResult, factor: number, percentiles: number[]): BenchResult {
  let at = 0;
  const processes = result.processes.map((p) => {
    const frames = result.samplesMs.slice(at, (at += p.samples)).map((v) => v * factor);
    const s = latencyStats(frames, percentiles);
    return { ...p, id: `${p.id}-slowed`, p50Ms: s.p50, p90Ms: s.p90, percentiles: s.percentiles };
  });
  const samplesMs = result.samplesMs.map((v) => v * factor);
  const ci = result.processMedianCI;
  return {
    ...result,
    samplesMs,
    processes,
    stats: latencyStats(samplesMs, percentiles),
    processMedianCI: ci && { ...ci, low: ci.low * factor, high: ci.high * factor },
  };
}

/** The same result with fixed frame times: process k's frames cycle through 10 + k/10 ms and a little above. */
function withFixedTimes(result: BenchResult, percentiles: number[]): BenchResult {
  const frames = result.processes.map((p, k) =>
    Array.from({ length: p.samples }, (_, i) => 10 + k / 10 + (i % 5) / 100),
  );
  const processes = result.processes.map((p, k) => {
    const s = latencyStats(frames[k]!, percentiles);
    return { ...p, p50Ms: s.p50, p90Ms: s.p90, percentiles: s.percentiles };
  });
  const samplesMs = frames.flat();
  return {
    ...result,
    samplesMs,
    processes,
    stats: latencyStats(samplesMs, percentiles),
    processMedianCI: medianInterval(processes.map((p) => p.p50Ms)),
  };
}

test('compare tests process-level values: a slower pair is a regression, a vanished one too, itself is not', (t) => {
  const base = path.join(tmp, 'bench5.json');
  const run = cli([
    'bench',
    '--models',
    'a0',
    '--backends',
    'onnxruntime',
    '--frames',
    '10',
    '--warmup',
    '2',
    '--processes',
    '5',
    '--no-overhead',
    '--no-roofline',
    '--out',
    base,
  ]);
  t.is(run.code, 0, run.stderr);
  const report = readReport(base) as BenchReport;
  t.deepEqual(
    report.results.map((r) => r.processes.length),
    [5],
  );
  t.true(report.results.every((r) => r.processMedianCI !== null && r.processMedianCI.level > 0.9));
  const same = cli(['compare', base, base]);
  t.is(same.code, 0, same.stdout + same.stderr);
  t.regex(same.stdout, /no regression/);
  // The verdicts below are the comparison's, not the machine's: the real report's frame times are replaced by
  // fixed ones (processes a tenth of a ms apart), then slowed by half, entirely above the old ones. A second pair,
  // the same figures under another backend's name, is the one that vanishes.
  const fixedReport = structuredClone(report);
  const fixed = withFixedTimes(report.results[0]!, fixedReport.config.percentiles);
  fixedReport.results = [fixed, { ...fixed, backend: 'onnxruntime-exact' }];
  const fixedBase = path.join(tmp, 'bench5-fixed.json');
  fs.writeFileSync(fixedBase, JSON.stringify(fixedReport));
  const slower = structuredClone(fixedReport);
  slower.results[0] = slowed(slower.results[0]!, 1.5, slower.config.percentiles);
  slower.results.pop();
  const file = path.join(tmp, 'slower.json');
  fs.writeFileSync(file, JSON.stringify(slower));
  const r = cli(['compare', fixedBase, file, '--json']);
  t.is(r.code, 1, r.stderr);
  const c = JSON.parse(r.stdout) as Comparison;
  const p50 = c.rows.find((x) => x.backend === 'onnxruntime' && x.metric === 'p50 ms')!;
  t.is(p50.verdict, 'regression');
  t.is(p50.pValue, 2 / 252, 'five processes a side, all slower: the exact Mann-Whitney extreme');
  t.true(c.rows.some((x) => x.backend === 'onnxruntime-exact' && x.verdict === 'missing'));
  // Under a threshold above the slow-down it is no regression; a per-metric threshold applies to its metric only.
  const lenient = cli(['compare', fixedBase, file, '--threshold', 'p50=60', '--json']);
  t.is(lenient.code, 1, lenient.stderr);
  const verdicts = (JSON.parse(lenient.stdout) as Comparison).rows
    .filter((x) => x.backend === 'onnxruntime')
    .map((x) => `${x.metric} ${x.verdict}`);
  t.deepEqual(verdicts, ['p50 ms unchanged', 'p90 ms regression']);
  const md = cli(['compare', fixedBase, file, '--format', 'md']);
  t.regex(md.stdout, /^\| machine \| model \| backend \| metric/m);
  // "Unchanged" never hides "could not tell": the smallest slow-down each row's test could catch.
  t.regex(md.stdout, /^- smallest slow-down this run could detect .*a0-int8 onnxruntime p50 (\+\d+\.\d%|over \+200%)/m);
  // Both metrics of the slowed pair, and the vanished pair.
  t.regex(md.stdout, /\*\*3 regression\(s\)\*\*/);
});

test('compare warns when settings differ and fails on it under --strict', (t) => {
  const a = path.join(tmp, 'set-a.json');
  const b = path.join(tmp, 'set-b.json');
  t.is(
    cli([
      'bench',
      '--models',
      'a0',
      '--backends',
      'onnxruntime',
      '--frames',
      '10',
      '--warmup',
      '2',
      '--no-overhead',
      '--no-roofline',
      '--out',
      a,
    ]).code,
    0,
  );
  t.is(
    cli([
      'bench',
      '--models',
      'a0',
      '--backends',
      'onnxruntime',
      '--frames',
      '12',
      '--warmup',
      '2',
      '--no-overhead',
      '--no-roofline',
      '--out',
      b,
    ]).code,
    0,
  );
  const plain = cli(['compare', a, b]);
  t.is(plain.code, 0, plain.stdout);
  t.regex(plain.stdout, /settings differ: frames differs: 10 vs 12/);
  t.regex(plain.stdout, /inconclusive/, 'one process a side cannot be tested');
  const strict = cli(['compare', a, b, '--strict']);
  t.is(strict.code, 1);
  t.regex(strict.stderr, /--strict: the reports were made with different settings/);
});

test('bench tables fit 100 columns; --wide and md/csv exports carry every column', (t) => {
  const base = path.join(tmp, 'bench5.json');
  const text = cli(['report', base, '--out', path.join(tmp, 'w.html')]);
  t.is(text.code, 0, text.stderr);
  const tableLines = text.stdout.split('\n').filter((l) => /^a0-int8|^model/.test(l));
  t.true(tableLines.length >= 2);
  t.true(
    tableLines.every((l) => l.length <= 100),
    tableLines.join('\n'),
  );
  t.regex(text.stdout, /reference a0-int8 \(source page.*Pixel 4 5 ms/);
  const wide = cli(['report', base, '--wide', '--out', path.join(tmp, 'w.html')]);
  t.regex(wide.stdout, /Pixel 4 ms/);
  const csv = cli(['report', base, '--format', 'csv', '--out', path.join(tmp, 'w.html')]);
  const rows = csv.stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes(','));
  t.regex(rows[0]!, /^machine,model,backend,thr,procs,load ms/);
  t.is(rows.length, 2, 'the header and the one pair');
  const md = cli(['report', base, '--format', 'md', '--out', path.join(tmp, 'w.html')]);
  t.regex(md.stdout, /^\| machine \| model \| backend \|/m);
});

test('--percentiles shows exactly the percentiles asked for', (t) => {
  const out = path.join(tmp, 'pct.json');
  const r = cli([
    'bench',
    '--models',
    'a0',
    '--backends',
    'onnxruntime',
    '--frames',
    '20',
    '--warmup',
    '2',
    '--no-overhead',
    '--no-roofline',
    '--percentiles',
    '50,75,99.9',
    '--out',
    out,
  ]);
  t.is(r.code, 0, r.stderr);
  const head = r.stdout.split('\n').find((l) => l.startsWith('model'))!;
  t.regex(head, /p50 ms\s+p75 ms\s+p99\.9 ms/);
  t.notRegex(head, /p90|p95|p99 ms/);
});

test('reports merge combines bench reports of separate processes and refuses a process counted twice', (t) => {
  const a = path.join(tmp, 'm-ort.json');
  const b = path.join(tmp, 'm-tfl.json');
  const flags = ['--models', 'a0', '--frames', '10', '--warmup', '2', '--no-overhead', '--no-roofline'];
  t.is(cli(['bench', ...flags, '--backends', 'onnxruntime', '--out', a]).code, 0);
  t.is(cli(['bench', ...flags, '--backends', 'tfjs-tflite', '--out', b]).code, 0);
  const out = path.join(tmp, 'm-all.json');
  const r = cli(['reports', 'merge', a, b, '--out', out]);
  t.is(r.code, 0, r.stderr);
  const merged = readReport(out) as BenchReport;
  t.deepEqual(merged.results.map((x) => x.backend).sort(), ['onnxruntime', 'tfjs-tflite']);
  const twice = cli(['reports', 'merge', a, a, '--out', path.join(tmp, 'm-twice.json')]);
  t.is(twice.code, 2);
  t.true(isOneLineError(twice.stderr), twice.stderr);
  t.regex(twice.stderr, /given twice/);
  t.false(fs.existsSync(path.join(tmp, 'm-twice.json')));
});

test('report writes a self-contained HTML page from reports', (t) => {
  const base = path.join(tmp, 'bench.json');
  if (!fs.existsSync(base)) cli(['bench', '--models', 'a0', '--frames', '20', '--warmup', '3', '--out', base]);
  const html = path.join(tmp, 'summary.html');
  const r = cli(['report', base, '--out', html]);
  t.is(r.code, 0, r.stderr);
  const page = fs.readFileSync(html, 'utf8');
  t.regex(page, /<svg /);
  t.notRegex(page, /<script(?![^>]*type="application\/json")|src="http/, 'no executed script, no external asset');
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
          args: [
            '--models',
            'a0',
            '--backends',
            'onnxruntime',
            '--frames',
            '5',
            '--warmup',
            '1',
            '--no-overhead',
            '--no-roofline',
          ],
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
  t.regex(unknown.stderr, /unknown suite 'nope'; known: latency, live, smoke/);
});
