import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Backend } from '../src/backends/backend.js';
import type { ResolvedModel } from '../src/models/resolve.js';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { StreamStepper } from '../src/stream/stream.js';
import { dataDir, PROJECT_ROOT } from '../src/util/paths.js';
import { ffmpegPath } from '../src/video/ffmpeg.js';

export const SAMPLE_DIR = path.join(dataDir(), 'datasets', 'kinetics-sample');
export const CUSTOM_MODEL = path.join(dataDir(), 'models', 'custom', 'a0_stream_finetuned_7class_int8.tflite');
/** The built CLI, as the README's commands and every child process run it. */
export const CLI_MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
export const A0_FILE = path.join(dataDir(), 'models', 'movinet_a0_stream_k600_int8.tflite');

export function clip(name: string): string {
  return path.join(SAMPLE_DIR, name);
}

export const ARM_WRESTLING = clip('arm_wrestling__mmaction2-demo.mp4');

const tempDirs = new Set<string>();

/**
 * A new folder under the temporary folder, removed when this test process exits: a test run leaves nothing
 * behind. What a person should look at after the run goes to `lookDir`.
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (tempDirs.size === 0)
    process.once('exit', () => {
      for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  tempDirs.add(dir);
  return dir;
}

/** dist/test-output/<name>, emptied when a run starts: a page or screenshots to look at, one set, the last run's. */
export function lookDir(name: string): string {
  const dir = path.join(PROJECT_ROOT, 'dist', 'test-output', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

let shortDir: string | undefined;

/**
 * The first `seconds` of a sample clip, cut once per test process without re-encoding and under the same file
 * name: the real frames, fewer of them, for a test whose point is a schedule, a merge or a comparison of two
 * runs rather than a whole clip.
 */
export function shortClip(name: string, seconds: number): string {
  shortDir ??= tempDir('movinet-short-');
  const out = path.join(shortDir, `${seconds}s`, name);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const args = ['-v', 'error', '-i', clip(name), '-t', String(seconds), '-map', '0:v:0', '-c', 'copy', out];
  const r = spawnSync(ffmpegPath(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cutting ${name}: ${r.stderr}`);
  return out;
}

/**
 * Four real clips of three lengths, with their labels: the first seconds of three and the whole 1.8 s fourth.
 * Tests that compare every frame of two runs, or a schedule, use them: a whole clip only adds more of the same.
 */
export function fourShortClips(): readonly (readonly [string, string])[] {
  return [
    [shortClip('arm_wrestling__mmaction2-demo.mp4', 3), 'arm wrestling'],
    [shortClip('tai_chi__mmskeleton-ta_chi.mp4', 4), 'tai chi'],
    [clip('windsurfing__video-segmentation-surf.mp4'), 'windsurfing'],
    [shortClip('flipping_pancake__decord-flipping_a_pancake.mkv', 3), 'flipping pancake'],
  ];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, without a TTY (so no progress bars). */
export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The built CLI in a child that does not block this process: a server running in this event loop (a mirror, a
 * stand-in host) must be able to answer it. The machine's own proxy, offline, mirror, source-list and CI settings
 * are not inherited, so a case sets its own.
 */
export function cliAsync(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { onSpawn?: (kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<CliResult & { ms: number; signal: NodeJS.Signals | null }> {
  const t0 = performance.now();
  const inherited = /^(https?_proxy|no_proxy|movinet_offline|movinet_mirror|movinet_sources|ci)$/i;
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !inherited.test(k)));
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  opts.onSpawn?.((s) => child.kill(s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** The runtime of `benchA0`: the fastest to load and step, for tests whose point is not the runtime. */
export const BENCH_A0_BACKEND = 'onnxruntime';

/** A short real bench of A0 (20 frames after 5 warm-up, no roofline) through the CLI; `extra` adds flags. */
export function benchA0(out: string, extra: string[] = [], env: Record<string, string> = {}): BenchReport {
  const r = cli(
    [
      'bench',
      ...['--models', 'a0', '--backends', BENCH_A0_BACKEND, '--frames', '20', '--warmup', '5', '--no-roofline'],
      ...extra,
      ...['--out', out],
    ],
    env,
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return readReport(out) as BenchReport;
}

/** A one-line error: exactly one non-empty stderr line, no stack frames. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.trim());
  return lines.length === 1 && /^movinet-bench: error: /.test(lines[0]!) && !/\n\s+at /.test(stderr);
}

/** Live processes whose command line names every one of `needles` (read from /proc): pid and command line. */
export function pidsNaming(...needles: string[]): { pid: number; cmd: string }[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return needles.every((n) => cmd.includes(n)) ? [{ pid: Number(pid), cmd }] : [];
      } catch {
        return [];
      }
    });
}

/** Command lines of live processes that name every one of `needles`. */
export function processesNaming(...needles: string[]): string[] {
  return pidsNaming(...needles).map((p) => p.cmd);
}

/** Polls `check` every `stepMs` until it holds or `ms` have passed; its last answer. */
export async function waitFor(check: () => boolean, ms: number, stepMs = 100): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, stepMs)))
    if (check()) return true;
  return check();
}

/**
 * Three streams over two clips, each stream's logits as the scheduler got them, against its clip stepped alone on a
 * single-stream session: stream 0 plays clip 0 from its start, stream 1 clip 1, stream 2 clip 0 from its middle
 * (frame 6).
 */
export async function assertOwnStreamLogits(
  t: ExecutionContext,
  backend: Backend,
  model: ResolvedModel,
  frames: readonly (readonly Float32Array[])[],
  logits: readonly Float32Array[][],
): Promise<void> {
  t.true(
    logits.every((l) => l.length >= 6),
    `every stream was stepped: ${logits.map((l) => l.length).join(', ')}`,
  );
  const starts = [
    [0, 0],
    [1, 0],
    [0, 6],
  ] as const;
  const single = await backend.load(model, { threads: 1 });
  try {
    for (const [s, [c, from]] of starts.entries()) {
      const stepper = new StreamStepper(single);
      try {
        for (const [i, got] of logits[s]!.entries()) {
          const want = (await stepper.step(frames[c]![(from + i) % frames[c]!.length]!)).logits;
          t.deepEqual(Array.from(got), Array.from(want), `stream ${s}, frame ${i}`);
        }
      } finally {
        stepper.close();
      }
    }
  } finally {
    single.dispose();
  }
}
