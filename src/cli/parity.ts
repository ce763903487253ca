import type { Command } from 'commander';
import { loadDatasetRef, shardClips, verifyClips } from '../accuracy/dataset.js';
import { BACKEND_NAMES } from '../backends/index.js';
import { resolveRequested } from '../models/requested.js';
import { runParity } from '../parity/run.js';
import { reportHeader } from '../report/environment.js';
import type { ParityPair, ParityReport } from '../report/schema.js';
import { parityTable } from '../report/table.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED } from '../util/errors.js';
import { createProgress, logLine } from '../util/progress.js';
import { intParser, parseList, parseResize } from './options.js';
import { assertWritable, commandLine, defaultReportPath, printJson, writeReport } from './output.js';

interface ParityFlags {
  models: string[];
  backends: string[];
  dataset: string;
  minAgreement: number;
  resize: 'crop' | 'squash';
  fps: number;
  threads: number;
  out?: string;
  json: boolean;
}

export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('run backends on the same frames and compare them frame by frame; exit 1 on a mismatch (for CI)')
    .option('--models <ids>', 'model ids or .tflite paths', parseList, ['a0'])
    .option('--backends <names>', `runtimes, the first is the reference: ${BACKEND_NAMES.join(', ')}`, parseList, ['tfjs-tflite', 'litert', 'onnxruntime'])
    .option('--dataset <name|dir|csv|json>', 'a subset name or your clips, as for accuracy', 'kinetics-sample')
    .option('--min-agreement <fraction>', 'per-frame top-1 agreement required', (v: string) => {
      const n = Number(v);
      if (!(n >= 0 && n <= 1)) throw new Error(`--min-agreement must be between 0 and 1, got '${v}'`);
      return n;
    }, 0.99)
    .option('--resize <mode>', 'crop or squash', parseResize, 'crop')
    .option('--fps <n>', 'decode rate', intParser('--fps', 1, 60), 5)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--out <file>', 'report path (default reports/parity-<time>.json)')
    .option('--json', 'print the report as JSON on stdout', false)
    .action(async (flags: ParityFlags) => {
      const out = flags.out ?? defaultReportPath('parity');
      assertWritable(out);
      const ds = shardClips(loadDatasetRef(flags.dataset), null);
      verifyClips(ds);
      const { models, skipped } = resolveRequested(flags.models, flags.backends, flags.threads);
      const pairs: ParityPair[] = [];
      for (const model of models) {
        pairs.push(...(await runParity(model, flags.backends, ds, { resize: flags.resize, fps: flags.fps, threads: flags.threads, progress: createProgress(flags.json, 'clips') })));
      }
      const passed = pairs.length > 0 && pairs.every((p) => p.clipsMatching === p.clips.length && p.frameTop1Agreement >= flags.minAgreement);
      const report: ParityReport = {
        ...reportHeader(commandLine()),
        kind: 'parity',
        config: { dataset: { name: ds.name, source: ds.source, clips: ds.clips.length }, models: flags.models, backends: flags.backends, minAgreement: flags.minAgreement, resize: flags.resize, fps: flags.fps },
        pairs,
        skipped,
        passed,
      };
      writeReport(out, report);
      if (flags.json) printJson(report);
      else process.stdout.write(`${parityTable(report)}\n`);
      logLine(flags.json, `report: ${out}`);
      if (skipped.length) process.exitCode = EXIT_BAD_INPUT;
      else if (!passed) process.exitCode = EXIT_CHECK_FAILED;
    });
}
