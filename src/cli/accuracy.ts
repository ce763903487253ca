import type { Command } from 'commander';
import { BACKEND_NAMES, DEFAULT_BACKENDS } from '../backends/index.js';
import { loadDatasetRef, loadSubset, shardClips, verifyClips } from '../accuracy/dataset.js';
import { agreement } from '../accuracy/metrics.js';
import { runAccuracy } from '../accuracy/run.js';
import { reportHeader } from '../report/environment.js';
import type { AccuracyReport } from '../report/schema.js';
import { accuracyTable } from '../report/table.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, UserError } from '../util/errors.js';
import { createProgress, logLine } from '../util/progress.js';
import { intParser, parseList, parseResize, parseShard } from './options.js';
import { assertWritable, commandLine, defaultReportPath, printJson, writeReport } from './output.js';

interface AccuracyFlags {
  subset?: string;
  dataset?: string;
  models: string[];
  backends: string[];
  resize: 'crop' | 'squash';
  fps: number;
  threads: number;
  shard?: { index: number; count: number };
  labels?: string;
  out?: string;
  json: boolean;
  skipMissing: boolean;
}

export function registerAccuracy(program: Command): void {
  program
    .command('accuracy')
    .description('clip-level top-1/top-5 (final frame), time-to-correct, accuracy vs frames seen, cross-backend agreement')
    .option('--subset <name>', 'a dataset shipped with the project (datasets/<name>/manifest.json)')
    .option('--dataset <dir|csv|json>', 'your clips: <label>/<clip> folders, a path,label CSV, or a JSON manifest (a subset name works too)')
    .option('--models <ids>', 'model ids or .tflite paths', parseList, ['a0'])
    .option('--backends <names>', `runtimes: ${BACKEND_NAMES.join(', ')}`, parseList, DEFAULT_BACKENDS)
    .option('--resize <mode>', 'crop or squash', parseResize, 'crop')
    .option('--fps <n>', 'decode rate (the models are trained at 5)', intParser('--fps', 1, 60), 5)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--shard <i/n>', 'evaluate the deterministic slice i of n (merge with `reports merge`)', parseShard)
    .option('--labels <file>', 'label file for a model given by path')
    .option('--out <file>', 'report path (default reports/accuracy-<time>.json)')
    .option('--json', 'print the report as JSON on stdout', false)
    .option('--skip-missing', 'exit 0 when requested models are missing', false)
    .action(async (flags: AccuracyFlags) => {
      if (!!flags.subset === !!flags.dataset) throw new UserError('give exactly one of --subset <name> or --dataset <dir|csv|json>');
      const out = flags.out ?? defaultReportPath('accuracy');
      assertWritable(out);
      const full = flags.subset ? loadSubset(flags.subset) : loadDatasetRef(flags.dataset!);
      verifyClips(full);
      const ds = shardClips(full, flags.shard ?? null);
      const outcome = await runAccuracy(flags.models, flags.backends, ds, { resize: flags.resize, fps: flags.fps, threads: flags.threads, progress: createProgress(flags.json, 'clips') }, flags.labels);
      const report: AccuracyReport = {
        ...reportHeader(commandLine()),
        kind: 'accuracy',
        config: {
          dataset: { name: ds.name, source: ds.source, clips: ds.clips.length },
          models: flags.models,
          backends: flags.backends,
          resize: flags.resize,
          fps: flags.fps,
          shard: flags.shard ?? null,
        },
        runs: outcome.runs,
        skipped: outcome.skipped,
        agreement: agreement(outcome.runs),
      };
      writeReport(out, report);
      if (flags.json) printJson(report);
      else process.stdout.write(`${accuracyTable(report)}\n`);
      logLine(flags.json, `report: ${out}`);
      const clipErrors = outcome.runs.reduce((a, r) => a + r.summary.errors, 0);
      if (clipErrors) logLine(flags.json, `${clipErrors} clip(s) could not be evaluated; see the report's clip errors (exit 2)`);
      if (outcome.runs.length === 0 && !(outcome.missing && flags.skipMissing)) throw new UserError('no model ran');
      if (outcome.skipped.some((s) => s.status === 'failed')) process.exitCode = EXIT_CHECK_FAILED;
      else if (clipErrors || outcome.failed || (outcome.missing && !flags.skipMissing)) process.exitCode = EXIT_BAD_INPUT;
    });
}
