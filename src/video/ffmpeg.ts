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
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

function tool(name: 'ffmpeg' | 'ffprobe', envVar: string): string {
  const override = process.env[envVar];
  if (override) {
    if (!fs.existsSync(override)) throw new UserError(`${envVar}=${override} does not exist`);
    return override;
  }
  // FFMPEG_PATH also locates ffprobe when it sits beside it.
  const ff = process.env.FFMPEG_PATH;
  if (name === 'ffprobe' && ff) {
    const sibling = path.join(path.dirname(ff), 'ffprobe');
    if (fs.existsSync(sibling)) return sibling;
  }
  const found = which(name);
  if (!found)
    throw new UserError(`${name} not found on PATH; install it (Debian: apt-get install ffmpeg) or set ${envVar}`);
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

/** One decoder thread: decoding stays on the spare core instead of competing with the timed inference. */
export function decodeArgs(file: string, spec: DecodeSpec): string[] {
  return [
    '-v',
    'error',
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
