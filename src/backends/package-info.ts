import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../util/errors.js';

const require = createRequire(import.meta.url);

/** Directory of an installed package (found through its package.json, which every package exports or ships). */
export function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || readJson(path.join(dir, 'package.json')).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = up;
  }
  return dir;
}

function readJson(file: string): { name?: string; version?: string } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
}

export function packageVersion(name: string): string {
  try {
    return readJson(path.join(packageDir(name), 'package.json')).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export { require as requireCjs };

/**
 * A runtime that cannot run here (a platform it has no build for, a package npm dropped, a library that
 * could not be fetched): a skipped pair where pairs are planned, one line and exit 2 for a single backend.
 */
export class RuntimeUnavailable extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUnavailable';
  }
}

/** For `Backend.available`: null when `load` succeeds, else why not; any other failure is a bug and goes up. */
export async function whyUnavailable(load: () => Promise<unknown>): Promise<string | null> {
  try {
    await load();
    return null;
  } catch (e) {
    if (e instanceof RuntimeUnavailable) return e.message;
    throw e;
  }
}
