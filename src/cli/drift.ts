import { InvalidArgumentError, type Command } from 'commander';
import { BACKEND_NAMES } from '../backends/index.js';
import type { ResizeMode } from '../core/results.js';
import { COMMAND_DEFAULTS } from '../run/defaults.js';
import { DEQUANTIZED, DRIFT_DEFAULTS, defaultReferenceBackend, driftReport } from '../run/drift.js';
import { createProgress } from '../util/progress.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import {
  frameCacheOptions,
  intParser,
  parseList,
  parseResize,
  withFrameCache,
  type FrameCacheFlags,
} from './options.js';

interface DriftFlags extends FrameCacheFlags {
  model: string;
  backend: string;
  reference: string;
  referenceBackend?: string;
  dataset: string;
  frames: number;
  streams?: number;
  fillUp?: number;
  /** A list of frames, or false with --no-inside; absent for the default frames. */
  inside?: number[] | false;
  counterfactual: boolean;
  resize: ResizeMode;
  fps: number;
  threads: number;
  out?: string;
  json: boolean;
  cache: boolean;
}

function parseFrames(value: string): number[] {
  return parseList(value).map((f) => {
    const n = Number(f);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`--inside takes frame numbers from 0, got '${f}'`);
    return n;
  });
}

export function registerDrift(program: Command): void {
  frameCacheOptions(program.command('drift'))
    .description(
      'a quantized model against a float reference of the same network on long streams, each side carrying its own ' +
        'states: the logits and every state, frame by frame; whether the error grows; the states and ops that carry ' +
        "it; the top-1 with the reference's states fed in (a measurement: exit 0 unless the input is bad)",
    )
    .option('--model <id|path>', 'the quantized model', COMMAND_DEFAULTS.models[0])
    .option('--backend <name>', `its runtime: ${BACKEND_NAMES.join(', ')}`, DRIFT_DEFAULTS.backend)
    .option(
      '--reference <dequantized|id|path>',
      `${DEQUANTIZED}: the model's own graph with float activations (its weights dequantized); or a float file of ` +
        'the same network (checked on the weights)',
      DRIFT_DEFAULTS.reference,
    )
    .option(
      '--reference-backend <name>',
      `the reference's runtime (default ${defaultReferenceBackend(DEQUANTIZED)} for ${DEQUANTIZED}, ` +
        `${defaultReferenceBackend('file')} for a file)`,
    )
    .option('--dataset <name|dir|csv|json>', 'clips, chained into streams', COMMAND_DEFAULTS.dataset)
    .option(
      '--frames <n>',
      'frames per stream (clips chained, cycling)',
      intParser('--frames', 5),
      DRIFT_DEFAULTS.frames,
    )
    .option(
      '--streams <n>',
      'streams, each starting at its own clip (default: one per clip)',
      intParser('--streams', 1),
    )
    .option(
      '--fill-up <n>',
      'frames left out of the trends and means (default: the longest state buffer, or a tenth of the stream if longer)',
      intParser('--fill-up', 0),
    )
    .option(
      '--inside <frames>',
      'frames of the first stream whose every tensor is compared (default: the first after the fill-up and the last)',
      parseFrames,
    )
    .option('--no-inside', 'read no intermediate tensor')
    .option('--no-counterfactual', "skip the run fed the reference's states")
    .option('--resize <mode>', 'crop or squash', parseResize, COMMAND_DEFAULTS.resize)
    .option('--fps <n>', 'decode rate', intParser('--fps', 1, 60), COMMAND_DEFAULTS.fps)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), COMMAND_DEFAULTS.threads)
    .option('--out <file>', 'report path (default reports/drift-<time>.json)')
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option('--json', 'print the report as JSON on stdout', false)
    .action(async (flags: DriftFlags) => {
      const out = flags.out ?? defaultReportPath('drift');
      assertWritable(out);
      const { inside, frames, fillUp, streams, referenceBackend, ...rest } = withFrameCache(flags);
      const report = await driftReport({
        ...rest,
        framesPerStream: frames,
        ...(inside === false ? { inside: [] } : inside ? { inside } : {}),
        ...(fillUp !== undefined ? { fillUp } : {}),
        ...(streams !== undefined ? { streams } : {}),
        ...(referenceBackend !== undefined ? { referenceBackend } : {}),
        progress: createProgress(flags.json, 'frames'),
      });
      emitReport(report, out, flags.json);
    });
}
