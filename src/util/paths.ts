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

/** Where models and datasets are read from: $MOVINET_DATA_DIR, or ../shared beside the checkout. */
export function dataDir(): string {
  const env = process.env.MOVINET_DATA_DIR;
  return env ? path.resolve(env) : path.resolve(PROJECT_ROOT, '..', 'shared');
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
