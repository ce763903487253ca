import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { allowedCpus, GATE, parseCpuList } from '../src/util/start-gate.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { cli, CLI_MAIN, isOneLineError, waitFor, tempDir } from './helpers.js';

const tmp = tempDir('movinet-duet-');
const twoCpus = (allowedCpus() ?? []).length >= 2;

/* Whole ab --mode duet runs own both cores on purpose: they are in test/services/duet.test.ts. */

test('cpu lists parse as the kernel writes them', (t) => {
  t.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  t.deepEqual(parseCpuList('3'), [3]);
  t.deepEqual(allowedCpus('/nonexistent/status'), null);
  t.true((allowedCpus() ?? []).length >= 1);
});

test.serial(
  'bench --start-signal waits after warm-up for go, measures, keeps stepping until stop, then reports',
  async (t) => {
    const out = path.join(tmp, 'gated.json');
    const gated = spawn(
      process.execPath,
      [
        CLI_MAIN,
        'bench',
        ...['--models', 'a0', '--backends', 'onnxruntime', '--frames', '10', '--warmup', '2'],
        ...['--no-roofline', '--no-overhead', '--start-signal', '--json', '--out', out],
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let said = '';
    gated.stderr.on('data', (d: Buffer) => (said += d.toString()));
    const closed = new Promise<number | null>((r) => gated.on('close', r));
    t.true(await waitFor(() => said.includes(GATE.ready), 60_000), said);
    // Ready but not told to go: it must neither measure nor finish.
    await new Promise((r) => setTimeout(r, 1500));
    t.false(said.includes(GATE.measured));
    t.false(fs.existsSync(out));
    gated.stdin.write(`${GATE.go}\n`);
    t.true(await waitFor(() => said.includes(GATE.measured), 60_000), said);
    // Measured, and still stepping for the partner: no report until stop.
    await new Promise((r) => setTimeout(r, 500));
    t.false(fs.existsSync(out));
    gated.stdin.end(`${GATE.stop}\n`);
    t.is(await closed, 0, said);
    const r = readReport(out) as BenchReport;
    const proc = r.results[0]!.processes[0]!;
    t.is(proc.samples, 10);
    t.deepEqual(proc.cpus, allowedCpus()!);
  },
);

test('bench --start-signal is refused with several processes or in Chromium', (t) => {
  for (const extra of [
    ['--processes', '2'],
    ['--target', 'chromium'],
  ]) {
    const r = cli(['bench', '--start-signal', ...extra, '--out', path.join(tmp, 'refused.json')]);
    t.is(r.code, 2);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, /--start-signal/);
  }
});

/** A built movinet-bench whose bench predates duet mode: its help lists no --start-signal. */
function oldBaseline(): string {
  const dir = path.join(tmp, 'old-build');
  fs.mkdirSync(path.join(dir, 'dist', 'src', 'cli'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'dist', 'src', 'cli', 'main.js'),
    "console.log('Usage: movinet-bench bench [options]\\n  --models <ids>\\n  --no-roofline');\n",
  );
  return dir;
}

test.serial('ab --mode duet refuses in one line what cannot take part: too few CPUs, an older baseline', (t) => {
  const outDir = path.join(tmp, 'refused-ab');
  // One CPU allowed: the two sides cannot have one each.
  const first = String(allowedCpus()![0]);
  const one = spawnSync(
    'taskset',
    ['-c', first, process.execPath, CLI_MAIN, 'ab', '--baseline', PROJECT_ROOT, '--mode', 'duet', '--out-dir', outDir],
    {
      encoding: 'utf8',
    },
  );
  t.is(one.status, 2);
  t.true(isOneLineError(one.stderr), one.stderr);
  t.regex(one.stderr, new RegExp(`needs 2 CPUs, 1 per side; this process may use 1 \\(${first}\\)`));
  const n = allowedCpus()!.length;
  const threads = cli([
    'ab',
    '--baseline',
    PROJECT_ROOT,
    '--mode',
    'duet',
    '--threads',
    String(n),
    '--out-dir',
    outDir,
  ]);
  t.is(threads.code, 2);
  t.regex(threads.stderr, new RegExp(`--threads ${n} needs ${2 * n} CPUs`));
  const odd = cli(['ab', '--baseline', PROJECT_ROOT, '--mode', 'duet', '--processes', '9', '--out-dir', outDir]);
  t.is(odd.code, 2);
  t.regex(odd.stderr, /needs even counts/);
  if (twoCpus) {
    const old = cli(['ab', '--baseline', oldBaseline(), '--mode', 'duet', '--out-dir', outDir]);
    t.is(old.code, 2);
    t.true(isOneLineError(old.stderr), old.stderr);
    t.regex(old.stderr, /cannot take part in a duet: its bench has no --start-signal/);
  } else t.fail('the older-baseline refusal needs 2 CPUs to be reached');
  t.false(fs.existsSync(path.join(outDir, 'comparison.md')));
});
