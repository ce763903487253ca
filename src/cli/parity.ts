import type { Command } from 'commander';
import { BACKEND_NAMES } from '../backends/index.js';
import type { ResizeMode } from '../core/results.js';
import { parityReport } from '../run/parity.js';
import { createProgress } from '../util/progress.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import { intParser, numberParser, parseList, parseResize } from './options.js';

interface ParityFlags {
  models: string[];
  backends: string[];
  dataset: string;
  minAgreement: number;
  resize: ResizeMode;
  fps: number;
  threads: number;
  out?: string;
  json: boolean;
  cache: boolean;
}

export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('run backends on the same frames and compare them frame by frame; exit 1 on a mismatch (for CI)')
    .option('--models <ids>', 'model ids or .tflite paths', parseList, ['a0'])
    .option('--backends <names>', `runtimes, the first is the reference: ${BACKEND_NAMES.join(', ')}`, parseList, [
      'tfjs-tflite',
      'litert',
      'onnxruntime',
    ])
    .option('--dataset <name|dir|csv|json>', 'a subset name or your clips, as for accuracy', 'kinetics-sample')
    .option(
      '--min-agreement <fraction>',
      'per-frame top-1 agreement required',
      numberParser('--min-agreement', 0, 1),
      0.99,
    )
    .option('--resize <mode>', 'crop or squash', parseResize, 'crop')
    .option('--fps <n>', 'decode rate', intParser('--fps', 1, 60), 5)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--out <file>', 'report path (default reports/parity-<time>.json)')
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option('--json', 'print the report as JSON on stdout', false)
    .action(async (flags: ParityFlags) => {
      const out = flags.out ?? defaultReportPath('parity');
      assertWritable(out);
      const report = await parityReport({ ...flags, progress: createProgress(flags.json, 'clips') });
      emitReport(report, out, flags.json);
    });
}
