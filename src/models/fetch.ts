import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { dataDir } from '../util/paths.js';
import { sha256Bytes } from '../util/sha256.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { findModelSpec } from './manifest.js';
import { locateModel } from './resolve.js';
import { parseTflite } from './tflite.js';

export interface FetchResult {
  id: string;
  path: string;
  bytes: number;
  sha256: string;
  alreadyPresent: boolean;
}

/** Downloads a manifest model from its official URL; verifies sha256 when known and that it parses as TFLite. */
export async function fetchModel(ref: string): Promise<FetchResult> {
  const spec = findModelSpec(ref);
  if (!spec) throw new UserError(`unknown model '${ref}'; fetch takes a manifest id`);
  const loc = locateModel(spec);
  if (loc.status === 'available')
    return {
      id: spec.id,
      path: loc.path!,
      bytes: fs.statSync(loc.path!).size,
      sha256: loc.sha256!,
      alreadyPresent: true,
    };
  let bytes: Uint8Array;
  try {
    const res = await fetch(spec.url, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new UserError(
      `cannot download ${spec.id} from ${spec.url} (${cause}); no network? Copy the file to ${path.join(dataDir(), spec.file)} by hand`,
    );
  }
  const sha256 = sha256Bytes(bytes);
  if (spec.sha256 && sha256 !== spec.sha256)
    throw new UserError(`downloaded ${spec.id} has sha256 ${sha256}, expected ${spec.sha256}; not saved`);
  parseTflite(bytes, `downloaded ${spec.id}`);
  const target = path.join(dataDir(), spec.file);
  writeFileAtomic(target, bytes);
  return { id: spec.id, path: target, bytes: bytes.length, sha256, alreadyPresent: false };
}
