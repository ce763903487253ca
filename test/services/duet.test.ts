import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchTable, comparisonTable } from '../../src/report/table.js';
import { readReport, type BenchReport } from '../../src/report/schema.js';
import { compareReports, DEFAULT_COMPARE, type Comparison } from '../../src/report/compare.js';
import { allowedCpus, parseCpuList } from '../../src/util/start-gate.js';
import { PROJECT_ROOT } from '../../src/util/paths.js';
import { cli, CLI_MAIN, isOneLineError, pidsNaming, waitFor, tempDir } from '../helpers.js';

/*
 * Whole ab --mode duet runs: each pair owns both cores on purpose, one side pinned to each, so they run here, in
 * `npm run test:services`, one file at a time, and not beside the other test files. What duet refuses, and the
 * start gate each side runs, are tested in test/duet.test.ts.
 */
const tmp = tempDir('movinet-duet-');
const twoCpus = (allowedCpus() ?? []).length >= 2;
/**
 * ab's own temporary folder, where its bench processes write: their command lines name it, so the processes counted
 * here are this file's, not those of another test running ab beside it.
 */
const abTmp = fs.mkdtempSync(path.join(tmp, 'ab-work-'));
const ownBenches = () => pidsNaming(abTmp, '--start-signal');

/** The kernel's SMT siblings of a CPU (itself included), read here apart from src/run/duet.ts. */
function siblings(cpu: number): number[] {
  try {
    return parseCpuList(
      fs.readFileSync(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`, 'utf8').trim(),
    );
  } catch {
    return [cpu];
  }
}

/** The allowed CPUs in the order duet must take them: every core's first hardware thread before any second one. */
function byCoreExpected(cpus: readonly number[]): number[] {
  const rank = (cpu: number) => Math.max(0, siblings(cpu).indexOf(cpu));
  return [...cpus].sort((a, b) => rank(a) - rank(b) || a - b);
}

test.serial(
  'ab --mode duet: pairs run at once on their own CPUs, swapped pair by pair; rows say only ratios count',
  async (t) => {
    if (!twoCpus) return t.fail('this check needs 2 CPUs');
    const outDir = path.join(tmp, 'duet');
    const args = [
      'ab',
      '--baseline',
      PROJECT_ROOT,
      '--mode',
      'duet',
      '--processes',
      '2',
      '--frames',
      '20',
      '--warmup',
      '2',
    ];
    const r = cli([...args, '--backends', 'tfjs-tflite,onnxruntime', '--out-dir', outDir, '--json'], {
      TMPDIR: abTmp,
    });
    t.is(r.code, 0, r.stderr);
    const base = readReport(path.join(outDir, 'baseline.json')) as BenchReport;
    const cand = readReport(path.join(outDir, 'candidate.json')) as BenchReport;
    // The first two CPUs by physical core: the baseline's first pair on the first, the candidate's on the
    // second, swapped for the second pair. Where the machine has two cores, never SMT siblings of one core.
    const cpus = byCoreExpected(allowedCpus()!);
    const cores = new Set(allowedCpus()!.map((cpu) => Math.min(...siblings(cpu))));
    if (cores.size >= 2) t.false(siblings(cpus[0]!).includes(cpus[1]!), `CPUs ${cpus[0]} and ${cpus[1]} share a core`);
    t.deepEqual(
      [base, cand].map((x) => x.results.map((row) => row.backend)),
      [
        ['tfjs-tflite', 'onnxruntime'],
        ['tfjs-tflite', 'onnxruntime'],
      ],
    );
    for (const backend of ['tfjs-tflite', 'onnxruntime']) {
      const [b, c] = [base, cand].map((x) => x.results.find((row) => row.backend === backend)!);
      t.deepEqual(
        b!.processes.map((p) => p.cpus),
        [[cpus[0]], [cpus[1]]],
        backend,
      );
      t.deepEqual(
        c!.processes.map((p) => p.cpus),
        [[cpus[1]], [cpus[0]]],
        backend,
      );
      // Each side names the other build as its partner.
      t.deepEqual(b!.duet, { partner: 'this checkout' });
      t.deepEqual(c!.duet, { partner: path.resolve(PROJECT_ROOT) });
    }
    t.regex(
      benchTable(cand),
      /duet: every process ran at the same time as one of .*only the A\/B ratios are meant to be read/,
    );
    t.regex(cand.command, /--mode duet/);
    // ab judged the pairs with the paired test, on the two pairs of every backend and metric.
    const printed = JSON.parse(r.stdout) as Comparison;
    t.deepEqual(
      printed.rows.map((row) => [row.backend, row.metric, row.test]),
      ['tfjs-tflite', 'onnxruntime'].flatMap((backend) =>
        ['p50 ms', 'p90 ms'].map((metric) => [backend, metric, 'Wilcoxon signed-rank, 2 pairs']),
      ),
    );
    // The reports it wrote give the same pairs again.
    const comparison = compareReports(base, cand, { ...DEFAULT_COMPARE, paired: true });
    t.deepEqual(
      comparison.rows.map((row) => [row.backend, row.metric, row.test, row.old, row.new]),
      printed.rows.map((row) => [row.backend, row.metric, row.test, row.old, row.new]),
    );
    t.regex(comparisonTable(comparison), /p50 ms/);
    // No child left behind.
    t.deepEqual(ownBenches(), []);
  },
);

test.serial('ab --mode duet stopped by SIGTERM mid-pair ends both sides and writes no verdict', async (t) => {
  if (!twoCpus) return t.fail('this check needs 2 CPUs');
  const outDir = path.join(tmp, 'stopped');
  const ab = spawn(
    process.execPath,
    [
      CLI_MAIN,
      'ab',
      '--baseline',
      PROJECT_ROOT,
      '--mode',
      'duet',
      '--backends',
      'tfjs-tflite',
      '--processes',
      '2',
      '--out-dir',
      outDir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: abTmp } },
  );
  let err = '';
  ab.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => ab.on('close', r));
  // Both sides of the first pair started (their frames may still be loading or measuring).
  t.true(await waitFor(() => ownBenches().length === 2, 60_000));
  ab.kill('SIGTERM');
  t.is(await closed, 143, err);
  t.true(isOneLineError(err), err);
  t.regex(err, /ab stopped by SIGTERM/);
  t.true(await waitFor(() => ownBenches().length === 0, 10_000));
  t.false(fs.existsSync(path.join(outDir, 'comparison.md')));
});
