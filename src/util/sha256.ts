import crypto from 'node:crypto';
import fs from 'node:fs';

export function sha256Bytes(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function sha256File(file: string): string {
  return sha256Bytes(fs.readFileSync(file));
}
