import type { DatasetRef } from '../core/results.js';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { sha256File } from '../util/sha256.js';
import { csvEntries } from './csv.js';
import { checkEntries, pathEntry, type Entry } from './entries.js';
import { folderEntries } from './folder.js';
import { readUserManifest } from './manifest.js';
import { missingClips, readSubset, subsetBase, SUBSETS } from './subset.js';
import type { Clip, Dataset, LoadOptions } from './types.js';

export type { Clip, Dataset, LoadOptions } from './types.js';

/** What a refusal of missing Kinetics clips tells the user to do; the CLI flag is the way to opt in. */
export const ALLOW_MISSING_HINT = '--allow-missing-clips evaluates the clips that are there';

/**
 * A named subset shipped with the project (datasets/<name>/manifest.json), its clips read from $MOVINET_DATA_DIR
 * or, when that folder lacks any, from the download cache (`datasets fetch <name>` fills it).
 */
export function loadSubset(name: string): Dataset {
  const subset = readSubset(name);
  const base = subsetBase(subset);
  // Subset clips are named relative to the base folder and must stay in it, whatever the manifest says.
  const entries = subset.clips.map((c, i) => ({
    ...pathEntry(base, `entry ${i + 1}`, c.file, c.label, c.sha256),
    anywhere: false,
  }));
  const { clips } = checkEntries(entries, {
    list: `subset ${name}`,
    root: base,
    allowMissing: false,
    missingMessage: (first, count, total) =>
      `${missingClips(name, count, total, first.name)}; ` +
      `'movinet-bench datasets fetch ${name}' downloads them, or set MOVINET_DATA_DIR`,
  });
  return { name, source: subset.source, root: path.join(base, 'datasets', name), clips };
}

/** The subset a dataset reference names, if it names one: a subset name, or the path of its manifest. */
export function subsetNameOfRef(ref: string): string | null {
  if (fs.existsSync(ref)) return fs.statSync(ref).isFile() ? subsetNameOf(path.resolve(ref)) : null;
  if (/[/\\]|\.(csv|json)$/i.test(ref) || ref.startsWith('.')) return null;
  return fs.existsSync(path.join(SUBSETS, ref, 'manifest.json')) ? ref : null;
}

/** The project's own subset manifest given as a path: its clips live under the data dir or the cache, not beside it. */
function subsetNameOf(file: string): string | null {
  if (path.basename(file) !== 'manifest.json' || !fs.existsSync(SUBSETS)) return null;
  const dir = path.dirname(fs.realpathSync(file));
  return path.dirname(dir) === fs.realpathSync(SUBSETS) ? path.basename(dir) : null;
}

/**
 * The user's own clips: a folder of <label>/<clip> subfolders, a CSV (path,label, or the official Kinetics
 * annotation CSV with clips beside it or in <label>/ folders), or a JSON manifest. Every entry is checked
 * before this returns, so no model is loaded for a list that cannot run.
 */
