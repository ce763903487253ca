import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareReports, type Comparison, type CompareOptions } from '../report/compare.js';
import { mergeBenchReports } from '../report/merge.js';
import { readReport, writeReport, type BenchReport } from '../report/schema.js';
import { removeQuietly } from '../util/atomic-write.js';
import { runChild, signalExitCode } from '../util/child.js';
import { UserError } from '../util/errors.js';
import { duetCpus, runDuetPair, type DuetSide } from './duet.js';
import type { Progress } from '../util/progress.js';

export interface AbRequest {
  /** A checkout or installed package of movinet-bench with a built CLI. */
  baseline: string;
  /** This checkout's CLI. */
  candidate: string;
  models: string[];
  backends: string[];
  threads: number;
  frames: number;
  warmup: number;
  /** Pairs: processes per side (and per backend in a duet); each pair is one process of each side. */
  processes: number;
  /** More (or fewer) pairs for the backends named: a short step is noisier from process to process. */
  processesFor: Readonly<Record<string, number>>;
  mode: AbMode;
  outDir: string;
  compare: CompareOptions;
  /** Self-test only: slow the candidate's steps by this fraction. */
  selfTestSlowdown: number;
  progress: Progress;
}

export interface AbOutcome {
  comparison: Comparison;
  baseline: string;
  candidate: string;
}

/** The built CLI of a checkout (dist/src/cli/main.js) or of an installed package. */
export function cliOf(dir: string): string {
  const main = path.join(path.resolve(dir), 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(main)) throw new UserError(`baseline ${dir} has no built CLI (${main}); run npm ci there first`);
  return main;
}

