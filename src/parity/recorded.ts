import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import type { ResolvedModel } from '../models/resolve.js';
import type { ClipLogits } from '../metrics/parity.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';

/*
 * Logits kept from one parity run so another machine's run can be compared with them: the same backend
 * on linux-x64 and on linux-arm64 (an emulated Raspberry Pi, say), where both cannot run in one process.
 * One folder per model (by its sha256): index.json, and per backend one file of float32 logits, every
 * frame of every clip in order.
 */

const IndexSchema = z.object({
  /** Where they were made: `linux-x64`, `linux-arm64`. */
  platform: z.string(),
  model: z.object({ id: z.string(), sha256: z.string() }),
  fps: z.number(),
  resize: z.string(),
  classes: z.number().int().positive(),
  clips: z.array(z.object({ file: z.string(), frames: z.number().int().nonnegative() })),
  backends: z.array(z.string()),
});
type Index = z.infer<typeof IndexSchema>;

export interface DecodeSettings {
  fps: number;
  resize: string;
}

export const thisPlatform = (): string => `${os.platform()}-${process.arch}`;

const decodedAt = (s: DecodeSettings) => `${s.fps} fps with --resize ${s.resize}`;

const folder = (dir: string, model: ResolvedModel) => path.join(dir, model.sha256.slice(0, 16));
const logitsFile = (dir: string, backend: string) => path.join(dir, `${backend.replace(/[^A-Za-z0-9._-]/g, '_')}.f32`);

/** Writes every clip's logits of every backend that ran (clips that failed are refused: nothing to compare). */
export function recordLogits(
  dir: string,
  model: ResolvedModel,
  backends: readonly string[],
  clips: readonly ClipLogits[],
  settings: DecodeSettings,
): void {
  const failed = clips.find((c) => c.error);
  if (failed)
    throw new UserError(`--logits-out: clip ${failed.file} failed (${failed.error}); nothing complete to keep`);
  const out = folder(dir, model);
  fs.mkdirSync(out, { recursive: true });
  const classes = clips.flatMap((c) => c.byBackend[0] ?? [])[0]?.length ?? 0;
  backends.forEach((name, b) => {
    const frames = clips.flatMap((c) => c.byBackend[b] ?? []);
    const all = new Float32Array(frames.length * classes);
    frames.forEach((f, i) => all.set(f, i * classes));
    writeFileAtomic(logitsFile(out, name), Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  });
  const index: Index = {
    platform: thisPlatform(),
    model: { id: model.id, sha256: model.sha256 },
    fps: settings.fps,
    resize: settings.resize,
    classes,
    clips: clips.map((c) => ({ file: c.file, frames: c.byBackend[0]?.length ?? 0 })),
    backends: [...backends],
  };
  writeFileAtomic(path.join(out, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
}

export interface Recorded {
  platform: string;
  /** Per backend that was recorded, per clip in this run's order, the logits of each frame. */
  byBackend: Map<string, Float32Array[][]>;
}

/**
 * The logits another run kept for this model, checked against this run: the same model file, decode
 * settings and clips (by name and order). Anything else is refused in one line.
 */
export function readRecorded(
  dir: string,
  model: ResolvedModel,
  clips: readonly string[],
  settings: DecodeSettings,
): Recorded {
  const src = folder(dir, model);
  const indexFile = path.join(src, 'index.json');
  if (!fs.existsSync(indexFile))
    throw new UserError(`--against ${dir}: no logits kept for ${model.id} (sha256 ${model.sha256.slice(0, 12)}) there`);
  let index: Index;
  try {
    index = IndexSchema.parse(JSON.parse(fs.readFileSync(indexFile, 'utf8')));
  } catch {
    throw new UserError(`--against ${dir}: ${indexFile} is not an index of kept logits`);
  }
  if (index.fps !== settings.fps || index.resize !== settings.resize)
    throw new UserError(`--against ${dir}: kept at ${decodedAt(index)}, this run decodes at ${decodedAt(settings)}`);
  const names = index.clips.map((c) => c.file);
  if (names.join('\n') !== clips.join('\n'))
    throw new UserError(`--against ${dir}: kept for clips ${names.join(', ')}; this run has ${clips.join(', ')}`);
  const total = index.clips.reduce((n, c) => n + c.frames, 0);
  const byBackend = new Map<string, Float32Array[][]>();
  for (const name of index.backends) {
    const bytes = fs.readFileSync(logitsFile(src, name));
    if (bytes.length !== total * index.classes * 4)
      throw new UserError(
        `--against ${dir}: ${logitsFile(src, name)} is not ${total} frames of ${index.classes} logits`,
      );
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    let at = 0;
    byBackend.set(
      name,
      index.clips.map((c) =>
        Array.from({ length: c.frames }, () => {
          const f = all.subarray(at * index.classes, (at + 1) * index.classes);
          at++;
          return f;
        }),
      ),
    );
  }
  return { platform: index.platform, byBackend };
}