export function loadUserDataset(ref: string, options: LoadOptions = {}): Dataset {
  const p = path.resolve(ref);
  if (!fs.existsSync(p)) throw new UserError(`dataset ${ref} does not exist`);
  const allowMissing = options.allowMissing ?? false;
  const list = `dataset ${ref}`;
  const name = path.basename(p).replace(/\.(csv|json)$/i, '');
  const done = (ds: Omit<Dataset, 'clips'>, entries: Entry[], missingMessage?: CheckMissing): Dataset => {
    const { clips, missing } = checkEntries(entries, { list, root: ds.root, allowMissing, missingMessage });
    return { ...ds, clips, ...(allowMissing ? { missingClips: missing } : {}) };
  };
  if (fs.statSync(p).isDirectory()) {
    const entries = folderEntries(p);
    if (entries.length === 0) throw new UserError(`dataset folder ${ref} has no <label>/<clip> videos`);
    return done({ name, source: p, root: p }, entries);
  }
  if (/\.csv$/i.test(p)) {
    const root = path.dirname(p);
    const { entries, kinetics } = csvEntries(p, list);
    // Mirrors of the real set lack some clips, so a partial one gets the way to go on; none found is a wrong folder.
    const missingMessage: CheckMissing | undefined = kinetics
      ? (first, count, total) => {
          const how =
            count === total ? `none of the ${total} listed clips are` : `${count} of ${total} listed clips are not`;
          return (
            `${list}: ${how} found under ${root} as <youtube_id>_<start>_<end>.<video>, flat or in <label>/ folders ` +
            `(first: ${first.where}, ${first.name}, label '${first.label}')` +
            (count < total ? `; ${ALLOW_MISSING_HINT}` : '')
          );
        }
      : undefined;
    return done({ name, source: p, root }, entries, missingMessage);
  }
  if (/\.json$/i.test(p)) {
    const subset = subsetNameOf(p);
    if (subset) return loadSubset(subset);
    const root = path.dirname(p);
    const manifest = readUserManifest(p, list);
    const entries = manifest.clips.map((c, i) => pathEntry(root, `entry ${i + 1}`, c.file, c.label, c.sha256));
    return done({ name: manifest.name ?? name, source: p, root }, entries);
  }
  throw new UserError(`dataset ${ref} must be a folder, a .csv or a .json manifest`);
}

type CheckMissing = (first: Entry, count: number, total: number) => string;

/** Checks sha256 where the list gives one; a mismatch stops the run before any inference. */
export function verifyClips(ds: Dataset): void {
  for (const c of ds.clips) {
    if (c.sha256 && fs.existsSync(c.file) && sha256File(c.file) !== c.sha256) {
      throw new UserError(
        `clip ${c.file} has the wrong sha256 (expected ${c.sha256.slice(0, 12)}…): corrupt or replaced`,
      );
    }
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * Maps each clip's label to a class index. Folder names often use '_' for
 * spaces, so that spelling is accepted; anything else unknown is an error that
 * names the closest labels.
 */
export function labelIndices(ds: Dataset, labels: readonly string[]): number[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  return ds.clips.map((c) => {
    const i = index.get(c.label) ?? index.get(c.label.replace(/_/g, ' '));
    if (i !== undefined) return i;
    const close = [...labels].sort((a, b) => editDistance(c.label, a) - editDistance(c.label, b)).slice(0, 3);
    const closest = close.map((l) => `'${l}'`).join(', ');
    throw new UserError(`unknown label '${c.label}' (clip ${path.basename(c.file)}); closest model labels: ${closest}`);
  });
}

/** Clips in path order, and with a shard i/n every n-th from i: deterministic, so shards merge into the single run. */
export function shardClips(ds: Dataset, shard: { index: number; count: number } | null): Dataset {
  const sorted = [...ds.clips].sort((a, b) => clipName(ds, a).localeCompare(clipName(ds, b)));
  return { ...ds, clips: shard ? sorted.filter((_, i) => i % shard.count === shard.index) : sorted };
}

/** A clip's name in reports: relative to the dataset's folder, or absolute for a clip listed from elsewhere. */
export function clipName(ds: Dataset, clip: Clip): string {
  const relative = path.relative(ds.root, clip.file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? clip.file : relative;
}

/** A subset name (datasets/<name>) or a path to the user's own clips, whichever the reference names. */
export function loadDatasetRef(ref: string, options: LoadOptions = {}): Dataset {
  if (fs.existsSync(ref)) return loadUserDataset(ref, options);
  // A path that is not there is a missing file, not an unknown subset.
  if (/[/\\]|\.(csv|json)$/i.test(ref)) throw new UserError(`dataset ${ref} does not exist`);
  return loadSubset(ref);
}

/** How a report names the clips it ran on. */
export function datasetRef(ds: Dataset): DatasetRef {
  return { name: ds.name, source: ds.source, clips: ds.clips.length, missingClips: ds.missingClips ?? 0 };
}
