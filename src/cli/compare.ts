import type { Command } from 'commander';
import { compareReports } from '../report/compare.js';
import { readReport } from '../report/schema.js';
import { comparisonTable } from '../report/table.js';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../util/errors.js';
import { emit } from './emit.js';
import { numberParser } from './options.js';

interface CompareFlags {
  threshold: number;
  alpha: number;
  top1Tolerance: number;
  json: boolean;
}

export function registerCompare(program: Command): void {
  program
    .command('compare <old> <new>')
    .description('diff two reports of the same kind; exit 1 on a regression (for CI)')
    .option('--threshold <pct>', 'p50 increase that is a regression, in %', numberParser('--threshold', 0, 1000), 5)
    .option(
      '--alpha <p>',
      'significance level of the Mann-Whitney test on the raw samples',
      numberParser('--alpha', 0, 1),
      0.01,
    )
    .option(
      '--top1-tolerance <pct>',
      'top-1 drop tolerated in accuracy reports, in percentage points',
      numberParser('--top1-tolerance', 0, 100),
      0,
    )
    .option('--json', 'machine-readable output', false)
    .action((oldFile: string, newFile: string, flags: CompareFlags) => {
      const result = compareReports(readReport(oldFile), readReport(newFile), {
        threshold: flags.threshold / 100,
        alpha: flags.alpha,
        top1Tolerance: flags.top1Tolerance / 100,
      });
      emit(
        { value: result, text: comparisonTable(result), code: result.regressions ? EXIT_CHECK_FAILED : EXIT_OK },
        flags.json,
      );
    });
}
