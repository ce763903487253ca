import Table from 'cli-table3';
import type { Command } from 'commander';
import { compareReports } from '../report/compare.js';
import { readReport } from '../report/schema.js';
import { fmt } from '../report/table.js';
import { EXIT_CHECK_FAILED } from '../util/errors.js';
import { printJson } from './output.js';

interface CompareFlags {
  threshold: number;
  alpha: number;
  top1Tolerance: number;
  json: boolean;
}

const number = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max}, got '${v}'`);
  return n;
};

export function registerCompare(program: Command): void {
  program
    .command('compare <old> <new>')
    .description('diff two reports of the same kind; exit 1 on a regression (for CI)')
    .option('--threshold <pct>', 'p50 increase that is a regression, in %', number('--threshold', 0, 1000), 5)
    .option('--alpha <p>', 'significance level of the Mann-Whitney test on the raw samples', number('--alpha', 0, 1), 0.01)
    .option('--top1-tolerance <pct>', 'top-1 drop tolerated in accuracy reports, in percentage points', number('--top1-tolerance', 0, 100), 0)
    .option('--json', 'machine-readable output', false)
    .action((oldFile: string, newFile: string, flags: CompareFlags) => {
      const result = compareReports(readReport(oldFile), readReport(newFile), { threshold: flags.threshold / 100, alpha: flags.alpha, top1Tolerance: flags.top1Tolerance / 100 });
      if (flags.json) printJson(result);
      else {
        const pct = result.kind !== 'bench';
        const table = new Table({ head: ['model', 'backend', 'metric', 'old', 'new', 'change', 'p', 'verdict', 'note'], style: { head: [], border: [] } });
        for (const r of result.rows) {
          const show = (v: number | null) => (v === null ? '–' : pct ? `${(v * 100).toFixed(1)}%` : fmt(v));
          const change = r.change === null ? '–' : pct ? `${(r.change * 100).toFixed(1)} pt` : `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%`;
          table.push([r.model, r.backend, r.metric, show(r.old), show(r.new), change, r.pValue === null ? '–' : r.pValue.toExponential(1), r.verdict, r.note ?? '']);
        }
        const lines = [table.toString(), ...result.warnings.map((w) => `warning: ${w}`), result.regressions ? `${result.regressions} regression(s)` : 'no regression'];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (result.regressions) process.exitCode = EXIT_CHECK_FAILED;
    });
}
