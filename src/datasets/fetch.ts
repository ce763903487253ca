import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { removeQuietly } from '../util/atomic-write.js';
import {
  byteProgress,
  download,
  DownloadError,
  downloadLog,
  formatBytes,
  isOffline,
  sourceUrl,
} from '../util/download.js';
import { UserError } from '../util/errors.js';
import { cacheDir, dataDir } from '../util/paths.js';
import { sha256File, shortHash } from '../util/sha256.js';
import type { ProjectClipEntry } from './manifest.js';
import { clipPath, completeIn, missingClips, readSubset, subsetFolders, type Subset } from './subset.js';

/** Where a clip was published, as a manifest's `source` records it: `owner/repo/path/in/repo@commit`. */
export interface ClipSource {
  owner: string;
  repo: string;
  path: string;
  commit: string;
}

export function parseClipSource(source: string): ClipSource | null {
  const m = /^([\w.-]+)\/([\w.-]+)\/(.+)@([0-9a-f]{7,40})$/i.exec(source.trim());
  if (!m) return null;
  const [, owner, repo, file, commit] = m as unknown as [string, string, string, string, string];
  if (file.split('/').some((part) => part === '' || part === '.' || part === '..')) return null;
  return { owner, repo, path: file, commit };
}

/** The file at its pinned commit on GitHub's raw host: the bytes its repository published, never a copy of ours. */
export function clipSourceUrl(source: ClipSource): string {
  const file = source.path.split('/').map(encodeURIComponent).join('/');
  return `https://raw.githubusercontent.com/${source.owner}/${source.repo}/${source.commit}/${file}`;
}

export interface FetchedClip {
  file: string;
  path: string;
  status: 'present' | 'fetched' | 'copied';
  bytes: number;
  sha256: string;
  /** Where it was downloaded from; null when it was not downloaded. */
  url: string | null;
}

export interface SubsetFetch {
  name: string;
  /** The folder the subset is now read from. */
  dir: string;
  clips: FetchedClip[];
  fetched: number;
  fetchedBytes: number;
}

function hashMatches(file: string, clip: ProjectClipEntry): { ok: boolean; sha256: string; bytes: number } {
  const sha256 = sha256File(file);
  const bytes = fs.statSync(file).size;
  return { ok: sha256 === clip.sha256 && (clip.bytes === undefined || bytes === clip.bytes), sha256, bytes };
}

/** A clip the data dir has but the cache lacks is copied, not downloaded: the subset is read from one folder. */
function copyVerified(from: string, to: string, clip: ProjectClipEntry): boolean {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = path.join(
    path.dirname(to),
    `.${path.basename(to)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.part`,
  );
  try {
    fs.copyFileSync(from, tmp);
    if (!hashMatches(tmp, clip).ok) return false;
    fs.renameSync(tmp, to);
    return true;
  } finally {
    removeQuietly(tmp);
  }
}

function officialUrl(subset: Subset, clip: ProjectClipEntry): string | null {
  if (!clip.source) return null;
  const source = parseClipSource(clip.source);
  if (!source) {
    const manifest = `subset ${subset.name} manifest ${subset.source}`;
    throw new UserError(`${manifest}: clip ${clip.file} has source '${clip.source}', expected owner/repo/path@commit`);
  }
  return clipSourceUrl(source);
}

export interface SubsetFetchOptions {
  /** Hash clips that are already present in the data dir too, not only the cache's. */
  verifyPresent?: boolean;
}

/**
 * Makes every clip of a subset readable from one folder: the data dir when it has them all, else the download
 * cache, which gets the clips it lacks (copied from the data dir when there, else downloaded from the clip's
 * recorded source, or MOVINET_MIRROR). Each clip is checked against its pinned sha256 and size; a cached clip
 * that fails is removed and fetched again, a downloaded one that fails is never put in place. The first clip
 * that cannot be had ends it with one line; offline, nothing is downloaded.
 */
