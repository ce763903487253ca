import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareReports, type Comparison, type CompareOptions } from '../report/compare.js';
import { mergeBenchReports } from '../report/merge.js';
import { readReport, writeReport, type BenchReport } from '../report/schema.js';
import { removeQuietly } from '../util/atomic-write.js';
import { runChild, signalExitCode } from '../util/child.js';
import { isOffline } from '../util/download.js';
import { UserError } from '../util/errors.js';
import { benchArgv, BENCH_FLAG } from './bench-args.js';
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
const SIDES: readonly Side[] = ['baseline', 'candidate'];

/** One process of one side: its node arguments and where its report goes. */
interface Job {
  side: Side;
  args: string[];
  out: string;
}

/** What both modes share: each side's CLI, the flags its version knows, its reports so far, and the units of work. */
class AbRun {
  readonly files: Record<Side, string[]> = { baseline: [], candidate: [] };
  private readonly cli: Record<Side, string>;
  private readonly help: Record<Side, string>;

  constructor(
    readonly req: AbRequest,
    private readonly work: string,
    private readonly duet: boolean,
  ) {
    this.cli = { baseline: cliOf(req.baseline), candidate: req.candidate };
    this.help = { baseline: benchHelp(this.cli.baseline), candidate: benchHelp(this.cli.candidate) };
  }

  /** Whether a side's version of `bench` lists a flag (an older baseline may not). */
  knows(side: Side, flag: string): boolean {
    return this.help[side].includes(flag);
  }

  /** Round k of a side: a process that measures these models and backends once, with what its version knows. */
  job(side: Side, k: number, models: readonly string[], backends: readonly string[]): Job {
    const out = path.join(this.work, `${side}-${k}-${this.files[side].length}.json`);
    const { req } = this;
    const args = benchArgv(this.cli[side], {
      // --offline is the program's flag; a baseline's own help for bench does not show it, so it is assumed.
      offline: isOffline(),
      models,
      backends,
      threads: req.threads,
      frames: req.frames,
      warmup: req.warmup,
      out,
      json: true,
      skipMissing: true,
      noOverhead: true,
      // The roofline probe is not compared and costs seconds a process; a version that knows it skips it.
      noRoofline: this.knows(side, BENCH_FLAG.noRoofline),
      startSignal: this.duet,
      selfTestSlowdown: side === 'candidate' ? req.selfTestSlowdown : 0,
    });
    return { side, out, args };
  }

  done(j: Job): void {
    if (!fs.existsSync(j.out)) throw new UserError(`${j.side} process wrote no report`, 1);
    this.files[j.side].push(j.out);
  }

  /** Pairs each backend gets, and how many rounds that makes. */
  private pairsOf = (backend: string) => this.req.processesFor[backend] ?? this.req.processes;
  get rounds(): number {
    return Math.max(...this.req.backends.map(this.pairsOf));
  }

  /** Round k's backends: every backend that still wants a k-th pair. */
  backendsIn(k: number): string[] {
    return this.req.backends.filter((b) => this.pairsOf(b) > k);
  }

  /** Who goes first alternates from round to round. */
  order(k: number): [Side, Side] {
    return k % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
  }
}

/**
 * Interleaved: in each round, one baseline and one candidate `bench` process over every backend that still
 * wants a pair, one at a time (who goes first alternates), so a slow minute of a shared machine lands on both.
 */
async function runInterleaved(run: AbRun): Promise<void> {
  const { req } = run;
  const rounds = Array.from({ length: run.rounds }, (_, k) => run.backendsIn(k)).filter((b) => b.length);
  req.progress.start(rounds.length, 'A/B processes');
  for (const [k, backends] of rounds.entries()) {
    for (const side of run.order(k)) {
      const j = run.job(side, k, req.models, backends);
      await runSolo(j, k);
      run.done(j);
    }
    req.progress.update(k + 1);
  }
}

/**
 * Duet: each pair is one model and backend, the baseline's and the candidate's processes at the same time,
 * pinned to their own CPUs (swapped from pair to pair, so a faster or quieter core favours neither side).
 */
async function runDuet(run: AbRun): Promise<void> {
  const { req } = run;
  const cpus = duetCpus(req.threads);
  if (!run.knows('baseline', BENCH_FLAG.startSignal))
    throw new UserError(
      `baseline ${req.baseline} cannot take part in a duet: its bench has no ${BENCH_FLAG.startSignal} ` +
        '(it predates --mode duet); use --mode interleaved',
    );
  const pairs = Array.from({ length: run.rounds }, (_, k) =>
    req.models.flatMap((m) => run.backendsIn(k).map((b) => ({ k, model: m, backend: b }))),
  ).flat();
  req.progress.start(pairs.length, 'A/B duet pairs');
  for (const [i, { k, model, backend }] of pairs.entries()) {
    const [first, second] = k % 2 === 0 ? [cpus.baseline, cpus.candidate] : [cpus.candidate, cpus.baseline];
    const on: Record<Side, number[]> = { baseline: first, candidate: second };
    const jobs = run.order(k).map((side) => run.job(side, k, [model], [backend]));
    const pinned = (j: Job): DuetSide => ({
      side: j.side,
      args: [process.execPath, ...j.args],
      cpus: on[j.side],
      out: j.out,
    });
    await runDuetPair([
      pinned(jobs.find((j) => j.side === 'baseline')!),
      pinned(jobs.find((j) => j.side === 'candidate')!),
    ]);
    jobs.forEach((j) => run.done(j));
    req.progress.update(i + 1);
  }
}

/**
 * An A/B run: each side's processes become one report, and the two are compared on paired differences.
 * Only flags a side's version of `bench` lists are passed to it, so an older baseline runs too (interleaved).
 */
export async function runAb(req: AbRequest): Promise<AbOutcome> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-ab-'));
  try {
    const run = new AbRun(req, work, req.mode === 'duet');
    await (req.mode === 'duet' ? runDuet(run) : runInterleaved(run));
    req.progress.stop();
    const build: Record<Side, string> = { baseline: path.resolve(req.baseline), candidate: 'this checkout' };
    const [base, cand] = SIDES.map((side) => {
      const report = mergeBenchReports(run.files[side].map(readReport), run.files[side]) as BenchReport;
      const partner = build[side === 'baseline' ? 'candidate' : 'baseline'];
      return {
        ...report,
        results: req.mode === 'duet' ? report.results.map((r) => ({ ...r, duet: { partner } })) : report.results,
        command: `movinet-bench ab --mode ${req.mode} (${side}: ${build[side]})`,
      };
    }) as [BenchReport, BenchReport];
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
