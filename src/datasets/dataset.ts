import type { DatasetRef } from '../core/results.js';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { dataDir, PROJECT_ROOT } from '../util/paths.js';
import { sha256File } from '../util/sha256.js';

export interface Clip {
  /** Absolute path. */
  file: string;
  label: string;
  sha256?: string;
}

export interface Dataset {
  name: string;
  /** Where the list came from (manifest path, folder, CSV). */
  source: string;
  /** Clip names in reports are relative to this folder. */
  root: string;
  clips: Clip[];
}

const ProjectManifest = z.object({
  name: z.string(),
  clips: z.array(z.object({ file: z.string(), label: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

const UserManifest = z.array(z.object({ file: z.string(), label: z.string(), sha256: z.string().optional() }).loose());

/** A named subset shipped with the project (datasets/<name>/manifest.json), clips found under $MOVINET_DATA_DIR. */
export function loadSubset(name: string): Dataset {
  const manifest = path.join(PROJECT_ROOT, 'datasets', name, 'manifest.json');
  if (!fs.existsSync(manifest)) {
    const known = fs
      .readdirSync(path.join(PROJECT_ROOT, 'datasets'))
      .filter((d) => fs.existsSync(path.join(PROJECT_ROOT, 'datasets', d, 'manifest.json')));
    throw new UserError(`unknown subset '${name}'; known: ${known.join(', ')}`);
  }
  const parsed = ProjectManifest.parse(JSON.parse(fs.readFileSync(manifest, 'utf8')));
  const clips = parsed.clips.map((c) => ({ file: path.join(dataDir(), c.file), label: c.label, sha256: c.sha256 }));
  const missing = clips.filter((c) => !fs.existsSync(c.file));
  if (missing.length)
    throw new UserError(
      `subset ${name}: ${missing.length} of ${clips.length} clips missing under ${dataDir()} (e.g. ${missing[0]!.file}); set MOVINET_DATA_DIR`,
    );
  return { name, source: path.relative(PROJECT_ROOT, manifest), root: path.join(dataDir(), 'datasets', name), clips };
}

/** The user's own clips: a folder of <label>/<clip> subfolders, a CSV (path,label), or a JSON manifest. */
export function loadUserDataset(ref: string): Dataset {
  const p = path.resolve(ref);
  if (!fs.existsSync(p)) throw new UserError(`dataset ${ref} does not exist`);
  const name = path.basename(p).replace(/\.(csv|json)$/i, '');
  if (fs.statSync(p).isDirectory()) return { name, source: p, root: p, clips: fromFolder(p) };
  if (/\.csv$/i.test(p)) return { name, source: p, root: path.dirname(p), clips: fromCsv(p) };
  if (/\.json$/i.test(p)) return { name, source: p, root: path.dirname(p), clips: fromJson(p) };
  throw new UserError(`dataset ${ref} must be a folder, a .csv or a .json manifest`);
}

const VIDEO = /\.(mp4|avi|mkv|webm|gif|mov|m4v|mpg|mpeg)$/i;

function fromFolder(dir: string): Clip[] {
  const clips: Clip[] = [];
  for (const label of fs.readdirSync(dir).sort()) {
    const sub = path.join(dir, label);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub).sort()) if (VIDEO.test(f)) clips.push({ file: path.join(sub, f), label });
  }
  if (clips.length === 0) throw new UserError(`dataset folder ${dir} has no <label>/<clip> videos`);
  return clips;
}

function fromCsv(file: string): Clip[] {
  const base = path.dirname(file);
  const rows = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim());
  const clips: Clip[] = [];
  rows.forEach((line, i) => {
    // The label is everything after the first comma, so labels may hold commas; quotes are optional.
    const comma = line.indexOf(',');
    const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1');
    if (comma < 0) throw new UserError(`${file}:${i + 1}: expected 'path,label'`);
    const [f, label] = [unquote(line.slice(0, comma)), unquote(line.slice(comma + 1))];
    if (i === 0 && f.toLowerCase() === 'path' && label.toLowerCase() === 'label') return;
    clips.push({ file: path.resolve(base, f), label });
  });
  if (clips.length === 0) throw new UserError(`${file} lists no clips`);
  return clips;
}

function fromJson(file: string): Clip[] {
  const parsed = UserManifest.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new UserError(`${file}: expected an array of {file, label, sha256?}: ${parsed.error.issues[0]?.message}`);
  return parsed.data.map((c) => ({ file: path.resolve(path.dirname(file), c.file), label: c.label, sha256: c.sha256 }));
}

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
    throw new UserError(
      `unknown label '${c.label}' (clip ${path.basename(c.file)}); closest model labels: ${close.map((l) => `'${l}'`).join(', ')}`,
    );
  });
}

/** Clips in path order, and with a shard i/n every n-th from i: deterministic, so shards merge into the single run. */
export function shardClips(ds: Dataset, shard: { index: number; count: number } | null): Dataset {
  const sorted = [...ds.clips].sort((a, b) => clipName(ds, a).localeCompare(clipName(ds, b)));
  return { ...ds, clips: shard ? sorted.filter((_, i) => i % shard.count === shard.index) : sorted };
}

export function clipName(ds: Dataset, clip: Clip): string {
  return path.relative(ds.root, clip.file);
}

/** A subset name (datasets/<name>) or a path to the user's own clips, whichever the reference names. */
export function loadDatasetRef(ref: string): Dataset {
  return fs.existsSync(ref) ? loadUserDataset(ref) : loadSubset(ref);
}

/** How a report names the clips it ran on. */
export function datasetRef(ds: Dataset): DatasetRef {
  return { name: ds.name, source: ds.source, clips: ds.clips.length };
}
