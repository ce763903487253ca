import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedModel } from '../models/resolve.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { cacheDir } from '../util/paths.js';
import { convertToOnnx, CONVERTER_VERSION, type Precision } from './tflite-to-onnx.js';

export interface CachedOnnx {
  path: string;
  bytes: Uint8Array;
  precision: Precision;
  /** False when this call converted the model. */
  cached: boolean;
  convertMs: number;
}

/** The file a conversion is cached in: keyed by the source's sha256, the precision and the converter version. */
export function onnxCachePath(model: ResolvedModel, precision: Precision): string {
  return path.join(cacheDir(), 'onnx', `${model.sha256}-${precision}-c${CONVERTER_VERSION}.onnx`);
}

/** Converts on first use, then reads the cached file. */
export function convertCached(model: ResolvedModel, precision: Precision): CachedOnnx {
  const file = onnxCachePath(model, precision);
  if (fs.existsSync(file))
    return { path: file, bytes: new Uint8Array(fs.readFileSync(file)), precision, cached: true, convertMs: 0 };
  const t0 = performance.now();
  const result = convertToOnnx(model.graph, model.signature, precision);
  const convertMs = performance.now() - t0;
  writeFileAtomic(file, result.bytes);
  return { path: file, bytes: result.bytes, precision, cached: false, convertMs };
}