export async function fetchSubset(name: string, opts: SubsetFetchOptions = {}): Promise<SubsetFetch> {
  const subset = readSubset(name);
  const folders = subsetFolders(name);
  const data = dataDir();
  const result = (dir: string, clips: FetchedClip[]): SubsetFetch => ({
    name,
    dir: path.join(dir, 'datasets', name),
    clips,
    fetched: clips.filter((c) => c.status === 'fetched').length,
    fetchedBytes: clips.filter((c) => c.status === 'fetched').reduce((a, c) => a + c.bytes, 0),
  });
  if (completeIn(subset, data)) {
    const clips = subset.clips.map((c): FetchedClip => {
      const file = clipPath(data, c);
      const check = opts.verifyPresent ? hashMatches(file, c) : null;
      if (check && !check.ok) {
        const found = `sha256 ${shortHash(check.sha256)} (${check.bytes} bytes)`;
        throw new UserError(
          `subset ${name}: clip ${file} has ${found}, expected ${shortHash(c.sha256)}: corrupt or replaced`,
        );
      }
      return {
        file: c.file,
        path: file,
        status: 'present',
        bytes: fs.statSync(file).size,
        sha256: c.sha256,
        url: null,
      };
    });
    return result(data, clips);
  }
  const cache = cacheDir();
  const clips: FetchedClip[] = [];
  const todo: ProjectClipEntry[] = [];
  for (const c of subset.clips) {
    const file = clipPath(cache, c);
    if (fs.existsSync(file)) {
      const check = hashMatches(file, c);
      // The cache is this tool's own: a clip damaged there since it was fetched is fetched again.
      if (check.ok) {
        clips.push({
          file: c.file,
          path: file,
          status: 'present',
          bytes: check.bytes,
          sha256: check.sha256,
          url: null,
        });
        continue;
      }
      removeQuietly(file);
    }
    const inData = clipPath(data, c);
    if (fs.existsSync(inData) && copyVerified(inData, file, c)) {
      clips.push({
        file: c.file,
        path: file,
        status: 'copied',
        bytes: fs.statSync(file).size,
        sha256: c.sha256,
        url: null,
      });
      continue;
    }
    todo.push(c);
  }
  if (todo.length && isOffline()) {
    const missing = missingClips(name, todo.length, subset.clips.length, todo[0]!.file);
    const remedy = `put them in ${folders.data} or run 'movinet-bench datasets fetch ${name}' with a network`;
    throw new UserError(`${missing}; offline (--offline or MOVINET_OFFLINE=1), so they were not fetched; ${remedy}`);
  }
  const total = todo.reduce((a, c) => a + (c.bytes ?? 0), 0);
  const bar = total > 0 ? byteProgress(`${name} (${todo.length} clips)`, total) : undefined;
  let done = 0;
  try {
    for (const c of todo) {
      const clip = `clip ${path.basename(c.file)}`;
      const url = sourceUrl(officialUrl(subset, c), c.file);
      if (!url) {
        const noSource = 'the manifest records no source for it (MOVINET_MIRROR=<base URL> would supply one)';
        throw new UserError(`subset ${name}: ${clip} is missing and ${noSource}; put it in ${folders.data}`);
      }
      try {
        const got = await download({
          what: clip,
          url,
          target: clipPath(cache, c),
          sha256: c.sha256,
          bytes: c.bytes ?? null,
          onProgress: (received) => bar?.update(done + received),
        });
        done += got.bytes;
        clips.push({ file: c.file, path: got.path, status: 'fetched', bytes: got.bytes, sha256: got.sha256, url });
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        const failed = `downloading it from ${e.url} failed: ${e.detail}`;
        const where = [...new Set([folders.data, folders.cache])].join(' or ');
        throw new UserError(`subset ${name}: ${clip} missing; ${failed}; put the clips in ${where}`);
      }
    }
  } finally {
    bar?.stop();
  }
  const out = result(cache, clips);
  if (out.fetched)
    downloadLog(
      `fetched ${out.fetched} clip(s) of ${name} into ${out.dir} (${formatBytes(out.fetchedBytes)}, sha256 verified)`,
    );
  return out;
}

/**
 * Before a run on a subset: nothing when the data dir holds every clip (the run verifies them); otherwise the
 * cache is checked and completed, so a clip damaged there is replaced rather than failing the run.
 */
export async function ensureSubset(name: string): Promise<void> {
  if (completeIn(readSubset(name), dataDir())) return;
  await fetchSubset(name);
}
