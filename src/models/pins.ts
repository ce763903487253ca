import { gitBlobId, shortHash as short } from '../util/sha256.js';

/**
 * What a file must be to count as the one the manifest means. Official files are pinned by sha256; public copies
 * in git repositories by their git blob id, the same id in every repository that holds the file; a file pinned by
 * neither is used only after a structural check and is reported unverified.
 */
export interface Pins {
  sha256: string | null;
  gitBlob: string | null;
  bytes: number | null;
}

export function pinsOf(spec: { sha256: string | null; gitBlob?: string | null; bytes: number | null }): Pins {
  return { sha256: spec.sha256, gitBlob: spec.gitBlob ?? null, bytes: spec.bytes };
}

export const isPinned = (pins: Pins): boolean => pins.sha256 !== null || pins.gitBlob !== null;

/**
 * The first pin `bytes` fails, as a phrase ('sha256 1a2b…, expected 6125…'); null when every pin holds. The caller
 * passes the sha256 it has already computed, so a file is hashed once.
 */
export function pinMismatch(bytes: Uint8Array, sha256: string, pins: Pins): string | null {
  if (pins.sha256 && sha256 !== pins.sha256) return `sha256 ${short(sha256)}, expected ${short(pins.sha256)}`;
  if (pins.gitBlob) {
    const got = gitBlobId(bytes);
    if (got !== pins.gitBlob) return `git blob ${short(got)}, expected ${short(pins.gitBlob)}`;
  }
  if (pins.bytes !== null && bytes.length !== pins.bytes) return `${bytes.length} bytes, expected ${pins.bytes}`;
  return null;
}

/** How a report or a listing names a file's pins: 'sha256 6125b36e…, git blob c293d449…, 3276048 bytes'. */
export function describePins(pins: Pins): string {
  const parts = [
    pins.sha256 ? `sha256 ${pins.sha256}` : null,
    pins.gitBlob ? `git blob ${pins.gitBlob}` : null,
    pins.bytes !== null ? `${pins.bytes} bytes` : null,
  ].filter((p) => p !== null);
  return parts.length ? parts.join(', ') : 'unpinned';
}
