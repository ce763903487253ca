import path from 'node:path';
import { validateReport, type Report } from '../report/schema.js';
import { assertWritable, writeFileAtomic } from '../util/atomic-write.js';
import { PROJECT_ROOT } from '../util/paths.js';

export function defaultReportPath(kind: string): string {
  const stamp = new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '');
  return path.join(PROJECT_ROOT, 'reports', `${kind}-${stamp}.json`);
}

export { assertWritable };

/** Validates against the schema before writing: a report that would not read back is never written. */
export function writeReport(file: string, report: Report): void {
  writeFileAtomic(file, `${JSON.stringify(validateReport(report), null, 1)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 1)}\n`);
}

export function commandLine(): string {
  return ['movinet-bench', ...process.argv.slice(2)].join(' ');
}
