import { removeQuietly } from '../util/atomic-write.js';
import {
  byteProgress,
  download,
  DownloadError,
  downloadLog,
  fetchSettings,
  formatBytes,
  isOffline,
} from '../util/download.js';
import { UserError } from '../util/errors.js';
import { cachedDataFile } from '../util/paths.js';
import { findModelSpec, loadManifest, type ModelSpec } from './manifest.js';
import {
  clearUnfetched,
  isModelPath,
  locate,
  checkStreamModel,
  locateModel,
  missingReason,
  parseLabels,
  placeHint,
  recordUnfetched,
} from './resolve.js';
import { describePins, isPinned, pinsOf, type Pins } from './pins.js';
import { sourcesFor } from './sources.js';

export interface FetchResult {
  id: string;
  path: string;
  bytes: number;
  sha256: string;
  /** True only when the manifest pins the file (sha256 or git blob) and it matched. */
  verified: boolean;
  alreadyPresent: boolean;
  /** Where the file was downloaded from; null when it was already present. */
  url: string | null;
  /** Where in that answer the file was ('1.tflite of a tar.gz archive'); null when the answer was the file. */
  unpacked: string | null;
  /** The sources tried before the one that gave the file, each with why it was passed over. */
  passedOver: SourceFailure[];
}

export interface SourceFailure {
  url: string;
  reason: string;
}

/** A file the manifest names, with what is needed to fetch and check it. */
interface ManifestFile {
  id: string;
  what: string;
  relative: string;
  pins: Pins;
  /** What the file must hold beyond its pins (a stream model, a label list), checked before it is kept. */
  check: (bytes: Uint8Array) => void;
  /** An archive's member to take: models come as .tflite inside Kaggle's tar.gz. */
  unpack?: string;
}

function modelFile(spec: ModelSpec): ManifestFile {
  return {
    id: spec.id,
    what: `model ${spec.id}`,
    relative: spec.file,
    pins: pinsOf(spec),
    check: (bytes) => void checkStreamModel(bytes, spec, 'the downloaded file'),
    unpack: '.tflite',
  };
}

function labelFile(key: string): ManifestFile | null {
  const spec = loadManifest().labels[key];
  if (!spec) return null;
  return {
    id: key,
    what: `label file ${key}`,
    relative: spec.file,
    pins: pinsOf(spec),
    check: (bytes) => {
      const n = parseLabels(new TextDecoder().decode(bytes)).length;
      if (n !== spec.count) throw new UserError(`it has ${n} labels, expected ${spec.count}`);
    },
  };
}

/** A file fetching cannot supply; `recorded` is the phrase the resolution will show after 'not found (…)'. */
class Unfetchable extends UserError {
  constructor(
    readonly file: ManifestFile,
    readonly recorded: string,
  ) {
    super(`${file.what}: ${recorded}`);
  }
}

/** Every source that failed, in the order tried, as the one line a user reads. */
function allFailed(f: ManifestFile, failures: SourceFailure[]): string {
  const hint = placeHint(f.relative);
  const only = failures.length === 1 ? failures[0] : undefined;
  if (only) return `downloading it from ${only.url} failed: ${only.reason}; ${hint}`;
  const each = failures.map((x, i) => `(${i + 1}) ${x.url}: ${x.reason}`).join('; ');
  return `all ${failures.length} sources failed: ${each}; ${hint}`;
}

/** How a fetched file's verification reads in the log line. */
function verification(f: ManifestFile, sha256: string): string {
  const pins = [f.pins.sha256 && 'sha256', f.pins.gitBlob && 'git blob'].filter(Boolean);
  if (pins.length) return `verified: ${pins.join(' and ')}`;
  return `sha256 ${sha256}, unverified: the manifest pins nothing for it; it passed the structural check`;
}

/**
 * Downloads a manifest file from its sources in order. A source that answers something other than the file
 * (an HTML page, an empty body, an HTTP error, an archive without exactly one file, bytes that fail a pin) is
 * named with its reason and the next one is tried. A source that may answer later (a time-out, a 5xx, a reset)
 * is passed over while others remain and tried again after them; one source alone gets the usual retries.
 */
