import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { errorMessage, UserError } from '../util/errors.js';
import { pathEntry, type Entry } from './entries.js';
import { ClipIndex, KINETICS_COLUMNS, kineticsEntry } from './kinetics.js';

interface Row {
  cells: string[];
  /** The file line the record ends on (records may span lines inside quotes). */
  line: number;
}

type Layout =
  | { kind: 'path'; path: number; label: number; width: number | null }
  | { kind: 'kinetics'; label: number; youtube_id: number; time_start: number; time_end: number; width: number };

/** Column names a header row may hold; a first row made only of these is a header, never a clip. */
const KNOWN = new Set(['path', 'file', 'label', ...KINETICS_COLUMNS, 'split', 'is_cc']);

/**
 * The header rule: a first row is a header when its cells name a clip column and a label column, in any
 * order: `path,label`, `file,label`, `label,path`, or Kinetics' `label,youtube_id,time_start,time_end,split`
 * (other columns, such as `is_cc`, are ignored). A first row made only of known column names that lacks one
 * of them is refused rather than read as a clip. Without a header every row is `path,label`.
 */
function layout(first: readonly string[], list: string, line: number): Layout | null {
  const cols = first.map((c) => c.toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const label = at('label');
  const clip = at('path') >= 0 ? at('path') : at('file');
  if (label >= 0 && clip >= 0) return { kind: 'path', path: clip, label, width: cols.length };
  const [, youtube_id, time_start, time_end] = KINETICS_COLUMNS.map(at) as [number, number, number, number];
  if (label >= 0 && youtube_id >= 0 && time_start >= 0 && time_end >= 0)
    return { kind: 'kinetics', label, youtube_id, time_start, time_end, width: cols.length };
  if (cols.length >= 2 && cols.every((c) => KNOWN.has(c))) {
    const lacking = label < 0 ? 'label' : 'path (or youtube_id,time_start,time_end)';
    throw new UserError(
      `${list} line ${line}: the header ${first.join(',')} has no ${lacking} column` +
        (label < 0 && youtube_id >= 0 ? ' (the Kinetics test split is unlabelled; use train or validate)' : ''),
    );
  }
  return null;
}

function rows(file: string, list: string): Row[] {
  try {
    const records = parse(fs.readFileSync(file, 'utf8'), {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true,
      info: true,
      // csv-parse's typings do not model `info: true`, which wraps each record with where it was read.
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return records.map((r) => ({ cells: r.record, line: r.info.lines }));
  } catch (e) {
    throw new UserError(`${list} is not valid CSV: ${errorMessage(e).split('\n')[0]}`);
  }
}

/**
 * Rows of a clip CSV as entries, relative paths and Kinetics clips both under the CSV's folder. A row
 * whose column count differs from the header (or from 2 without one) is a fault: an unquoted comma in a
 * label would otherwise shift the label silently.
 */
export function csvEntries(file: string, list: string): { entries: Entry[]; kinetics: boolean } {
  const root = path.dirname(file);
  const all = rows(file, list);
  const head = all[0] ? layout(all[0].cells, list, all[0].line) : null;
  const data = head ? all.slice(1) : all;
  const cols = head ?? ({ kind: 'path', path: 0, label: 1, width: null } as const);
  const index = cols.kind === 'kinetics' ? new ClipIndex(root) : null;
  const entries = data.map(({ cells, line }): Entry => {
    const where = `line ${line}`;
    const width = cols.width ?? 2;
    if (cells.length !== width) {
      const problem = cols.width
        ? `row has ${cells.length} columns, the header has ${width}`
        : `row has ${cells.length} columns, expected 2 (path,label); quote a label that holds a comma`;
      return { where, name: cells[0] ?? '', label: '', file: null, anywhere: false, problem };
    }
    const cell = (i: number) => cells[i] ?? '';
    if (cols.kind === 'kinetics')
      return kineticsEntry(index!, where, {
        label: cell(cols.label),
        youtube_id: cell(cols.youtube_id),
        time_start: cell(cols.time_start),
        time_end: cell(cols.time_end),
      });
    const [written, label] = [cell(cols.path), cell(cols.label)];
    if (!written) return { where, name: '', label, file: null, anywhere: false, problem: 'row has no path' };
    if (!label) return { ...pathEntry(root, where, written, label), problem: `clip ${written} has no label` };
    return pathEntry(root, where, written, label);
  });
  return { entries, kinetics: cols.kind === 'kinetics' };
}
