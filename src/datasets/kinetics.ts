import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import type { Entry } from './entries.js';
import { isHidden, VIDEO } from './types.js';

/** The columns of the official Kinetics annotation CSVs (`label,youtube_id,time_start,time_end,split[,is_cc]`). */
export const KINETICS_COLUMNS = ['label', 'youtube_id', 'time_start', 'time_end'] as const;

/** The name the Kinetics download scripts give a clip, without its extension. */
export function kineticsStem(youtubeId: string, start: number, end: number): string {
  const pad6 = (n: number) => String(n).padStart(6, '0');
  return `${youtubeId}_${pad6(start)}_${pad6(end)}`;
}

/** Whole seconds as the annotation writes them; some exports write `10.0`. */
function seconds(cell: string): number | null {
  return /^\d+(\.0*)?$/.test(cell) ? Number.parseInt(cell, 10) : null;
}

/**
 * The video files of the dataset folder and of its label subfolders, each folder read once: the validation
 * list has tens of thousands of rows, and a stat per row and candidate name would be slow on network disks.
 */
export class ClipIndex {
  private readonly folders = new Map<string, Map<string, string[]>>();

  constructor(readonly root: string) {}

  /** Video files of root/rel by name without extension; an absent folder has none. */
  private folder(rel: string): Map<string, string[]> {
    const cached = this.folders.get(rel);
    if (cached) return cached;
    const byStem = new Map<string, string[]>();
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.root, rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw new UserError(`cannot read dataset folder ${path.join(this.root, rel)} (${code ?? 'error'})`);
    }
    for (const name of names.sort()) {
      if (isHidden(name) || !VIDEO.test(name)) continue;
      const stem = name.slice(0, -path.extname(name).length);
      byStem.set(stem, [...(byStem.get(stem) ?? []), path.join(rel, name)]);
    }
    this.folders.set(rel, byStem);
    return byStem;
  }

  /** Paths relative to root of the clip named stem: directly in root, or in its label's folder. */
  find(label: string, stem: string): string[] {
    const folders = new Set(['']);
    // Downloaders name label folders with spaces or with '_' for them; a label that is not a plain folder
    // name could only reach outside the dataset, so it is looked up flat only.
    if (!/[/\\]/.test(label) && label !== '.' && label !== '..') {
      folders.add(label);
      folders.add(label.replace(/ /g, '_'));
    }
    return [...folders].flatMap((rel) => this.folder(rel).get(stem) ?? []);
  }
}

/** One annotation row as an entry: the file it names if exactly one is there. */
export function kineticsEntry(
  index: ClipIndex,
  where: string,
  cells: { label: string; youtube_id: string; time_start: string; time_end: string },
): Entry {
  const [start, end] = [seconds(cells.time_start), seconds(cells.time_end)];
  const entry: Entry = { where, name: cells.youtube_id, label: cells.label, file: null, anywhere: false };
  if (!cells.youtube_id) return { ...entry, problem: 'row has an empty youtube_id' };
  if (!cells.label) return { ...entry, problem: `clip ${cells.youtube_id} has no label` };
  if (start === null || end === null)
    return {
      ...entry,
      problem: `clip ${cells.youtube_id} has times '${cells.time_start}'-'${cells.time_end}', not whole seconds`,
    };
  const stem = kineticsStem(cells.youtube_id, start, end);
  const found = index.find(cells.label, stem);
  if (found.length > 1)
    return {
      ...entry,
      name: stem,
      problem: `clip ${stem} matches ${found.length} files (${found.join(', ')}); keep one`,
    };
  return found[0]
    ? { ...entry, name: found[0], file: path.join(index.root, found[0]) }
    : { ...entry, name: stem, file: null };
}
