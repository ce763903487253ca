import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKEND_NAMES, BROWSER_DEFAULT_BACKENDS, DEFAULT_BACKENDS } from '../backends/index.js';
import { TARGETS, type Target } from '../browser/chromium.js';
import { BENCH_FLAG } from '../run/bench-args.js';
import { benchReport } from '../run/bench.js';
import { COMMAND_DEFAULTS, userEnvironment } from '../run/defaults.js';
import { UserError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { stdioStartGate } from '../util/start-gate.js';
import { assertWritable, defaultReportPath, emitReport } from './emit.js';
import { choiceParser, intParser, numberParser, parseList, parsePercentiles } from './options.js';

/** Bounds that keep a mistyped count from starting a days-long run (about an hour at A0's speed here). */
const MAX_FRAMES = 100_000;
const MAX_REPEATS = 100;
const MAX_WARMUP = 10_000;
const MAX_MEASURED = 1_000_000;
const MAX_PROCESSES = 100;

interface BenchFlags {
  models: string[];
  backends: string[];
  threads: number;
  frames: number;
  warmup: number;
  repeats: number;
  processes: number;
  input: string;
  percentiles: number[];
  out?: string;
  json: boolean;
  skipMissing: boolean;
  overhead: boolean;
  roofline: boolean;
  profile: boolean;
  cache: boolean;
  target: Target;
  machine?: string;
  startSignal: boolean;
  selfTestSlowdown: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('per-frame latency of step() for each model x backend, states carried frame to frame')
    .option(`${BENCH_FLAG.models} <ids>`, 'model ids or .tflite paths, comma-separated', parseList, [
      ...COMMAND_DEFAULTS.models,
    ])
    .option(
      `${BENCH_FLAG.backends} <names>`,
      `runtimes: ${BACKEND_NAMES.join(', ')} (default with --target chromium: ${BROWSER_DEFAULT_BACKENDS.join(',')})`,
      parseList,
      DEFAULT_BACKENDS,
    )
    .option(
      `${BENCH_FLAG.threads} <n>`,
      'CPU threads per runtime',
      intParser('--threads', 1, 256),
      COMMAND_DEFAULTS.threads,
    )
    .option(
      `${BENCH_FLAG.frames} <n>`,
      'measured frames per repeat',
      intParser('--frames', 1, MAX_FRAMES),
      COMMAND_DEFAULTS.frames,
    )
    .option(
      `${BENCH_FLAG.warmup} <n>`,
      'warm-up frames, not measured',
      intParser('--warmup', 0, MAX_WARMUP),
      COMMAND_DEFAULTS.warmup,
    )
    .option(
      `${BENCH_FLAG.repeats} <n>`,
      'measured passes, each from zero state',
      intParser('--repeats', 1, MAX_REPEATS),
      COMMAND_DEFAULTS.repeats,
    )
    .option(
      `${BENCH_FLAG.processes} <n>`,
      'separate processes per pair, each with its own load and warm-up (5 or more for reports that compare will test)',
      intParser('--processes', 1, MAX_PROCESSES),
      COMMAND_DEFAULTS.processes,
    )
    .option(`${BENCH_FLAG.input} <src>`, "'synthetic' or a video file (decoded before timing)", COMMAND_DEFAULTS.input)
    .option(`${BENCH_FLAG.percentiles} <list>`, 'percentiles to report', parsePercentiles, [
      ...COMMAND_DEFAULTS.percentiles,
    ])
    .option(`${BENCH_FLAG.out} <file>`, 'report path (default reports/bench-<time>.json)')
    .option(
      `${BENCH_FLAG.machine} <label>`,
      'label the results with this machine name (default: MOVINET_MACHINE, else CPU model and core count)',
      (v: string) => {
        if (!v.trim()) throw new InvalidArgumentError('--machine needs a non-empty label');
        return v.trim();
      },
    )
    .option(`${BENCH_FLAG.json}`, 'print the report as JSON on stdout; progress and logs stay on stderr', false)
    .option(
      `${BENCH_FLAG.skipMissing}`,
      'exit 0 when requested models are missing (they are still listed as skipped)',
      false,
    )
    .option(`${BENCH_FLAG.noCache}`, 'convert models afresh: neither read nor write the conversion cache')
    .option(
      `${BENCH_FLAG.profile}`,
      "after the timed runs, a separate run with each runtime's op profiler (time per op type, top nodes)",
      false,
    )
    .option(`${BENCH_FLAG.noOverhead}`, 'skip the bare-runtime loop that measures harness overhead')
    .option(
      `${BENCH_FLAG.noRoofline}`,
      'skip the peak probe (a 1x1 conv through each runtime, after the timed runs) ' +
        "that puts each row's GMAC/s beside this CPU's",
    )
    .addOption(
      // ab's self-test hook: accepted, never shown, so a user's --help lists only what measures.
      new Option(`${BENCH_FLAG.selfTestSlowdown} <fraction>`, 'slow every step by this fraction (ab self-test)')
        .argParser(numberParser(BENCH_FLAG.selfTestSlowdown, 0, 1))
        .default(0)
        .hideHelp(),
    )
    .option(
      `${BENCH_FLAG.startSignal}`,
      "for ab's duet mode: after warm-up say so on stderr and wait for 'go' on stdin; " +
        "after the measured frames keep stepping until 'stop'",
      false,
    )
    .option(
      `${BENCH_FLAG.target} <where>`,
      `where step() runs: ${TARGETS.join(' or ')} (headless Chromium, the runtimes' browser builds)`,
      choiceParser('--target', TARGETS),
      'node',
    )
    .action(async (flags: BenchFlags, cmd: Command) => {
      if (flags.target === 'chromium' && cmd.getOptionValueSource('backends') === 'default')
        flags.backends = BROWSER_DEFAULT_BACKENDS;
      const measured = flags.frames * flags.repeats * flags.processes;
      if (measured > MAX_MEASURED) {
        throw new UserError(
          `--frames x --repeats x --processes is ${measured}; at most ${MAX_MEASURED} frames are measured in one run`,
        );
      }
      const onePair = flags.models.length === 1 && flags.backends.length === 1;
      if (flags.startSignal && (!onePair || flags.processes > 1 || flags.target !== 'node'))
        throw new UserError(
          '--start-signal starts one measurement on a signal: ' +
            'it needs one model, one backend, --processes 1 and --target node',
        );
      const out = flags.out ?? defaultReportPath('bench');
      assertWritable(out);
      const { machine, startSignal, ...settings } = flags;
      const report = await benchReport({
        ...settings,
        // MOVINET_MACHINE is user input like the flag, read here once; below, the label travels as data.
        machine: machine ?? userEnvironment().machine,
        percentiles: [...new Set(flags.percentiles)].sort((a, b) => a - b),
        cli: fileURLToPath(new URL('./main.js', import.meta.url)),
        progress: createProgress(flags.json, 'frames'),
        ...(startSignal ? { gate: stdioStartGate() } : {}),
      });
      emitReport(report, out, flags.json, { skipMissing: flags.skipMissing });
    });
}
