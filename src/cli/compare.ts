import { InvalidArgumentError, Option, type Command } from 'commander';
import { compareReports, DEFAULT_COMPARE, type Comparison, type CompareOptions } from '../report/compare.js';
import type { TableFormat } from '../report/export.js';
import { readReport } from '../report/schema.js';
import { comparisonTable } from '../report/table.js';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../util/errors.js';
import { emit } from './emit.js';
import { choiceParser, numberParser, parseList } from './options.js';

export interface CompareFlags {
  metrics: number[];
  threshold: Map<number | 'all', number>;
  alpha: number;
  minEffect: number;
  top1Tolerance: number;
  paired: boolean;
  acrossMachines?: boolean;
  strict: boolean;
  format: TableFormat;
  json: boolean;
}

const percentileName =
  (name: string) =>
  (value: string): number => {
    const m = /^p(\d+(?:\.\d+)?)$/.exec(value);
    const p = Number(m?.[1]);
    if (!m || !(p > 0 && p < 100))
      throw new InvalidArgumentError(`${name} takes percentiles like p50,p90,p99.9, got '${value}'`);
    return p;
  };

/** `5` for every metric, or `p50=5,p90=10`: percent increases that count as regressions. */
function parseThresholds(value: string): Map<number | 'all', number> {
  const pct = numberParser('--threshold', 0, 1000);
  const out = new Map<number | 'all', number>();
  for (const item of parseList(value)) {
    const [metric, v] = item.includes('=') ? item.split('=', 2) : [undefined, item];
    out.set(metric === undefined ? 'all' : percentileName('--threshold')(metric), pct(v ?? ''));
  }
  return out;
}

export function compareOptions(flags: Omit<CompareFlags, 'strict' | 'format' | 'json'>): CompareOptions {
  return {
    metrics: flags.metrics.map((p) => ({
      percentile: p,
      threshold: (flags.threshold.get(p) ?? flags.threshold.get('all') ?? 5) / 100,
    })),
    alpha: flags.alpha,
    minEffectMs: flags.minEffect,
    top1Tolerance: flags.top1Tolerance / 100,
    paired: flags.paired,
    acrossMachines: flags.acrossMachines ?? false,
  };
}

/** Exit 1 on a regression, and under --strict also when the two runs were made with different settings. */
export function emitComparison(
  result: Comparison,
  flags: Pick<CompareFlags, 'strict' | 'format' | 'json'>,
  reportOnly = false,
): void {
  const strictFail = flags.strict && result.mismatches.length > 0;
  const failing = result.regressions > 0 || strictFail;
  let message: string | undefined;
  if (failing && reportOnly) message = 'report only: exit 0 whatever the verdict';
  else if (strictFail && !result.regressions)
    message = `--strict: the reports were made with different settings (${result.mismatches[0]})`;
  const code = failing && !reportOnly ? EXIT_CHECK_FAILED : EXIT_OK;
  emit({ value: result, text: comparisonTable(result, { format: flags.format }), code, message }, flags.json);
}

const metricList = (v: string) => parseList(v).map(percentileName('--metrics'));

/** The options every comparing command shares (compare, ab); `thresholds` replaces the 5 % default. */
export function addCompareOptions(
  cmd: Command,
  thresholds: Map<number | 'all', number> = new Map([['all', 5]]),
): Command {
  const shown = [...thresholds].map(([m, v]) => (m === 'all' ? `${v}` : `p${m}=${v}`)).join(',');
  return cmd
    .option('--metrics <list>', 'latency percentiles that gate, each with its own test', metricList, [50, 90])
    .addOption(
      new Option('--threshold <pct|metric=pct,...>', 'increase that is a regression, in % (one for all, or per metric)')
        .argParser(parseThresholds)
        .default(thresholds, shown),
    )
    .option(
      '--alpha <p>',
      'significance level of the tests on process-level values',
      numberParser('--alpha', 0, 1),
      DEFAULT_COMPARE.alpha,
    )
    .option(
      '--min-effect <ms>',
      'smallest absolute latency change that can be a regression',
      numberParser('--min-effect', 0, 1e6),
      0,
    )
    .option(
      '--top1-tolerance <pct>',
      'top-1 drop tolerated in accuracy reports, in percentage points',
      numberParser('--top1-tolerance', 0, 100),
      0,
    )
    .option('--strict', 'also fail (exit 1) when the reports were made with different settings', false)
    .option(
      '--format <format>',
      'text or md (a table for a pull-request comment)',
      choiceParser('--format', ['text', 'md'] as const),
      'text',
    )
    .option('--json', 'machine-readable output', false);
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare <old> <new>')
    .description('diff two reports of the same kind; exit 1 on a regression (for CI)')
    .option(
      '--paired',
      "the reports come from one `ab` run: test the differences of each pair's processes " +
        "(alternating ones, or a duet's simultaneous ones)",
      false,
    )
    .option(
      '--across-machines',
      'compare bench rows of different machines (by model and backend); ' +
        'without it only rows of the same machine are compared and the others are listed as not compared',
      false,
    );
  addCompareOptions(cmd).action((oldFile: string, newFile: string, flags: CompareFlags) => {
    emitComparison(compareReports(readReport(oldFile), readReport(newFile), compareOptions(flags)), flags);
  });
}
