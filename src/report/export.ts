import Table from 'cli-table3';
import type { Column } from './columns.js';

/**
 * One exporter per format over the same column spec (hyperfine turns one
 * result into each export format the same way): a terminal table that fits
 * 100 columns, Markdown for pull-request comments and job summaries, CSV.
 */
export type TableFormat = 'text' | 'md' | 'csv';
export const TABLE_FORMATS: readonly TableFormat[] = ['text', 'md', 'csv'];

export interface TableOptions {
  format?: TableFormat;
  /** Every column, reference figures included (always for md and csv). */
  wide?: boolean;
}

/** Borderless, two spaces between columns: fits 100 columns and pastes into a text field. */
const COMPACT = {
  chars: {
    top: '',
    'top-mid': '',
    'top-left': '',
    'top-right': '',
    bottom: '',
    'bottom-mid': '',
    'bottom-left': '',
    'bottom-right': '',
    left: '',
    'left-mid': '',
    mid: '',
    'mid-mid': '',
    right: '',
    'right-mid': '',
    middle: '  ',
  },
  style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
};

function text<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => (c.text ? 'left' : 'right')),
    ...COMPACT,
  });
  for (const row of rows) table.push(columns.map((c) => c.cell(row)));
  return table.toString();
}

function markdown<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(columns.map((c) => c.header)),
    `|${columns.map((c) => (c.text ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => line(columns.map((c) => c.cell(r)))),
  ].join('\n');
}

function csv<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [columns.map((c) => cell(c.header)), ...rows.map((r) => columns.map((c) => cell(c.cell(r))))]
    .map((l) => l.join(','))
    .join('\n');
}

const EXPORTERS: Record<TableFormat, <Row>(columns: readonly Column<Row>[], rows: readonly Row[]) => string> = {
  text,
  md: markdown,
  csv,
};

export function visibleColumns<Row>(columns: readonly Column<Row>[], opts: TableOptions = {}): Column<Row>[] {
  const wide = opts.wide || (opts.format ?? 'text') !== 'text';
  return columns.filter((c) => wide || !c.wide);
}

export function renderTable<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  opts: TableOptions = {},
): string {
  return EXPORTERS[opts.format ?? 'text'](visibleColumns(columns, opts), rows);
}
