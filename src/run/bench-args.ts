/**
 * The flags of `bench` that other processes are given (`bench --processes`, `ab`'s sides, suite steps), in one
 * table: the CLI registers each option under this spelling and child command lines are built from it, so a
 * renamed flag changes both, a removed one fails to compile, and a test checks `bench --help` lists them all.
 */
export const BENCH_FLAG = {
  models: '--models',
  backends: '--backends',
  threads: '--threads',
  frames: '--frames',
  warmup: '--warmup',
  repeats: '--repeats',
  processes: '--processes',
  input: '--input',
  percentiles: '--percentiles',
  out: '--out',
  machine: '--machine',
  json: '--json',
  skipMissing: '--skip-missing',
  noCache: '--no-cache',
  profile: '--profile',
  noOverhead: '--no-overhead',
  noRoofline: '--no-roofline',
  selfTestSlowdown: '--self-test-slowdown',
  startSignal: '--start-signal',
  target: '--target',
} as const;

/** The program's own flags, given before the command. */
export const GLOBAL_FLAG = { offline: '--offline' } as const;

type ValueFlag = 'models' | 'backends' | 'threads' | 'frames' | 'warmup' | 'repeats' | 'processes';
type TextFlag = 'input' | 'out' | 'machine' | 'target';
type SwitchFlag = 'json' | 'skipMissing' | 'noCache' | 'profile' | 'noOverhead' | 'noRoofline' | 'startSignal';

/** What a child's `bench` is told; a field left out is not passed (the child's default holds). */
export type BenchArgv = Partial<
  Record<ValueFlag, number | readonly string[]> &
    Record<TextFlag, string> &
    Record<SwitchFlag, boolean> & {
      percentiles: readonly number[];
      selfTestSlowdown: number;
      offline: boolean;
    }
>;

const ORDER = Object.keys(BENCH_FLAG) as (keyof typeof BENCH_FLAG)[];

/** `node`'s arguments for `<cli> [--offline] bench …` with these settings. */
export function benchArgv(cli: string, argv: BenchArgv): string[] {
  const out: string[] = [cli, ...(argv.offline ? [GLOBAL_FLAG.offline] : []), 'bench'];
  for (const key of ORDER) {
    const value = argv[key];
    if (value === undefined || value === false) continue;
    if (value === true) out.push(BENCH_FLAG[key]);
    else if (key === 'selfTestSlowdown' && value === 0) continue;
    else out.push(BENCH_FLAG[key], Array.isArray(value) ? value.join(',') : String(value));
  }
  return out;
}
