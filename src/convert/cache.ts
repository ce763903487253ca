import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import { removeQuietly, writeFileAtomic } from '../util/atomic-write.js';
import { cacheDir } from '../util/paths.js';
import { sha256Bytes } from '../util/sha256.js';
import { convertToOnnx, CONVERTER_VERSION, type BatchAxis, type Precision } from './tflite-to-onnx.js';

export interface CachedOnnx {
  /** The cache file, or null when the conversion was not cached (--no-cache). */
  path: string | null;
  bytes: Uint8Array;
  precision: Precision;
  batch: BatchAxis;
  /** False when this call converted the model. */
  cached: boolean;
  convertMs: number;
  /** Why a cached file was not used (it was rebuilt), for the log. */
  rebuilt?: string;
}

/**
 * The file a conversion is cached in: keyed by the source's sha256, the precision, the batch axis and the
 * converter version (a fixed-batch graph keeps the name it always had).
 */
export function onnxCachePath(model: ResolvedModel, precision: Precision, batch: BatchAxis = 'fixed'): string {
  const variant = batch === 'free' ? `${precision}-batch` : precision;
  return path.join(cacheDir(), 'onnx', `${model.sha256}-${variant}-c${CONVERTER_VERSION}.onnx`);
}

/** A cached conversion whose sidecar sha256 matches its bytes, or why it cannot be trusted. */
function readVerified(file: string): { bytes: Uint8Array } | { problem: string } | undefined {
  if (!fs.existsSync(file)) return undefined;
  // A file without its checksum (an older cache, or an interrupted write) is simply rebuilt.
  if (!fs.existsSync(`${file}.sha256`)) return undefined;
  try {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const expected = fs.readFileSync(`${file}.sha256`, 'utf8').trim();
    return sha256Bytes(bytes) === expected ? { bytes } : { problem: `${file} does not match its recorded sha256` };
  } catch (e) {
    return { problem: `${file} cannot be verified (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}

/**
 * Converts on first use, then reads the cached file after checking it against
 * the sha256 recorded beside it; a file that fails the check is rebuilt, so a
 * damaged cache never fails a run. With `useCache` false nothing is read or written.
 */
export function convertCached(
  model: ResolvedModel,
  precision: Precision,
  useCache = true,
  batch: BatchAxis = 'fixed',
): CachedOnnx {
  const file = onnxCachePath(model, precision, batch);
  const found = useCache ? readVerified(file) : undefined;
  if (found && 'bytes' in found)
    return { path: file, bytes: found.bytes, precision, batch, cached: true, convertMs: 0 };
  const t0 = performance.now();
  const result = convertToOnnx(model.graph, model.signature, precision, [], batch);
  const convertMs = performance.now() - t0;
  const rebuilt = found && 'problem' in found ? found.problem : undefined;
  if (!useCache) return { path: null, bytes: result.bytes, precision, batch, cached: false, convertMs };
  // The sidecar goes first and the model last: a reader never sees a model without its checksum.
  removeQuietly(file);
  writeFileAtomic(`${file}.sha256`, `${sha256Bytes(result.bytes)}\n`);
  writeFileAtomic(file, result.bytes);
  return { path: file, bytes: result.bytes, precision, batch, cached: false, convertMs, rebuilt };
}
