import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';

/** The checkout root: compiled files live in dist/src/<dir>/, sources in src/<dir>/. */
export const PROJECT_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const i = parts.lastIndexOf('src');
  const upTo = parts[i - 1] === 'dist' ? i - 1 : i;
  return parts.slice(0, upTo).join(path.sep) || path.sep;
})();

/**
 * A compiled module of this package by its path under src/, for a worker or a bundle to load by file: the CLI is
 * one bundled file (scripts/bundle-cli.ts), so a path relative to the calling module's own file would miss.
 */
export function builtFile(...underSrc: string[]): string {
  return path.join(PROJECT_ROOT, 'dist', 'src', ...underSrc);
}

/** A git checkout of the project (a clone or a worktree), not an installed package. */
export function isCheckout(): boolean {
  return fs.existsSync(path.join(PROJECT_ROOT, '.git'));
}

/**
 * Where models and datasets are read from: $MOVINET_DATA_DIR; in a checkout, ../shared beside it; installed,
 * the user cache (where first use fetches them).
 */
export function dataDir(): string {
  const env = process.env.MOVINET_DATA_DIR;
  if (env) return path.resolve(env);
  return isCheckout() ? path.resolve(PROJECT_ROOT, '..', 'shared') : cacheDir();
}

/** Where reports are written and looked up by default: ./reports of the directory the command runs in. */
export function reportsDir(): string {
  return path.resolve(process.cwd(), 'reports');
}

/** Converted-model cache: $MOVINET_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, under movinet-bench. */
export function cacheDir(): string {
  if (process.env.MOVINET_CACHE_DIR) return path.resolve(process.env.MOVINET_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME ?? path.join(process.env.HOME ?? PROJECT_ROOT, '.cache');
  return path.join(base, 'movinet-bench');
}

/**
 * Where a downloaded file of the data layout (`models/<file>`, `datasets/<subset>/<file>`) is kept: the cache
 * repeats ../shared's layout, so a cache folder can be copied to a data dir or served as a mirror as it is.
 */
export function cachedDataFile(relative: string): string {
  const root = cacheDir();
  const file = path.resolve(root, relative);
  const rel = path.relative(root, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))
    throw new UserError(`data file ${relative} would leave the cache folder ${root}`);
  return file;
}
