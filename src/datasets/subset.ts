import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { cacheDir, dataDir, PROJECT_ROOT } from '../util/paths.js';
import { readProjectManifest, type ProjectClipEntry } from './manifest.js';

export const SUBSETS = path.join(PROJECT_ROOT, 'datasets');

export interface Subset {
  name: string;
  /** The manifest, relative to the checkout, as reports name it. */
  source: string;
  clips: ProjectClipEntry[];
}

/** A subset shipped with the project (datasets/<name>/manifest.json); anything else is an unknown subset. */
export function readSubset(name: string): Subset {
  const manifest = path.join(SUBSETS, name, 'manifest.json');
  // A name is a folder of datasets/, never a path that could reach another manifest.
  if (/[/\\]/.test(name) || name.startsWith('.') || !fs.existsSync(manifest)) {
    const known = fs.readdirSync(SUBSETS).filter((d) => fs.existsSync(path.join(SUBSETS, d, 'manifest.json')));
    throw new UserError(`unknown subset '${name}'; known: ${known.join(', ')}`);
  }
  const source = path.relative(PROJECT_ROOT, manifest);
  const parsed = readProjectManifest(manifest, `subset ${name} manifest ${source}`);
  return { name, source, clips: parsed.clips };
}

function isClipFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

/** The clip's file under a base folder (the data dir or the cache, both laid out as `datasets/<name>/<file>`). */
export function clipPath(base: string, clip: ProjectClipEntry): string {
  return path.resolve(base, clip.file);
}

/**
 * The one folder a subset is read from, so clip names (relative to it) are the same in every report: the data dir
 * when it holds every clip, else the download cache when it does, else the data dir (whose gaps are then reported).
 */
export function subsetBase(subset: Subset): string {
  const data = dataDir();
  if (completeIn(subset, data)) return data;
  const cache = cacheDir();
  return completeIn(subset, cache) ? cache : data;
}

/** Whether a base folder has a (non-empty) file for every clip; their checksums are checked where they are read. */
export function completeIn(subset: Subset, base: string): boolean {
  return subset.clips.every((c) => isClipFile(clipPath(base, c)));
}

/** Where the clips of a subset may be put by hand, and where fetching puts them. */
export function subsetFolders(name: string): { data: string; cache: string } {
  return { data: path.join(dataDir(), 'datasets', name), cache: path.join(cacheDir(), 'datasets', name) };
}

/** The start of a line saying clips of a subset are missing: how many, one of them, and where they were looked for. */
export function missingClips(name: string, count: number, total: number, example: string): string {
  const { data, cache } = subsetFolders(name);
  const looked = `e.g. ${path.basename(example)}; looked in ${data} and ${cache}`;
  return `subset ${name}: ${count} of ${total} clips missing (${looked})`;
}
