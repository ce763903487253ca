import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { sha256File } from '../util/sha256.js';
import type { DecodeSpec } from './ffmpeg.js';

/**
 * Decoded clips kept on disk as ffmpeg's own rgb24 bytes, so a repeated
 * accuracy or parity run never decodes. A clip's entry is keyed by what
 * decides its pixels: the file's sha256, the fps, size and resize mode, and
 * the ffmpeg version. Entries are written only for clips that decoded to the
 * end without damage, atomically, and the folder is kept under a size bound
 * by removing the least recently used entries.
 */
export interface FrameCacheOptions {
  dir: string;
  maxBytes: number;
  ffmpegVersion: string;
}

/** Where a clip's decoded frames live for this decode spec. */
export function frameCacheFile(cache: FrameCacheOptions, file: string, spec: DecodeSpec): string {
  const version = cache.ffmpegVersion.replace(/[^A-Za-z0-9.+-]/g, '_');
  const name = `${sha256File(file)}-${spec.fps}fps-${spec.size}-${spec.resize}-ffmpeg${version}.rgb24`;
  return path.join(cache.dir, name);
}

/**
 * Cache bookkeeping that may fail (a read-only or full cache, another process
 * evicting the same entry) without failing the decode it serves.
 */
function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // Only the cache's upkeep failed; the frames are unaffected.
  }
}

/** The cached bytes, or undefined when there are none or they cannot be whole frames (then the entry is removed). */
export function readFrameCache(entry: string, frameBytes: number): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(entry);
  } catch {
    return undefined;
  }
  if (bytes.length === 0 || bytes.length % frameBytes !== 0) {
    quietly(() => fs.rmSync(entry, { force: true }));
    return undefined;
  }
  // Marks it recently used for eviction.
  const now = new Date();
  quietly(() => fs.utimesSync(entry, now, now));
  return bytes;
}

/** An entry being written: frames appended as they decode, published only by commit(). */
export class FrameCacheWriter {
  private readonly tmp: string;
  private fd: number | null;

  constructor(
    private readonly entry: string,
    private readonly cache: FrameCacheOptions,
  ) {
    fs.mkdirSync(path.dirname(entry), { recursive: true });
    this.tmp = `${entry}.${process.pid}.${threadId}.${randomBytes(4).toString('hex')}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w');
  }

  /** Appends a frame; a write that fails (disk full) abandons the entry, never the decode. */
  append(frame: Uint8Array): void {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, frame);
    } catch {
      this.abandon();
    }
  }

  commit(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
    fs.renameSync(this.tmp, this.entry);
    // The entry is in; trimming the folder can wait for the next write if it fails.
    quietly(() => evict(this.cache.dir, this.cache.maxBytes, this.entry));
  }

  abandon(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    // A temp file that cannot be removed is left for evict() to sweep.
    quietly(() => {
      fs.closeSync(fd);
      fs.rmSync(this.tmp, { force: true });
    });
  }
}

/** Temporary files older than this were left by a process that died mid-write. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** Removes the least recently used entries until the folder fits `maxBytes` (the entry just written stays). */
export function evict(dir: string, maxBytes: number, keep?: string): void {
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.tmp'))) {
    const file = path.join(dir, f);
    quietly(() => {
      if (Date.now() - fs.statSync(file).mtimeMs > STALE_TMP_MS) fs.rmSync(file, { force: true });
    });
  }
  const entries = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.rgb24'))
    .flatMap((f) => {
      try {
        const st = fs.statSync(path.join(dir, f));
        return [{ file: path.join(dir, f), size: st.size, used: st.mtimeMs }];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.used - b.used);
  let total = entries.reduce((a, e) => a + e.size, 0);
  for (const e of entries) {
    if (total <= maxBytes) break;
    if (e.file === keep) continue;
    fs.rmSync(e.file, { force: true });
    total -= e.size;
  }
}
