import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { renderHtml } from '../report/html.js';
import { TABLE_FORMATS, type TableFormat } from '../report/export.js';
import { mergeReports } from '../report/merge.js';
import { readReport, type Report } from '../report/schema.js';
import { reportTable } from '../report/table.js';
import { UserError } from '../util/errors.js';
import { reportsDir } from '../util/paths.js';
import { assertWritable, emit, emitReport } from './emit.js';
import { choiceParser } from './options.js';

/** The newest report of each kind in reports/, by the time written inside it. */
function latestReports(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const newest = new Map<string, { file: string; at: string }>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, f);
    let r: Report;
    try {
      r = readReport(file);
    } catch {
      continue;
    }
    const prev = newest.get(r.kind);
    if (!prev || r.createdAt > prev.at) newest.set(r.kind, { file, at: r.createdAt });
  }
  return [...newest.values()].map((v) => v.file);
}

interface ReportFlags {
  out: string;
  json: boolean;
  format: TableFormat;
  wide: boolean;
  baseline?: string;
}

/** A report file, or every .json in a folder (not the merge's own output, not journals), in name order. */
function reportFiles(ref: string, out: string): string[] {
  if (!fs.existsSync(ref) || !fs.statSync(ref).isDirectory()) return [ref];
  const files = fs
    .readdirSync(ref)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(ref, f))
    .filter((f) => path.resolve(f) !== out);
  if (files.length === 0) throw new UserError(`${ref} holds no report (.json)`);
  return files;
}

export function registerReport(program: Command): void {
  program
    .command('report [reports...]')
    .description(
      'a self-contained HTML summary (default: the newest report of each kind in reports/), and the tables on stdout',
    )
    .option('--out <file>', 'HTML path', path.join(reportsDir(), 'summary.html'))
    .option('--baseline <report>', 'an earlier bench report: the page lists regressions against it')
    .option('--format <format>', 'tables on stdout as text, md or csv', choiceParser('--format', TABLE_FORMATS), 'text')
    .option('--wide', 'every column in the text tables, reference figures included', false)
    .option('--json', 'print the validated reports as JSON instead of tables', false)
    .action(async (files: string[], flags: ReportFlags) => {
      const chosen = files.length ? files : latestReports(reportsDir());
      if (chosen.length === 0)
        throw new UserError('no report given and none found in reports/; run bench or accuracy first');
      assertWritable(flags.out);
      const reports = chosen.map(readReport);
      const baseline = flags.baseline ? readReport(flags.baseline) : undefined;
      emit(
        {
          value: reports,
          text: reports.map((r) => reportTable(r, { format: flags.format, wide: flags.wide })).join('\n\n'),
          file: {
            path: flags.out,
            contents: await renderHtml(reports, { baseline }),
            label: `html (from ${chosen.join(', ')})`,
          },
        },
        flags.json,
      );
    });

  program
    .command('reports')
    .description('report utilities')
    .command('merge <reports...>')
    .description(
      'combine accuracy shards (--shard) or bench reports of separate processes into the report of a single run; ' +
        'a folder stands for every report (.json) in it',
    )
    .requiredOption('--out <file>', 'merged report path')
    .option('--json', 'print the merged report as JSON', false)
    .action((refs: string[], flags: { out: string; json: boolean }) => {
      assertWritable(flags.out);
      const files = refs.flatMap((r) => reportFiles(r, path.resolve(flags.out)));
      emitReport(mergeReports(files.map(readReport), files), flags.out, flags.json, { skipMissing: true });
    });
}
