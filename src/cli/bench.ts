import type { Command } from 'commander';
import { BACKEND_NAMES, DEFAULT_BACKENDS } from '../backends/index.js';
import { runBench } from '../bench/run.js';
import { reportHeader } from '../report/environment.js';
import type { BenchReport } from '../report/schema.js';
import { benchTable } from '../report/table.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, UserError } from '../util/errors.js';
import { createProgress, logLine } from '../util/progress.js';
import { assertWritable, commandLine, defaultReportPath, printJson, writeReport } from './output.js';
import { intParser, parseList, parsePercentiles } from './options.js';

interface BenchFlags {
  models: string[];
  backends: string[];
  threads: number;
  frames: number;
  warmup: number;
  repeats: number;
  input: string;
  percentiles: number[];
  out?: string;
  json: boolean;
  skipMissing: boolean;
  overhead: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('per-frame latency of step() for each model x backend, states carried frame to frame')
    .option('--models <ids>', 'model ids or .tflite paths, comma-separated', parseList, ['a0'])
    .option('--backends <names>', `runtimes: ${BACKEND_NAMES.join(', ')}`, parseList, DEFAULT_BACKENDS)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--frames <n>', 'measured frames per repeat', intParser('--frames', 1), 300)
    .option('--warmup <n>', 'warm-up frames, not measured', intParser('--warmup', 0), 20)
    .option('--repeats <n>', 'measured passes, each from zero state', intParser('--repeats', 1), 1)
    .option('--input <src>', "'synthetic' or a video file (decoded before timing)", 'synthetic')
    .option('--percentiles <list>', 'percentiles to report', parsePercentiles, [50, 90, 95, 99])
    .option('--out <file>', 'report path (default reports/bench-<time>.json)')
    .option('--json', 'print the report as JSON on stdout; progress and logs stay on stderr', false)
    .option('--skip-missing', 'exit 0 when requested models are missing (they are still listed as skipped)', false)
    .option('--no-overhead', 'skip the bare-runtime loop that measures harness overhead')
    .action(async (flags: BenchFlags) => {
      const out = flags.out ?? defaultReportPath('bench');
      assertWritable(out);
      const percentiles = [...new Set([50, 90, ...flags.percentiles])].sort((a, b) => a - b);
      const outcome = await runBench(flags.models, flags.backends, {
        threads: flags.threads,
        frames: flags.frames,
        warmup: flags.warmup,
        repeats: flags.repeats,
        percentiles,
        input: flags.input,
        overhead: flags.overhead,
        progress: createProgress(flags.json, 'frames'),
      });
      const report: BenchReport = {
        ...reportHeader(commandLine()),
        kind: 'bench',
        config: { models: flags.models, backends: flags.backends, threads: flags.threads, frames: flags.frames, warmup: flags.warmup, repeats: flags.repeats, input: flags.input, percentiles },
        results: outcome.results,
        skipped: outcome.skipped,
      };
      writeReport(out, report);
      if (flags.json) printJson(report);
      else process.stdout.write(`${benchTable(report)}\n`);
      logLine(flags.json, `report: ${out}`);
      if (outcome.results.length === 0 && !(outcome.missing && flags.skipMissing)) {
        throw new UserError(`no model ran: ${outcome.skipped.map((s) => s.reason).filter((r, i, a) => a.indexOf(r) === i).join('; ')}`);
      }
      if (outcome.failed) process.exitCode = outcome.skipped.some((s) => s.status === 'failed') ? EXIT_CHECK_FAILED : EXIT_BAD_INPUT;
      else if (outcome.missing && !flags.skipMissing) {
        logLine(flags.json, 'some requested models are missing (exit 2); pass --skip-missing to accept that');
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}
