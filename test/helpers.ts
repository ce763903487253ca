import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { dataDir, PROJECT_ROOT } from '../src/util/paths.js';

export const SAMPLE_DIR = path.join(dataDir(), 'datasets', 'kinetics-sample');
export const CUSTOM_MODEL = path.join(dataDir(), 'models', 'custom', 'a0_stream_finetuned_7class_int8.tflite');
export const A0_FILE = path.join(dataDir(), 'models', 'movinet_a0_stream_k600_int8.tflite');

export function clip(name: string): string {
  return path.join(SAMPLE_DIR, name);
}

export const ARM_WRESTLING = clip('arm_wrestling__mmaction2-demo.mp4');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, without a TTY (so no progress bars). */
export function cli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A short real bench of A0 on tfjs-tflite (20 frames after 5 warm-up, no roofline) through the CLI; `extra` adds flags. */
export function benchA0(out: string, extra: string[] = [], env: Record<string, string> = {}): BenchReport {
  const r = cli(
    [
      'bench',
      ...['--models', 'a0', '--backends', 'tfjs-tflite', '--frames', '20', '--warmup', '5', '--no-roofline'],
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
