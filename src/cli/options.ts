import { ResizeModeSchema, type ResizeMode } from '../core/results.js';
import type { ShardRequest } from '../run/shard.js';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { cacheDir } from '../util/paths.js';
import type { FrameCacheOptions } from '../video/frame-cache.js';
import { ffmpegVersion } from '../video/ffmpeg.js';

export function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

export function intParser(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got '${value}'`,
      );
    }
    return n;
  };
}

export function parsePercentiles(value: string): number[] {
  const list = parseList(value);
  if (list.length > 20) throw new InvalidArgumentError(`at most 20 percentiles, got ${list.length}`);
  return list.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n <= 0 || n >= 100)
      throw new InvalidArgumentError(`percentiles must be numbers between 0 and 100, got '${p}'`);
    return n;
  });
}

export function parseResize(value: string): ResizeMode {
  return choiceParser('--resize', ResizeModeSchema.options)(value);
}

/** "i/n" with 0 <= i < n, or "auto" / "auto/n" (the index from the engine's environment). */
export function parseShard(value: string): ShardRequest {
  const auto = /^auto(?:\/(\d+))?$/.exec(value);
  if (auto) {
    const count = auto[1] === undefined ? null : Number(auto[1]);
    if (count === 0) throw new InvalidArgumentError(`--shard auto/n needs n >= 1, got '${value}'`);
    return { kind: 'auto', count };
  }
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count)
    throw new InvalidArgumentError(`--shard must be i/n with 0 <= i < n, auto or auto/n, got '${value}'`);
  return { kind: 'explicit', index, count };
}

/** A finite number in [min, max], e.g. a fraction or a percentage. */
export function numberParser(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got '${value}'`);
    return n;
  };
}

/** A number above zero, e.g. seconds. */
export function positiveParser(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(
        `${name} must be a number above 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}, got '${value}'`,
      );
    return n;
  };
}

/** One of a fixed set of words. */
export function choiceParser<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got '${value}'`);
    return value as T;
  };
}

export interface FrameCacheFlags {
  frameCache?: string | boolean;
  frameCacheMax: number;
}

/** --frame-cache [dir] and its size bound, on the commands that decode clips. */
export function frameCacheOptions(cmd: Command): Command {
  return cmd
    .option(
      '--frame-cache [dir]',
      'keep decoded clips (by sha256, fps, size, resize, ffmpeg version) so repeated runs never decode ' +
        '(default dir: <cache>/frames)',
    )
    .option(
      '--frame-cache-max <MB>',
      'size bound of the frame cache; least recently used clips go first',
      intParser('--frame-cache-max', 1),
      4096,
    );
}

/** The flags with --frame-cache turned into the cache the run reads and writes (absent without the flag). */
export function withFrameCache<T extends FrameCacheFlags>(
  flags: T,
): Omit<T, 'frameCache'> & { frameCache?: FrameCacheOptions } {
  const { frameCache: dir, ...rest } = flags;
  if (!dir) return rest;
  return {
    ...rest,
    frameCache: {
      dir: typeof dir === 'string' ? path.resolve(dir) : path.join(cacheDir(), 'frames'),
      maxBytes: flags.frameCacheMax * 1024 * 1024,
      ffmpegVersion: ffmpegVersion(),
    },
  };
}
