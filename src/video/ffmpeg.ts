import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';

import type { ResizeMode } from '../core/results.js';

export type { ResizeMode };

/**
 * fluent-ffmpeg is deprecated and archived upstream, so the command line is
 * built here and ffmpeg is spawned directly. One place builds the filter chain,
 * so every command decodes exactly the same pixels.
 */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && !unrunnable(p)) return p;
  }
  return undefined;
}

/** Why `p` cannot be run, or undefined when it can. */
function unrunnable(p: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 'does not exist';
  }
  if (!st.isFile()) return 'is not a file';
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    return 'is not executable';
  }
  return undefined;
}

/** How each platform installs it. */
const FFMPEG_PACKAGES = [
  'Debian/Ubuntu: apt-get install ffmpeg',
  'macOS: brew install ffmpeg',
  'Windows: winget install ffmpeg',
].join('; ');

/**
 * Checked up front so that a bad override fails with its own reason, before
 * a spawn error can be buried under the exit status that follows it.
 */
function tool(name: 'ffmpeg' | 'ffprobe', envVar: string): string {
  const override = process.env[envVar];
  if (override) {
    const why = unrunnable(override);
    if (why) throw new UserError(`cannot run ${name}: ${envVar}=${override} ${why}`);
    return override;
  }
  // FFMPEG_PATH also locates ffprobe when it sits beside it.
  const ff = process.env.FFMPEG_PATH;
  if (name === 'ffprobe' && ff) {
    const sibling = path.join(path.dirname(ff), 'ffprobe');
    if (!unrunnable(sibling)) return sibling;
  }
  const found = which(name);
  if (!found) {
    const install = `install ffmpeg (${FFMPEG_PACKAGES}) or set ${envVar}`;
    throw new UserError(`${name} not found on PATH; clips need it: ${install}`);
  }
  return found;
}

export const ffmpegPath = (): string => tool('ffmpeg', 'FFMPEG_PATH');
export const ffprobePath = (): string => tool('ffprobe', 'FFPROBE_PATH');

export function ffmpegVersion(): string {
  try {
    const r = spawnSync(ffmpegPath(), ['-version'], { encoding: 'utf8' });
    return (
      r.stdout
        .split('\n')[0]
        ?.replace(/^ffmpeg version /, '')
        .split(' ')[0] ?? 'unknown'
    );
  } catch {
    return 'not found';
  }
}

export interface DecodeSpec {
  size: number;
  fps: number;
  resize: ResizeMode;
}

/** The reproducible filter chain: resample to fps, scale the shorter side (bicubic default), center-crop; or squash. */
export function filterChain(spec: DecodeSpec): string {
  const { size: s, fps } = spec;
  return spec.resize === 'crop'
    ? `fps=${fps},scale=${s}:${s}:force_original_aspect_ratio=increase,crop=${s}:${s}`
    : `fps=${fps},scale=${s}:${s}`;
}

/**
 * One decoder thread: decoding stays on the spare core instead of competing
 * with the timed inference. The log is at info level for the input banner's
 * duration, with each line tagged by its level so errors stand apart from
 * warnings (FfmpegLog in integrity.ts reads it).
 */
export function decodeArgs(file: string, spec: DecodeSpec): string[] {
  return [
    '-v',
    'level+info',
    '-hide_banner',
    '-nostats',
    '-nostdin',
    '-threads',
    '1',
    '-i',
    file,
    '-an',
    '-sn',
    '-vf',
    filterChain(spec),
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/**
 * The decoder's own CPU cost for a clip at a spec: ffmpeg decodes and converts it to nothing with -benchmark,
 * which prints the CPU time it used. Seconds of CPU per second of video, so a stream's share of a core is
 * known apart from inference (frames are decoded before a multi-stream run).
 */
export function decoderCpuPerSecond(file: string, spec: DecodeSpec, videoSeconds: number): number {
  const args = [...decodeArgs(file, spec).slice(0, -3), '-benchmark', '-f', 'null', '-'];
  const r = spawnSync(ffmpegPath(), args, { encoding: 'utf8' });
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new UserError(`ffmpeg could not time decoding ${file}: ${lastLine(r.stderr ?? '')}`);
  return (Number(m[1]) + Number(m[2])) / Math.max(videoSeconds, 1e-3);
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
