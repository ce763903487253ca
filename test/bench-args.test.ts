import path from 'node:path';
import test from 'ava';
import { Command } from 'commander';
import { registerBench } from '../src/cli/bench.js';
import { benchArgv, BENCH_FLAG, GLOBAL_FLAG, type BenchArgv } from '../src/run/bench-args.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { cli } from './helpers.js';

/** Every flag set, as a child is given them; parsed below by the CLI's own option definitions. */
const FULL: Required<BenchArgv> = {
  offline: true,
  models: ['a0', 'a1-arch'],
  backends: ['tfjs-tflite', 'onnxruntime'],
  threads: 2,
  frames: 7,
  warmup: 3,
  repeats: 2,
  processes: 1,
  input: 'synthetic',
  percentiles: [50, 99],
  out: '/tmp/x.json',
  machine: 'box',
  json: true,
  skipMissing: true,
  noCache: true,
  profile: true,
  noOverhead: true,
  noRoofline: true,
  selfTestSlowdown: 0.25,
  startSignal: true,
  target: 'node',
};

test("a child's bench command line is parsed by the CLI's own options into the values it was built from", async (t) => {
  const program = new Command('movinet-bench').exitOverride().option(GLOBAL_FLAG.offline);
  registerBench(program);
  const bench = program.commands.find((c) => c.name() === 'bench')!;
  let parsed: Record<string, unknown> | undefined;
  // The measuring action is replaced: only the parse is under test.
  bench.action((flags: Record<string, unknown>) => void (parsed = flags));
  const argv = benchArgv('cli.js', FULL);
  t.is(argv[0], 'cli.js');
  await program.parseAsync(argv.slice(1), { from: 'user' });
  t.true(program.opts<{ offline?: boolean }>().offline);
  t.like(parsed, {
    models: FULL.models,
    backends: FULL.backends,
    threads: 2,
    frames: 7,
    warmup: 3,
    repeats: 2,
    processes: 1,
    input: 'synthetic',
    percentiles: [50, 99],
    out: '/tmp/x.json',
    machine: 'box',
    json: true,
    skipMissing: true,
    cache: false,
    profile: true,
    overhead: false,
    roofline: false,
    selfTestSlowdown: 0.25,
    startSignal: true,
    target: 'node',
  });
});

test('bench --help lists every flag children and ab rely on, and hides the self-test hook', (t) => {
  const help = cli(['bench', '--help']).stdout;
  for (const [key, flag] of Object.entries(BENCH_FLAG)) {
    if (key === 'selfTestSlowdown') t.false(help.includes(flag), `${flag} is a test hook`);
    else t.true(help.includes(flag), `${flag} missing from bench --help: ab probes an older build's help for it`);
  }
  t.true(cli(['--help']).stdout.includes(GLOBAL_FLAG.offline));
});

test('ab --help hides its self-test hook and shows its default folder relative to where it runs', (t) => {
  const help = cli(['ab', '--help']).stdout;
  t.false(help.includes('--self-test-slowdown'));
  t.regex(help, /\(default: reports\/ab\)/);
  t.false(help.includes(PROJECT_ROOT + path.sep), 'no absolute path of the checkout');
});
