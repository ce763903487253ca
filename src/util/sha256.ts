import crypto from 'node:crypto';
import fs from 'node:fs';

export function sha256Bytes(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function sha256File(file: string): string {
  return sha256Bytes(fs.readFileSync(file));
}

/** A hash as a message quotes it: its first 12 hex digits and an ellipsis. */
export const shortHash = (hash: string): string => `${hash.slice(0, 12)}…`;

/** The id git gives a file's contents (`git hash-object`): public copies in git repositories are pinned by it. */
export function gitBlobId(bytes: Uint8Array): string {
  return crypto.createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}
