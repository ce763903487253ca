import fs from 'node:fs';
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
import { cachedDataFile } from '../util/paths.js';
import { findModelSpec, loadManifest, type ModelSpec } from './manifest.js';
import {
  clearUnfetched,
  isModelPath,
  locate,
  locateModel,
  missingReason,
  placeHint,
  recordUnfetched,
} from './resolve.js';
import { parseTflite } from './tflite.js';

export interface FetchResult {
  id: string;
  path: string;
  bytes: number;
  sha256: string;
  /** True only when the manifest pins a sha256 and the file matched it. */
  verified: boolean;
  alreadyPresent: boolean;
  /** Where the file was downloaded from; null when it was already present. */
  url: string | null;
}

/** A file the manifest names, with what is needed to fetch and check it. */
interface ManifestFile {
  id: string;
  what: string;
  relative: string;
  sha256: string | null;
  bytes: number | null;
  official: string | null;
  tflite: boolean;
}

function modelFile(spec: ModelSpec): ManifestFile {
  return {
    id: spec.id,
    what: `model ${spec.id}`,
    relative: spec.file,
    sha256: spec.sha256,
    bytes: spec.bytes,
    official: spec.url,
    tflite: true,
  };
}

function labelFile(key: string): ManifestFile | null {
  const spec = loadManifest().labels[key];
  if (!spec) return null;
  return {
    id: key,
    what: `label file ${key}`,
    relative: spec.file,
    sha256: spec.sha256,
    bytes: spec.bytes,
    official: spec.url ?? null,
    tflite: false,
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

/**
 * Puts a manifest file where resolution finds it, downloading it into the cache when it is nowhere. A file the
 * user placed is never touched, even when it fails its checksum (the resolution reports it); a damaged file in
 * the cache is this tool's own and is fetched again. Offline, nothing is fetched and the resolution says so.
 */
async function ensureFile(f: ManifestFile): Promise<FetchResult> {
  const loc = locate(f.relative, f.sha256);
  const present = (): FetchResult => ({
    id: f.id,
    path: loc.path!,
    bytes: loc.bytes!.length,
    sha256: loc.sha256!,
    verified: loc.status === 'available' && f.sha256 !== null,
    alreadyPresent: true,
    url: null,
  });
  if (loc.status === 'available') return present();
  if (loc.status === 'checksum-mismatch' && (loc.origin !== 'cache' || isOffline())) return present();
  const url = sourceUrl(f.official, f.relative);
  if (!url)
    throw new Unfetchable(
      f,
      `the manifest gives no download URL for it (MOVINET_MIRROR=<base URL> would); ${placeHint(f.relative)}`,
    );
  if (isOffline())
    throw new Unfetchable(
      f,
      `offline (--offline or MOVINET_OFFLINE=1), so it was not fetched from ${url}; ${placeHint(f.relative)}`,
    );
  if (loc.path) removeQuietly(loc.path);
  let bar: ReturnType<typeof byteProgress> | undefined;
  try {
    const got = await download({
      what: f.what,
      url,
      target: cachedDataFile(f.relative),
      sha256: f.sha256,
      bytes: f.bytes,
      check: f.tflite
        ? (tmp) => parseTflite(new Uint8Array(fs.readFileSync(tmp)), `the downloaded ${f.what}`)
        : undefined,
      onProgress: (received, total) => {
        const size = f.bytes ?? total;
        if (size) (bar ??= byteProgress(f.what, size)).update(received);
      },
    });
    bar?.stop();
    clearUnfetched(f.relative);
    const verified = f.sha256 !== null;
    downloadLog(
      `fetched ${f.what} from ${url} into ${got.path} (${formatBytes(got.bytes)}, ` +
        (verified ? 'sha256 verified)' : `sha256 ${got.sha256}, unverified: the manifest pins no sha256 for it)`),
    );
    return {
      id: f.id,
      path: got.path,
      bytes: got.bytes,
      sha256: got.sha256,
      verified,
      alreadyPresent: false,
      url,
    };
  } catch (e) {
    bar?.stop();
    if (e instanceof DownloadError)
      throw new Unfetchable(f, `downloading it from ${e.url} failed: ${e.detail}; ${placeHint(f.relative)}`);
    throw e;
  }
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

/** `models fetch <id>`: the model and its label file, in the cache unless already present; any failure ends the command. */
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
