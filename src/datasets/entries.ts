import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import type { Clip } from './types.js';

/** One clip as a list names it, before anything is known about its file. */
export interface Entry {
  /** Where the list names it ('line 3', 'entry 2'); empty for a folder, where the clip's path says it all. */
  where: string;
  /** The clip as the list writes it, so the user can find it in their file. */
  name: string;
  label: string;
  sha256?: string;
  /** Absolute path; null when a list that names clips by id has no file for this one. */
  file: string | null;
  /** Only a clip the user wrote as an absolute path may live outside the dataset folder. */
  anywhere: boolean;
  /** A fault found while reading the list, as a whole phrase; reported in list order with the file checks. */
  problem?: string;
}

export function pathEntry(root: string, where: string, written: string, label: string, sha256?: string): Entry {
  return { where, name: written, label, sha256, file: path.resolve(root, written), anywhere: path.isAbsolute(written) };
}

export interface CheckContext {
  /** How messages name the list: 'dataset clips.csv'. */
  list: string;
  /** Relative entries must stay inside this folder. */
  root: string;
  allowMissing: boolean;
  /** Replaces the default message for missing clips, for lists whose users need a different hint. */
  missingMessage?: (first: Entry, count: number, total: number) => string;
}

export function entryPrefix(list: string, e: Entry): string {
  return e.where ? `${list} ${e.where}` : list;
}

function escapes(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

const MISSING = Symbol('missing');

/** What is wrong with one entry, or its file's stat when nothing is. */
function inspect(e: Entry, root: string): string | typeof MISSING | fs.Stats {
  if (e.problem) return e.problem;
  if (e.file === null) return MISSING;
  const fault = inspectFile(e, e.file, root);
  return typeof fault === 'string' ? `clip ${e.name} ${fault}` : fault;
}

function inspectFile(e: Entry, file: string, root: string): string | typeof MISSING | fs.Stats {
  if (!e.anywhere && escapes(root, file))
    return `escapes the dataset folder ${root} (give an absolute path to use a clip elsewhere)`;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent in the path is a file; for the user that is the same as a missing clip.
    if (code === 'ENOENT' || code === 'ENOTDIR') return MISSING;
    return `cannot be read (${code ?? 'error'})`;
  }
  if (st.isDirectory()) return 'is a directory, not a video file';
  if (!st.isFile()) return 'is not a regular file';
  if (st.size === 0) return 'is empty';
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    return 'cannot be read (permission denied)';
  }
  return st;
}

/**
 * Checks every entry before any model is loaded, so a bad list costs nothing and its first fault is named
 * where the user wrote it. A clip listed twice (even through another path or a link) is refused: it would
 * count twice in every accuracy figure.
 */
export function checkEntries(entries: readonly Entry[], ctx: CheckContext): { clips: Clip[]; missing: number } {
  const clips: Clip[] = [];
  const seen = new Map<string, Entry>();
  const missing: Entry[] = [];
  let fault: { entry: Entry; message: string } | null = null;
  for (const e of entries) {
    const r = inspect(e, ctx.root);
    if (r === MISSING) {
      missing.push(e);
      continue;
    }
    // Past the first fault only missing clips are still counted, for the message if one came first.
    if (fault) continue;
    if (typeof r === 'string') {
      fault = { entry: e, message: r };
      if (missing.length === 0 || ctx.allowMissing) break;
      continue;
    }
    // dev:ino identifies the file behind symlinks and hard links; ino 0 means the filesystem has none.
    const key = r.ino ? `${r.dev}:${r.ino}` : fs.realpathSync(e.file!);
    const first = seen.get(key);
    if (first) {
      const at = first.where ? `${first.where} (${first.name})` : first.name;
      fault = { entry: e, message: `clip ${e.name} is the same file as ${at}; a clip must count once` };
      if (missing.length === 0 || ctx.allowMissing) break;
      continue;
    }
    seen.set(key, e);
    clips.push({ file: e.file!, label: e.label, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
  }
  const firstMissing = ctx.allowMissing ? undefined : missing[0];
  // A fault with no missing clip before it ended the loop, so a missing clip here is the first bad entry.
  if (firstMissing) {
    throw new UserError(
      ctx.missingMessage?.(firstMissing, missing.length, entries.length) ??
        `${entryPrefix(ctx.list, firstMissing)}: clip ${firstMissing.name} does not exist` +
          (missing.length > 1 ? ` (${missing.length} of ${entries.length} listed clips are missing)` : ''),
    );
  }
  if (fault) throw new UserError(`${entryPrefix(ctx.list, fault.entry)}: ${fault.message}`);
  if (clips.length === 0) {
    throw new UserError(
      entries.length === 0
        ? `${ctx.list} lists no clips`
        : `${ctx.list}: none of the ${entries.length} listed clips exist under ${ctx.root}`,
    );
  }
  return { clips, missing: missing.length };
}
