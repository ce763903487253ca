import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

/** Fails early, before any work is done, when the output file could not be written. */
export function assertWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    makeDirs(dir);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(
      `cannot write output ${file}: directory ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new UserError(`cannot write output ${file}: it is a directory`);
  }
}

/** mkdir -p one level at a time: Node's recursive mkdir spins forever under /proc. */
function makeDirs(dir: string): void {
  if (fs.existsSync(dir)) return;
  makeDirs(path.dirname(dir));
  fs.mkdirSync(dir);
}

/** Writes via a temporary file in the same directory and a rename, so readers never see half a report. */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  assertWritable(file);
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`cannot write output ${file}: ${(e as Error).message}`);
  }
}
