import zlib from 'node:zlib';
import type * as Tar from 'tar';
import { lazyRequire } from './lazy-require.js';

/** Required on the first archive met: most downloads are plain files. */
const tarModule = lazyRequire<typeof Tar>('tar');

/**
 * What a download's bytes are, decided from the bytes (and the server's content type), never from the URL:
 * hubs serve archives from URLs that name a file, and error pages with status 200.
 */
export type Sniffed = 'empty' | 'html' | 'gzip' | 'tar' | 'zip' | 'data';

const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0) =>
  bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);

const USTAR = [...'ustar'].map((c) => c.charCodeAt(0));

function looksLikeHtml(bytes: Uint8Array, contentType: string | undefined): boolean {
  if (/^\s*(text\/html|application\/xhtml)/i.test(contentType ?? '')) return true;
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, 512))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return /^<(!doctype html|html|head|body|!--)/.test(head);
}

export function sniff(bytes: Uint8Array, contentType?: string): Sniffed {
  if (bytes.length === 0) return 'empty';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(bytes, USTAR, 257)) return 'tar';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (looksLikeHtml(bytes, contentType)) return 'html';
  return 'data';
}

/** Why an archive did not yield the one file asked for; the message is a phrase for the caller's line. */
export class ArchiveRefusal extends Error {}

interface Member {
  path: string;
  chunks: Buffer[];
}

function tarMembers(bytes: Uint8Array, maxBytes: number): Member[] {
  const members: Member[] = [];
  let problem: string | undefined;
  const parser = new (tarModule().Parser)({
    strict: true,
    onReadEntry: (entry) => {
      if (entry.type !== 'File' && entry.type !== 'OldFile') return entry.resume();
      if ((entry.size ?? 0) > maxBytes) problem ??= `its member ${entry.path} is over the size limit`;
      const member: Member = { path: entry.path, chunks: [] };
      members.push(member);
      entry.on('data', (c: Buffer) => member.chunks.push(c));
    },
  });
  parser.on('error', (e: Error) => (problem ??= `a damaged tar archive (${e.message})`));
  // The parser is synchronous over a buffer: every entry's data has arrived when end() returns.
  parser.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  if (problem) throw new ArchiveRefusal(problem);
  return members;
}

export interface Unpacked {
  bytes: Uint8Array;
  /** Where in the answer the file was, for messages ('1.tflite of a tar.gz archive'); null: the answer itself. */
  from: string | null;
}

const baseName = (p: string) => p.split('/').pop() ?? p;

/**
 * The one file with `extension` that `bytes` carry: the bytes themselves when they are no archive, the
 * decompressed bytes of a gzip file, or the single matching member of a (gzipped) tar archive. macOS resource
 * forks (`._name`) are not files of the archive's author and are passed over.
 */
export function singleFile(bytes: Uint8Array, extension: string, maxBytes: number): Unpacked {
  let kind = sniff(bytes);
  let body = bytes;
  let label = 'tar archive';
  if (kind === 'zip') throw new ArchiveRefusal('a zip archive, which this tool does not unpack');
  if (kind === 'gzip') {
    try {
      body = zlib.gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (e) {
      throw new ArchiveRefusal(`a gzip file that does not decompress (${(e as Error).message})`);
    }
    kind = sniff(body);
    if (kind !== 'tar') return { bytes: body, from: 'a gzip file' };
    label = 'tar.gz archive';
  }
  if (kind !== 'tar') return { bytes: body, from: null };
  const wanted = tarMembers(body, maxBytes).filter(
    (m) => m.path.toLowerCase().endsWith(extension) && !baseName(m.path).startsWith('._'),
  );
  if (wanted.length !== 1) {
    const names = wanted.map((m) => m.path).join(', ');
    throw new ArchiveRefusal(
      wanted.length === 0
        ? `a ${label} with no ${extension} file`
        : `a ${label} with ${wanted.length} ${extension} files (${names})`,
    );
  }
  const member = wanted[0]!;
  return { bytes: Buffer.concat(member.chunks), from: `${member.path} of a ${label}` };
}
