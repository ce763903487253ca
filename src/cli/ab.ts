import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, DEFAULT_BACKENDS } from '../backends/index.js';
import { comparisonTable } from '../report/table.js';
import { AB_MODES, runAb, type AbMode } from '../run/ab.js';
import { AB_DEFAULTS } from '../run/defaults.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';
import { reportsDir } from '../util/paths.js';
import { createProgress } from '../util/progress.js';
import { addCompareOptions, compareOptions, emitComparison, type CompareFlags } from './compare.js';
import { assertWritable } from './emit.js';
import { choiceParser, intParser, numberParser, parseList } from './options.js';

interface AbFlags extends CompareFlags {
  baseline: string;
  models: string[];
  backends: string[];
  threads: number;
  frames: number;
  warmup: number;
  processes?: PairCounts;
  mode: AbMode;
  outDir: string;
  reportOnly: boolean;
  selfTestSlowdown: number;
}

const DEFAULT_PAIRS = [
  AB_DEFAULTS.processes,
  ...Object.entries(AB_DEFAULTS.processesFor).map(([backend, n]) => `${backend}=${n}`),
].join(',');

interface PairCounts {
  all: number;
  byBackend: Record<string, number>;
}

/** `10`, or `10,onnxruntime=40`: pairs for every backend, then for the ones named. */
function parsePairs(value: string): PairCounts {
  const count = intParser('--processes', 2, 200);
  const out: PairCounts = { all: AB_DEFAULTS.processes, byBackend: {} };
  for (const item of parseList(value)) {
    const at = item.indexOf('=');
    if (at < 0) out.all = count(item);
    else out.byBackend[item.slice(0, at).trim()] = count(item.slice(at + 1).trim());
  }
  return out;
}

export function registerAb(program: Command): void {
  const cmd = program
    .command('ab')
    .description(
      'A/B latency run against another build of movinet-bench, interleaved or as a duet; ' +
        'exit 1 on a regression (for CI)',
    )
    .requiredOption('--baseline <dir>', 'a checkout or installed package of movinet-bench with a built CLI (dist/)')
    .option('--models <ids>', 'model ids or .tflite paths', parseList, ['a0'])
    .option('--backends <names>', `runtimes: ${BACKEND_NAMES.join(', ')}`, parseList, DEFAULT_BACKENDS)
    .option('--threads <n>', 'CPU threads per runtime', intParser('--threads', 1, 256), 1)
    .option('--frames <n>', 'measured frames per process', intParser('--frames', 1, 100_000), 200)
    .option('--warmup <n>', 'warm-up frames per process', intParser('--warmup', 0, 10_000), 20)
    .option(
      '--mode <mode>',
      `${AB_MODES.join(' or ')}: the sides take turns one process at a time, ` +
        'or run each pair at once on CPUs of their own (needs 2 x --threads CPUs and a baseline that has --mode duet)',
      choiceParser('--mode', AB_MODES),
      AB_DEFAULTS.mode,
    )
    .option(
      '--processes <n[,backend=n…]>',
      'pairs to compare (8 or more can reach alpha 0.01), ' +
        `and more for the backends named (default ${DEFAULT_PAIRS}); ` +
        'interleaved, a pair is one process per side, one after the other, over all backends; ' +
        'duet, one process per side and backend, both at once',
      parsePairs,
    )
    .addOption(
      new Option('--out-dir <dir>', 'where baseline.json, candidate.json and comparison.md go').default(
        path.join(reportsDir(), 'ab'),
        // Shown relative to where the command runs, as it is resolved.
        path.join('reports', 'ab'),
      ),
    )
    .option('--report-only', 'print the verdict but exit 0 (where machine noise must not block)', false)
    .addOption(
      new Option('--self-test-slowdown <fraction>', 'slow the candidate by this fraction (self-test)')
        .argParser(numberParser('--self-test-slowdown', 0, 1))
        .default(0)
        .hideHelp(),
    );
  const thresholds = new Map<number | 'all', number>(
    Object.entries(AB_DEFAULTS.thresholdPct).map(([p, v]) => [Number(p), v]),
  );
  addCompareOptions(cmd, thresholds).action(async (flags: AbFlags, command: Command) => {
    // A threshold given for one metric keeps ab's default for the others; one for all replaces them.
    if (command.getOptionValueSource('threshold') !== 'default' && !flags.threshold.has('all'))
      flags.threshold = new Map([...thresholds, ...flags.threshold]);
    // Given counts must name requested backends; the default's apply to those that are requested.
    const pairs = flags.processes ?? { all: AB_DEFAULTS.processes, byBackend: { ...AB_DEFAULTS.processesFor } };
    const stray = Object.keys(pairs.byBackend).filter((b) => !flags.backends.includes(b));
    if (stray.length && flags.processes)
      throw new UserError(
        `--processes names ${stray.join(', ')}, which --backends does not list (${flags.backends.join(',')})`,
      );
    const odd = [pairs.all, ...Object.values(pairs.byBackend)].some((n) => n % 2 === 1);
    if (flags.mode === 'duet' && odd)
      throw new UserError("--mode duet swaps the sides' CPUs pair by pair: --processes needs even counts");
    const outDir = path.resolve(flags.outDir);
    assertWritable(path.join(outDir, 'comparison.md'));
    const outcome = await runAb({
      ...flags,
      processes: pairs.all,
      processesFor: pairs.byBackend,
      outDir,
      candidate: fileURLToPath(new URL('./main.js', import.meta.url)),
      compare: compareOptions({ ...flags, paired: true }),
      progress: createProgress(flags.json, 'processes'),
    });
    writeFileAtomic(path.join(outDir, 'comparison.md'), `${comparisonTable(outcome.comparison, { format: 'md' })}\n`);
    writeFileAtomic(path.join(outDir, 'comparison.json'), `${JSON.stringify(outcome.comparison, null, 1)}\n`);
    emitComparison(outcome.comparison, flags, flags.reportOnly);
  });
}