/** The flags a version's `bench` knows, as its --help lists them (one process start per build). */
function benchHelp(cli: string): string {
  return spawnSync(process.execPath, [cli, 'bench', '--help'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
}

/** How the two builds share the machine: one process at a time, or both at once on their own cores. */
export const AB_MODES = ['interleaved', 'duet'] as const;
export type AbMode = (typeof AB_MODES)[number];

type Side = 'baseline' | 'candidate';

/** One process of one side: the bench arguments it needs and where its report goes. */
interface Job {
  side: Side;
  args: string[];
  out: string;
}

/**
 * An A/B run. Interleaved: baseline and candidate `bench` processes alternate one at a time (who goes
 * first alternates too), so a slow minute of a shared machine lands on both sides. Duet: each pair is
 * one backend's baseline and candidate processes at the same time, pinned to their own CPUs (swapped
 * from pair to pair), so both meet the same interference and their ratio cancels it. Each side's
 * processes become one report, and the two are compared on paired differences. Only flags every
 * version of `bench` understands are passed, so an older baseline runs too (interleaved).
 */
export async function runAb(req: AbRequest): Promise<AbOutcome> {
  const baseCli = cliOf(req.baseline);
  const cpus = req.mode === 'duet' ? duetCpus(req.threads) : null;
  const help = { baseline: benchHelp(baseCli), candidate: benchHelp(req.candidate) };
  if (cpus && !help.baseline.includes('--start-signal'))
    throw new UserError(
      `baseline ${req.baseline} cannot take part in a duet: its bench has no --start-signal (it predates --mode duet); use --mode interleaved`,
    );
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-ab-'));
  // The roofline probe is not compared and costs seconds a process; a version that knows it is told to skip it.
  const flags = (side: Side) => [
    ...(help[side].includes('--no-roofline') ? ['--no-roofline'] : []),
    ...(cpus ? ['--start-signal'] : []),
  ];
  const sides = {
    baseline: { cli: baseCli, files: [] as string[], flags: flags('baseline') },
    candidate: { cli: req.candidate, files: [] as string[], flags: flags('candidate') },
  };
  const job = (side: Side, k: number, models: readonly string[], backends: readonly string[]): Job => {
    const out = path.join(work, `${side}-${k}-${sides[side].files.length}.json`);
    const slow =
      side === 'candidate' && req.selfTestSlowdown ? ['--self-test-slowdown', String(req.selfTestSlowdown)] : [];
    return {
      side,
      out,
      args: [
        sides[side].cli,
        'bench',
        ...['--models', models.join(','), '--backends', backends.join(',')],
        ...['--threads', String(req.threads), '--frames', String(req.frames), '--warmup', String(req.warmup)],
        ...['--no-overhead', '--skip-missing', '--json'],
        ...sides[side].flags,
        ...slow,
        ...['--out', out],
      ],
    };
  };
  const done = (j: Job) => {
    if (!fs.existsSync(j.out)) throw new UserError(`${j.side} process wrote no report`, 1);
    sides[j.side].files.push(j.out);
  };
  const pairsOf = (backend: string) => req.processesFor[backend] ?? req.processes;
  const rounds = Math.max(...req.backends.map(pairsOf));
  // Round k: every backend that still wants a k-th pair; a duet pair is one model and one backend.
  const unitsOf = (k: number) => {
    const backends = req.backends.filter((b) => pairsOf(b) > k);
    if (!cpus) return backends.length ? [{ models: req.models, backends }] : [];
    return req.models.flatMap((m) => backends.map((b) => ({ models: [m], backends: [b] })));
  };
  const total = Array.from({ length: rounds }, (_, k) => unitsOf(k).length).reduce((a, b) => a + b, 0);
  req.progress.start(total, cpus ? 'A/B duet pairs' : 'A/B processes');
  try {
    let finished = 0;
    for (let k = 0; k < rounds; k++) {
      for (const { models, backends } of unitsOf(k)) {
        const order: [Side, Side] = k % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
        const jobs = order.map((side) => job(side, k, models, backends)) as [Job, Job];
        if (cpus) {
          // Swapping the CPUs pair by pair keeps a faster or quieter core from favouring one side.
          const [first, second] = k % 2 === 0 ? [cpus.baseline, cpus.candidate] : [cpus.candidate, cpus.baseline];
          const pinned = (side: Side, on: number[]): DuetSide => {
            const j = jobs.find((x) => x.side === side)!;
            return { side, args: [process.execPath, ...j.args], cpus: on, out: j.out };
          };
          await runDuetPair([pinned('baseline', first), pinned('candidate', second)]);
          jobs.forEach(done);
        } else {
          for (const j of jobs) {
            await runSolo(j, k);
            done(j);
          }
        }
        req.progress.update(++finished);
      }
    }
    req.progress.stop();
    const build = { baseline: path.resolve(req.baseline), candidate: 'this checkout' };
    const merge = (side: Side) => {
      const files = sides[side].files;
      const report = mergeBenchReports(files.map(readReport), files) as BenchReport;
      const partner = build[side === 'baseline' ? 'candidate' : 'baseline'];
      return {
        ...report,
        results: cpus ? report.results.map((r) => ({ ...r, duet: { partner } })) : report.results,
        command: `movinet-bench ab --mode ${req.mode} (${side}: ${build[side]})`,
      };
    };
    const [base, cand] = [merge('baseline'), merge('candidate')];
    const baseline = path.join(req.outDir, 'baseline.json');
    const candidate = path.join(req.outDir, 'candidate.json');
    writeReport(baseline, base);
    writeReport(candidate, cand);
    return { comparison: compareReports(base, cand, { ...req.compare, paired: true }), baseline, candidate };
  } finally {
    req.progress.stop();
    for (const f of fs.readdirSync(work)) removeQuietly(path.join(work, f));
    fs.rmdirSync(work);
  }
}

/** One interleaved process, alone on the machine. */
async function runSolo(j: Job, k: number): Promise<void> {
  const r = await runChild(process.execPath, j.args, { stdout: 'ignore', stderr: 'pipe' });
  if (r.signal) throw new UserError(`ab stopped by ${r.signal}`, signalExitCode(r.signal));
  if (r.code !== 0) {
    throw new UserError(
      `${j.side} process ${k + 1} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
      1,
    );
  }
}
