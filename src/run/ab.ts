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
  /** Processes per side; processes alternate between the sides. */
  processes: number;
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

/** Whether a version's `bench` has this flag (its --help lists it). */
function knowsFlag(cli: string, flag: string): boolean {
  const help = spawnSync(process.execPath, [cli, 'bench', '--help'], { encoding: 'utf8', timeout: 30_000 });
  return help.stdout.includes(flag);
}

/**
 * An interleaved A/B run: baseline and candidate `bench` processes alternate
 * one at a time (who goes first alternates too), so a slow minute of a shared
 * machine lands on both sides. Each side's processes become one report, and
 * the two are compared on paired differences. Only flags every version of
 * `bench` understands are passed, so an older baseline runs too.
 */
export async function runAb(req: AbRequest): Promise<AbOutcome> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-ab-'));
  const baseCli = cliOf(req.baseline);
  const args = [
    'bench',
    ...['--models', req.models.join(','), '--backends', req.backends.join(',')],
    ...['--threads', String(req.threads), '--frames', String(req.frames), '--warmup', String(req.warmup)],
    ...['--no-overhead', '--skip-missing', '--json'],
  ];
  // The roofline probe is not compared and costs seconds a process; a version that knows it is told to skip it.
  const flags = (cli: string) => (knowsFlag(cli, '--no-roofline') ? ['--no-roofline'] : []);
  const sides = {
    baseline: { cli: baseCli, files: [] as string[], flags: flags(baseCli) },
    candidate: { cli: req.candidate, files: [] as string[], flags: flags(req.candidate) },
  };
  req.progress.start(2 * req.processes, 'A/B processes');
  try {
    for (let k = 0; k < req.processes; k++) {
      const order = k % 2 === 0 ? (['baseline', 'candidate'] as const) : (['candidate', 'baseline'] as const);
      for (const side of order) {
        const out = path.join(work, `${side}-${k}.json`);
        const env = {
          ...process.env,
          MOVINET_SELFTEST_SLOWDOWN: side === 'candidate' && req.selfTestSlowdown ? String(req.selfTestSlowdown) : '',
        };
        const r = await runChild(process.execPath, [sides[side].cli, ...args, ...sides[side].flags, '--out', out], {
          stdout: 'ignore',
          stderr: 'pipe',
          env,
        });
        if (r.signal) throw new UserError(`ab stopped by ${r.signal}`, signalExitCode(r.signal));
        if (r.code !== 0 || !fs.existsSync(out)) {
          throw new UserError(
            `${side} process ${k + 1} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
            1,
          );
        }
        sides[side].files.push(out);
        req.progress.update(2 * k + (side === order[0] ? 1 : 2));
      }
    }
    req.progress.stop();
    const merge = (side: 'baseline' | 'candidate') => {
      const files = sides[side].files;
      const report = mergeBenchReports(files.map(readReport), files) as BenchReport;
      return {
        ...report,
        command: `movinet-bench ab (${side}: ${side === 'baseline' ? req.baseline : 'this checkout'})`,
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
