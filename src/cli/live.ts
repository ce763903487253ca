import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ResizeMode } from '../core/results.js';
import { DEFAULT_OPEN_ENDED_S } from '../live/pair.js';
import { LivePolicySchema, SCHEDULES, type LivePolicy, type ScheduleKind } from '../live/result.js';
import { STATE_PLACEMENTS, type StatePlacement } from '../live/stream-states.js';
import { PHASES, type Phase } from '../live/streams.js';
import { liveReport } from '../run/live.js';
import { signalExitCode } from '../util/child.js';
import { createProgress, logLine } from '../util/progress.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import { choiceParser, intParser, parseList, parseResize, positiveParser } from './options.js';

/** Bounds that keep a mistyped figure from starting an endless run. */
const MAX_FPS = 10_000;
const MAX_DURATION_S = 3600;
const MAX_RUNS = 100;
const MAX_WARMUP = 1000;

interface LiveFlags {
  model: string[];
  backend: string[];
  input: string;
  fps?: number | 'auto';
  duration?: number;
  policy: LivePolicy;
  loop: boolean;
  runs: number;
  warmup: number;
  threads: number;
  resize: ResizeMode;
  labels?: string;
  out?: string;
  json: boolean;
  skipMissing: boolean;
  cache: boolean;
  streams?: number | 'auto';
  phase: Phase;
  state: StatePlacement | 'auto';
  schedule: ScheduleKind;
  maxBatch?: number;
}

/** What the batched schedule runs when no backend is named: those of the default that can batch. */
const BATCHED_BACKENDS = ['onnxruntime'];

/** At most this many streams are asked for by hand; auto searches further. */
const MAX_STREAMS = 1024;

function parseStreams(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_STREAMS)
    throw new InvalidArgumentError(
      `--streams must be a whole number from 1 to ${MAX_STREAMS}, or auto; got '${value}'`,
    );
  return n;
}

function parseFps(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  try {
    return positiveParser('--fps', MAX_FPS)(value);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message} (or 'auto')`);
  }
}

export function registerLive(program: Command): void {
  program
    .command('live')
    .description(
      'a camera-paced stream from a video (or a V4L2 camera): ' +
        'end-to-end latency per frame, drops, jitter, CPU, top-1 over time',
    )
    .requiredOption('--input <video|/dev/videoN>', 'a video file, decoded in real time, or a V4L2 camera')
    .option('--model <ids>', 'model ids or .tflite paths, comma-separated', parseList, ['a0'])
    .option('--backend <names>', 'runtimes, comma-separated', parseList, ['tfjs-tflite'])
    .option(
      '--fps <n|auto>',
      "frames delivered per second (the video is sampled at the model's fps; more plays it faster); " +
        "auto: the highest rate sustained (default: the model's fps)",
      parseFps,
    )
    .option(
      '--duration <seconds>',
      `wall time per run (default: the clip once; ${DEFAULT_OPEN_ENDED_S} with --loop or a camera)`,
      positiveParser('--duration', MAX_DURATION_S),
    )
    .option(
      '--policy <policy>',
      'latest: drop frames the model could not take in time; queue: never drop, let latency grow',
      choiceParser('--policy', LivePolicySchema.options),
      'latest',
    )
    .option('--loop', 'loop the clip until --duration', false)
    .option(
      '--runs <n>',
      'streams per pair, each from zero state (5 or more for reports that compare will test)',
      intParser('--runs', 1, MAX_RUNS),
      1,
    )
    .option(
      '--warmup <n>',
      'steps on synthetic frames after load, before any run',
      intParser('--warmup', 0, MAX_WARMUP),
      5,
    )
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--resize <mode>', 'crop (shorter side, center crop) or squash', parseResize, 'crop')
    .option('--labels <file>', 'label file for a model given by path (one class per line)')
    .option('--out <file>', 'report path (default reports/live-<time>.json)')
    .option('--json', 'print the report as JSON on stdout; progress and logs stay on stderr', false)
    .option('--skip-missing', 'exit 0 when requested models are missing (they are still listed as skipped)', false)
    .option('--no-cache', 'convert models afresh: neither read nor write the conversion cache')
    .option(
      '--streams <n|auto>',
      'N paced streams in one process, each with its own states and clip (--input: files, comma-separated, or a ' +
        'dataset); auto: the largest N whose p99 end-to-end (early-stopping estimate) stays within a frame period ' +
        'with no frame dropped',
      parseStreams,
    )
    .option(
      '--phase <phase>',
      "with --streams: the streams' frames spread over the frame period, or aligned (all at once)",
      choiceParser('--phase', PHASES),
      'spread',
    )
    .option(
      '--state <placement>',
      'with --streams: each stream in a session of its own, ' +
        'or one session whose states are saved and restored per step; ' +
        'auto measures both and takes the cheaper',
      choiceParser('--state', ['auto', ...STATE_PLACEMENTS] as const),
      'auto',
    )
    .option(
      '--schedule <schedule>',
      'with --streams: sequential steps the waiting frame captured earliest, one call each; batched steps every ' +
        'stream with a frame waiting in one call on the batch axis, never waiting for more ' +
        `(backends that can batch; default backend then ${BATCHED_BACKENDS.join(',')})`,
      choiceParser('--schedule', SCHEDULES),
      'sequential',
    )
    .option(
      '--max-batch <n>',
      'with --schedule batched: the most streams one call steps, the earliest captured first (default: all)',
      intParser('--max-batch', 1, MAX_STREAMS),
    )
    .action(async (flags: LiveFlags, cmd: Command) => {
      if (flags.schedule === 'batched' && cmd.getOptionValueSource('backend') === 'default')
        flags.backend = BATCHED_BACKENDS;
      const out = flags.out ?? defaultReportPath('live');
      assertWritable(out);
      const controller = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      // The first signal stops the stream and lets the report of what ran be written; a second one does not wait.
      const onSignal = (signal: NodeJS.Signals) => {
        if (stoppedBy) process.exit(signalExitCode(signal));
        stoppedBy = signal;
        logLine(flags.json, `live: ${signal}: stopping, the report will hold what ran`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await liveReport({
          models: flags.model,
          backends: flags.backend,
          input: flags.input,
          fps: flags.fps,
          durationS: flags.duration,
          policy: flags.policy,
          loop: flags.loop,
          runs: flags.runs,
          warmup: flags.warmup,
          threads: flags.threads,
          resize: flags.resize,
          labels: flags.labels,
          cache: flags.cache,
          streams: flags.streams,
          phase: flags.phase,
          state: flags.state,
          schedule: flags.schedule,
          ...(flags.maxBatch === undefined ? {} : { maxBatch: flags.maxBatch }),
          signal: controller.signal,
          progress: createProgress(flags.json, 'frames'),
          log: (line) => logLine(flags.json, line),
        });
        emitReport(report, out, flags.json, { skipMissing: flags.skipMissing, signal: stoppedBy });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