async function fromSources(f: ManifestFile, sources: string[]): Promise<FetchResult> {
  const failures = new Map<string, string>();
  const tries = new Map<string, number>();
  let pending = sources;
  for (let round = 1; pending.length > 0 && round <= fetchSettings().attempts; round++) {
    const again: string[] = [];
    for (const url of pending) {
      let bar: ReturnType<typeof byteProgress> | undefined;
      try {
        const got = await download({
          what: f.what,
          url,
          target: cachedDataFile(f.relative),
          sha256: f.pins.sha256,
          gitBlob: f.pins.gitBlob,
          bytes: f.pins.bytes,
          unpack: f.unpack,
          check: f.check,
          attempts: sources.length === 1 ? undefined : 1,
          onProgress: (received, total) => {
            if (total) (bar ??= byteProgress(f.what, total)).update(received);
          },
        });
        bar?.stop();
        const passedOver = [...failures].map(([u, reason]) => ({ url: u, reason }));
        for (const p of passedOver) downloadLog(`${f.what}: passed over ${p.url}: ${p.reason}`);
        const from = got.unpacked ? ` (${got.unpacked})` : '';
        const checked = `${formatBytes(got.bytes)}, ${verification(f, got.sha256)}`;
        downloadLog(`fetched ${f.what} from ${url}${from} into ${got.path} (${checked})`);
        const verified = isPinned(f.pins);
        return {
          id: f.id,
          path: got.path,
          bytes: got.bytes,
          sha256: got.sha256,
          verified,
          alreadyPresent: false,
          url,
          unpacked: got.unpacked,
          passedOver,
        };
      } catch (e) {
        bar?.stop();
        if (!(e instanceof DownloadError)) throw e;
        const n = (tries.get(url) ?? 0) + 1;
        tries.set(url, n);
        failures.set(url, n > 1 && sources.length > 1 ? `${e.detail} (${n} attempts)` : e.detail);
        if (e.retryable && sources.length > 1) again.push(url);
      }
    }
    pending = again;
  }
  throw new Unfetchable(
    f,
    allFailed(
      f,
      [...failures].map(([url, reason]) => ({ url, reason })),
    ),
  );
}

/**
 * Puts a manifest file where resolution finds it, downloading it into the cache when it is nowhere. A file the
 * user placed is never touched, even when it fails its pins (the resolution reports it); a damaged file in the
 * cache is this tool's own and is fetched again. Offline, nothing is fetched and the resolution says so.
 */
async function ensureFile(f: ManifestFile): Promise<FetchResult> {
  const loc = locate(f.relative, f.pins);
  const present = (): FetchResult => ({
    id: f.id,
    path: loc.path!,
    bytes: loc.bytes!.length,
    sha256: loc.sha256!,
    verified: loc.status === 'available' && isPinned(f.pins),
    alreadyPresent: true,
    url: null,
    unpacked: null,
    passedOver: [],
  });
  if (loc.status === 'available') return present();
  if (loc.status === 'checksum-mismatch' && (loc.origin !== 'cache' || isOffline())) return present();
  const sources = sourcesFor(f.id, f.relative);
  if (sources.length === 0) {
    const wouldName = 'MOVINET_SOURCES=<file.json> or MOVINET_MIRROR=<base URL> would name one';
    throw new Unfetchable(f, `no source is listed for it (${wouldName}); ${placeHint(f.relative)}`);
  }
  if (isOffline())
    throw new Unfetchable(
      f,
      `offline (--offline or MOVINET_OFFLINE=1), so it was not fetched from ${sources[0]}; ${placeHint(f.relative)}`,
    );
  if (loc.path) removeQuietly(loc.path);
  const got = await fromSources(f, sources);
  clearUnfetched(f.relative);
  return got;
}

/** The manifest specs a list of model references names; paths and unknown ids are left to the resolution. */
function specsOf(refs: readonly string[]): ModelSpec[] {
  // Architecture models are built, not downloaded (resolve.ts builds them); only their labels may need fetching.
  const specs = refs.flatMap((r) => (isModelPath(r) ? [] : [findModelSpec(r)].filter((s) => s !== undefined)));
  return specs.filter((s, i) => specs.findIndex((o) => o.id === s.id) === i);
}

/**
 * The asynchronous step before the synchronous `resolveModel`: every manifest model named (and its label file)
 * that is found nowhere is downloaded into the cache. A file that cannot be had stays missing, and the reason
 * is recorded for the resolution to report, so a missing model is still skipped (`--skip-missing`) rather than
 * ending a run that has other models.
 */
