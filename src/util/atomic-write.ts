import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

/** The nearest ancestor of `dir` that exists (the root always does). */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!fs.existsSync(d)) d = path.dirname(d);
  return d;
}

/**
 * Fails early, before any work is done, when the output file could not be
 * written: every part of the path that exists must be a directory we can
 * write into (or the file itself, when it is there). Leaves nothing behind.
 */
export function assertWritable(file: string): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const base = existingAncestor(dir);
  if (!fs.statSync(base).isDirectory())
    throw new UserError(`cannot write output ${file}: ${base} is a file, not a directory`);
  try {
    fs.accessSync(base, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    throw new UserError(
      `cannot write output ${file}: ${base} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  probeCreate(file, base);
  if (base === dir && fs.existsSync(target)) {
    if (fs.statSync(target).isDirectory()) throw new UserError(`cannot write output ${file}: it is a directory`);
    try {
      fs.accessSync(target, fs.constants.W_OK);
    } catch {
      throw new UserError(`cannot write output ${file}: the file is not writable`);
    }
  }
}

/**
 * Creates and removes an entry in `dir`: permission bits pass for root everywhere, yet a pseudo-filesystem such
 * as /proc refuses new entries, and a long run should learn that before it starts, not when it writes.
 */
function probeCreate(file: string, dir: string): void {
  let probe: string;
  try {
    probe = fs.mkdtempSync(path.join(dir, '.movinet-probe-'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`cannot write output ${file}: nothing can be created in ${dir} (${code})`);
  }
  fs.rmSync(probe, { recursive: true, force: true });
}

/** mkdir -p one level at a time: Node's recursive mkdir spins forever under /proc. */
function makeDirs(dir: string): void {
  if (fs.existsSync(dir)) return;
  makeDirs(path.dirname(dir));
  fs.mkdirSync(dir);
}

/** Removes a file if it is there; never throws (cleanup must not hide the error it cleans up after). */
export function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // Nothing to do: the caller is already reporting the real failure.
  }
}

/** Writes via a temporary file in the same directory and a rename, so readers never see half a report. */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  assertWritable(file);
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    makeDirs(path.dirname(target));
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, target);
  } catch (e) {
    removeQuietly(tmp);
    throw new UserError(`cannot write output ${file}: ${(e as Error).message}`);
  }
}
