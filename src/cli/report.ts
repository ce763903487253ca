import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { renderHtml } from '../report/html.js';
import { mergeAccuracyReports } from '../report/merge.js';
import { readReport, type Report } from '../report/schema.js';
import { reportTable } from '../report/table.js';
import { UserError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { assertWritable, emit, emitReport } from './emit.js';

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

export function registerReport(program: Command): void {
  program
    .command('report [reports...]')
    .description('a self-contained HTML summary (default: the newest report of each kind in reports/)')
    .option('--out <file>', 'HTML path', path.join(PROJECT_ROOT, 'reports', 'summary.html'))
    .option('--json', 'print the validated reports as JSON instead of tables', false)
    .action((files: string[], flags: { out: string; json: boolean }) => {
      const chosen = files.length ? files : latestReports(path.join(PROJECT_ROOT, 'reports'));
      if (chosen.length === 0)
        throw new UserError('no report given and none found in reports/; run bench or accuracy first');
      assertWritable(flags.out);
      const reports = chosen.map(readReport);
      emit(
        {
          value: reports,
          text: reports.map(reportTable).join('\n'),
          file: { path: flags.out, contents: renderHtml(reports), label: `html (from ${chosen.join(', ')})` },
        },
        flags.json,
      );
    });

  program
    .command('reports')
    .description('report utilities')
    .command('merge <shards...>')
    .description('combine accuracy shard reports (--shard i/n) into the report of a single run')
    .requiredOption('--out <file>', 'merged report path')
    .option('--json', 'print the merged report as JSON', false)
    .action((shards: string[], flags: { out: string; json: boolean }) => {
      assertWritable(flags.out);
      emitReport(mergeAccuracyReports(shards.map(readReport), shards), flags.out, flags.json, { skipMissing: true });
    });
}