export async function ensureModels(refs: readonly string[]): Promise<FetchResult[]> {
  const results: FetchResult[] = [];
  const specs = specsOf(refs);
  const labelKeys = [...new Set(specs.map((s) => s.labels))];
  const files = [
    ...specs.filter((s) => s.source !== 'arch').map(modelFile),
    ...labelKeys.flatMap((k) => labelFile(k) ?? []),
  ];
  for (const f of files) {
    try {
      results.push(await ensureFile(f));
    } catch (e) {
      if (!(e instanceof Unfetchable)) throw e;
      recordUnfetched(f.relative, e.recorded);
    }
  }
  return results;
}

/**
 * `models fetch <id>`: the model and its label file, in the cache unless already present; any failure ends the
 * command.
 */
export async function fetchModel(ref: string): Promise<FetchResult> {
  const spec = findModelSpec(ref);
  if (!spec) throw new UserError(`unknown model '${ref}'; fetch takes a manifest id`);
  if (spec.source === 'arch')
    throw new UserError(`${spec.id} is built, not downloaded: 'movinet-bench models build ${spec.id}'`);
  const labels = labelFile(spec.labels);
  const model = await ensureFile(modelFile(spec));
  if (labels) await ensureFile(labels);
  // A file the user placed that fails its checksum is left alone by ensureFile; fetching did not make it usable.
  const loc = locateModel(spec);
  if (loc.status !== 'available') throw new UserError(`model ${spec.id}: ${missingReason(spec, loc)}`);
  return model;
}

/** Every file the manifest downloads: the file models, then the label sets. */
function downloadableFiles(): ManifestFile[] {
  const m = loadManifest();
  return [
    ...m.models.filter((s) => s.source !== 'arch').map(modelFile),
    ...Object.keys(m.labels).flatMap((k) => labelFile(k) ?? []),
  ];
}

/** `models fetch --all`: every downloadable file; a file that cannot be had is a failure, the others still come. */
export async function fetchAll(): Promise<{ fetched: FetchResult[]; failed: { id: string; reason: string }[] }> {
  const fetched: FetchResult[] = [];
  const failed: { id: string; reason: string }[] = [];
  for (const f of downloadableFiles()) {
    try {
      fetched.push(await ensureFile(f));
    } catch (e) {
      if (!(e instanceof Unfetchable)) throw e;
      failed.push({ id: f.id, reason: e.message });
    }
  }
  return { fetched, failed };
}

export interface FileSources {
  id: string;
  file: string;
  pins: Pins;
  sources: string[];
}

/** `models sources [id]`: where each downloadable file comes from, in the order tried, and what it must be. */
export function listSources(ref?: string): FileSources[] {
  const files = downloadableFiles();
  let chosen = files;
  if (ref !== undefined) {
    const id = findModelSpec(ref)?.id ?? ref;
    chosen = files.filter((f) => f.id === id);
    if (chosen.length === 0) {
      const arch = findModelSpec(ref)?.source === 'arch';
      if (arch) throw new UserError(`${id} is built, not downloaded: it has no sources ('models build ${id}')`);
      throw new UserError(
        `unknown model or label set '${ref}'; sources takes one of ${files.map((f) => f.id).join(', ')}`,
      );
    }
  }
  return chosen.map((f) => ({ id: f.id, file: f.relative, pins: f.pins, sources: sourcesFor(f.id, f.relative) }));
}

export type FileCheckStatus = 'verified' | 'unverified' | 'failed' | 'missing';

export interface FileCheck {
  id: string;
  path: string | null;
  status: FileCheckStatus;
  detail: string;
}

/**
 * `models verify`: every present file against its pins, wherever it was found (data dir, checkout, cache); an
 * unpinned one against the structural check. Nothing is downloaded; a missing file is listed, not failed.
 */
export function verifyFiles(): FileCheck[] {
  return downloadableFiles().map((f) => {
    const loc = locate(f.relative, f.pins);
    const path = loc.path ?? null;
    if (loc.status === 'missing') return { id: f.id, path, status: 'missing', detail: 'not present' };
    if (loc.status === 'checksum-mismatch')
      return { id: f.id, path, status: 'failed', detail: `${loc.mismatch} (corrupt or a different file)` };
    try {
      f.check(loc.bytes!);
    } catch (e) {
      return { id: f.id, path, status: 'failed', detail: e instanceof Error ? e.message : String(e) };
    }
    if (isPinned(f.pins)) return { id: f.id, path, status: 'verified', detail: describePins(f.pins) };
    return {
      id: f.id,
      path,
      status: 'unverified',
      detail: `no pin; sha256 ${loc.sha256}; passed the structural check`,
    };
  });
}
