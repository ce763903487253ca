import type { Command } from 'commander';
import { BACKEND_NAMES, BROWSER_DEFAULT_BACKENDS, DEFAULT_BACKENDS } from '../backends/index.js';
import { TARGETS, type Target } from '../browser/chromium.js';
import type { ParityLocate, ParityPair, ParityTensor, ResizeMode } from '../core/results.js';
import { fmt } from '../report/format.js';
import type { ParityReport } from '../report/schema.js';
import { COMMAND_DEFAULTS } from '../run/defaults.js';
import { parityReport } from '../run/parity.js';
import { createProgress } from '../util/progress.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import {
  choiceParser,
  frameCacheOptions,
  intParser,
  numberParser,
  parseList,
  parseResize,
  type FrameCacheFlags,
  withFrameCache,
} from './options.js';

interface ParityFlags extends FrameCacheFlags {
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
  target: Target;
  locate: boolean;
  logitsOut?: string;
  against?: string;
  streams?: number;
}

/** The most slots a batched parity run asks for: the batch sizes the batched graph is measured at. */
const MAX_STREAMS = 32;
/** What --streams runs when no backend is named: those of the default set that can batch. */
const STREAM_BACKENDS = ['onnxruntime'];

const frame = (f: number | null) => (f === null ? 'never' : `frame ${f}`);

/** The first differing tensor of a located clip, with both sides' values. */
function tensorLine(pair: ParityPair, t: ParityTensor): string {
  // TFLite names a fused tensor after every op folded into it; the first says where it is.
  const name = t.name.split(';')[0]!;
  const diff = t.unit === 'code' ? `${t.maxAbsDiff} codes` : fmt(t.maxAbsDiff, 6);
  const where = `#${t.index} '${name}' (op #${t.opIndex} ${t.op})`;
  const sides = `${pair.reference} ${t.reference}, ${pair.backend} ${t.backend}`;
  return `  first differing tensor: ${where}: ${t.values}/${t.of} values, max |diff| ${diff} (${sides})`;
}

/** Where a clip's run parts from the reference's, the states that drift, and the first tensor that differs. */
function locatedLines(pair: ParityPair, file: string, l: ParityLocate): string[] {
  const parts = `parts at ${frame(l.firstFrame)}`;
  const differ = `logits differ from ${frame(l.firstLogitFrame)}, top-1 from ${frame(l.firstTop1Frame)}`;
  const states = l.states.map((s) => `${s.name} ${fmt(s.maxAbsDiff, 4)} (${s.values})`).join(', ');
  const lines = [`${pair.model.id} ${pair.backend} vs ${pair.reference}, ${file}:`, `  ${parts}; ${differ}`];
  if (l.states.length) lines.push(`  states then, max |diff| (values): ${states}`);
  if (l.tensor) lines.push(tensorLine(pair, l.tensor));
  else if (l.tensorNote) lines.push(`  tensor: ${l.tensorNote}`);
  return lines;
}

/** The --locate findings as text: one block per clip and backend that parts from the reference. */
export function locateText(report: ParityReport): string {
  const lines = report.pairs.flatMap((pair) =>
    pair.clips.flatMap((clip) => (clip.locate ? locatedLines(pair, clip.file, clip.locate) : [])),
  );
  return lines.length ? lines.join('\n') : 'locate: no backend parts from the reference';
}

export function registerParity(program: Command): void {
  frameCacheOptions(program.command('parity'))
    .description('run backends on the same frames and compare them frame by frame; exit 1 on a mismatch (for CI)')
    .option('--models <ids>', 'model ids or .tflite paths', parseList, [...COMMAND_DEFAULTS.models])
    .option(
      '--backends <names>',
      `runtimes, the first is the reference: ${BACKEND_NAMES.join(', ')} ` +
        `(default with --target chromium: ${BROWSER_DEFAULT_BACKENDS.join(',')})`,
      parseList,
      DEFAULT_BACKENDS,
    )
    .option('--dataset <name|dir|csv|json>', 'a subset name or your clips, as for accuracy', COMMAND_DEFAULTS.dataset)
    .option(
      '--min-agreement <fraction>',
      'per-frame top-1 agreement required',
      numberParser('--min-agreement', 0, 1),
      COMMAND_DEFAULTS.minAgreement,
    )
    .option('--resize <mode>', 'crop or squash', parseResize, COMMAND_DEFAULTS.resize)
    .option('--fps <n>', 'decode rate', intParser('--fps', 1, 60), COMMAND_DEFAULTS.fps)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), COMMAND_DEFAULTS.threads)
    .option('--out <file>', 'report path (default reports/parity-<time>.json)')
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option(
      '--locate',
      'for each clip whose logits differ: the first frame where they part, the states that drift, ' +
        'the first differing tensor (ONNX backends)',
      false,
    )
    .option(
      '--logits-out <dir>',
      "keep every backend's logits there, for a run on another platform to compare with (--against)",
    )
    .option(
      '--against <dir>',
      "also compare each backend with its own logits kept there by another platform's run (--logits-out): " +
        'pairs name@there vs name@here',
    )
    .option(
      '--streams <n>',
      'the clips through one batched session of n slots per backend (streams start, pause, end and arrive out of ' +
        `order), each compared with its own single-stream run: bit for bit on int8 graphs (default backends: ` +
        `${STREAM_BACKENDS.join(',')})`,
      intParser('--streams', 1, MAX_STREAMS),
    )
    .option('--json', 'print the report as JSON on stdout', false)
    .option(
      '--target <where>',
      'node, or chromium: every backend also runs in headless Chromium, compared with the first in Node',
      choiceParser('--target', TARGETS),
      'node',
    )
    .action(async (flags: ParityFlags, cmd: Command) => {
      const named = cmd.getOptionValueSource('backends') !== 'default';
      if (!named && flags.streams !== undefined) flags.backends = STREAM_BACKENDS;
      else if (!named && flags.target === 'chromium') flags.backends = BROWSER_DEFAULT_BACKENDS;
      const out = flags.out ?? defaultReportPath('parity');
      assertWritable(out);
      const report = await parityReport({
        ...withFrameCache(flags),
        progress: createProgress(flags.json, 'clips'),
      });
      emitReport(report, out, flags.json);
      if (flags.json) return;
      // The table's rule is the float one; a batched int8 graph is held to more, which it does not say.
      if (flags.streams !== undefined)
        process.stdout.write(
          `streams: each clip batched against its own single-stream run; on int8 graphs a clip matches only ` +
            `when every frame's logits and states are the same bit for bit\n`,
        );
      const parted = report.pairs.some((p) => p.clips.some((c) => c.locate));
      if (flags.locate || (flags.streams !== undefined && parted)) process.stdout.write(`${locateText(report)}\n`);
    });
}
