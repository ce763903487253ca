import type { Command } from 'commander';
import { cannotBatch } from '../backends/batching.js';
import { BACKEND_NAMES, DEFAULT_BACKENDS, getBackend } from '../backends/index.js';
import type { ResizeMode } from '../core/results.js';
import type { ShardRequest } from '../run/shard.js';
import { accuracyReport, journalFileOf } from '../run/accuracy.js';
import { COMMAND_DEFAULTS } from '../run/defaults.js';
import { createProgress } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import {
  frameCacheOptions,
  intParser,
  parseList,
  parseResize,
  parseShard,
  type FrameCacheFlags,
  withFrameCache,
} from './options.js';

interface AccuracyFlags extends FrameCacheFlags {
  subset?: string;
  dataset?: string;
  models: string[];
  backends: string[];
  resize: ResizeMode;
  fps: number;
  threads: number;
  shard?: ShardRequest;
  resume: boolean;
  allowMissingClips: boolean;
  labels?: string;
  out?: string;
  json: boolean;
  skipMissing: boolean;
  cache: boolean;
  batch?: number;
}

/** The most clips one batched session steps at once. */
const MAX_BATCH = 256;

export function registerAccuracy(program: Command): void {
  frameCacheOptions(program.command('accuracy'))
    .description(
      'clip-level top-1/top-5 (final frame), time-to-correct, accuracy vs frames seen, cross-backend agreement',
    )
    .option('--subset <name>', 'a dataset shipped with the project (datasets/<name>/manifest.json)')
    .option(
      '--dataset <dir|csv|json>',
      'your clips: <label>/<clip> folders, a path,label CSV, or a JSON manifest (a subset name works too)',
    )
    .option('--models <ids>', 'model ids or .tflite paths', parseList, [...COMMAND_DEFAULTS.models])
    .option('--backends <names>', `runtimes: ${BACKEND_NAMES.join(', ')}`, parseList, DEFAULT_BACKENDS)
    .option('--resize <mode>', 'crop or squash', parseResize, COMMAND_DEFAULTS.resize)
    .option('--fps <n>', 'decode rate (the models are trained at 5)', intParser('--fps', 1, 60), COMMAND_DEFAULTS.fps)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), COMMAND_DEFAULTS.threads)
    .option(
      '--shard <i/n|auto|auto/n>',
      'evaluate the deterministic slice i of n (merge with `reports merge`); ' +
        'auto: the index (and count) from a Slurm job array or, with auto/n, a Kubernetes Indexed Job',
      parseShard,
    )
    .option(
      '--allow-missing-clips',
      'leave out listed clips that are not found (the report counts them) instead of stopping',
      false,
    )
    .option('--labels <file>', 'label file for a model given by path')
    .option(
      '--out <file>',
      'report path (default reports/accuracy-<time>.json); per-clip results go to <file>.journal.jsonl as they finish',
    )
    .option('--resume', 'continue the run whose journal is beside --out: clips it holds are not run again', false)
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option('--json', 'print the report as JSON on stdout', false)
    .option('--skip-missing', 'exit 0 when requested models are missing', false)
    .option(
      '--batch <n>',
      "step n clips at once through one batched session per backend, a finished clip's slot refilled from zero " +
        'state by the next (backends that can batch; the default backends are then those of the default set that can)',
      intParser('--batch', 1, MAX_BATCH),
    )
    .action(async (flags: AccuracyFlags, cmd: Command) => {
      if (flags.batch !== undefined && cmd.getOptionValueSource('backends') === 'default')
        flags.backends = DEFAULT_BACKENDS.filter((name) => cannotBatch(getBackend(name)) === null);
      if (flags.resume && !flags.out)
        throw new UserError('--resume needs --out: the journal it continues sits beside the report');
      const out = flags.out ?? defaultReportPath('accuracy');
      assertWritable(out);
      const report = await accuracyReport({
        ...withFrameCache(flags),
        journal: { file: journalFileOf(out), resume: flags.resume },
        progress: createProgress(flags.json, 'clips'),
      });
      emitReport(report, out, flags.json, { skipMissing: flags.skipMissing });
    });
}
