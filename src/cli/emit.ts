import path from 'node:path';
import type { Skipped } from '../core/results.js';
import { serializeReport, type Report } from '../report/schema.js';
import { reportTable } from '../report/table.js';
import { assertWritable, writeFileAtomic } from '../util/atomic-write.js';
import { signalExitCode } from '../util/child.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, UserError } from '../util/errors.js';
import { reportsDir } from '../util/paths.js';
import { logLine } from '../util/progress.js';

export { assertWritable };

/** What a command produced: the value --json prints, the text a person reads, what to write, and how it ends. */
export interface Emission {
  value: unknown;
  text: string;
  /** A file to write atomically before anything is printed. */
  file?: { path: string; contents: string | Uint8Array; label: string };
  code?: number;
  /** One line on stderr explaining a non-zero exit (printed even with --json: stdout stays clean). */
  message?: string;
}

/** The one place where commands write, print, and set the exit code. */
export function emit(e: Emission, json: boolean): void {
  if (e.file) writeFileAtomic(e.file.path, e.file.contents);
  process.stdout.write(json ? `${JSON.stringify(e.value, null, 1)}\n` : `${e.text}\n`);
  if (e.file) logLine(json, `${e.file.label}: ${e.file.path}`);
  if (e.message) process.stderr.write(`movinet-bench: ${e.message}\n`);
  process.exitCode = e.code ?? EXIT_OK;
}

export interface ReportPolicy {
  /** --skip-missing: models whose files are absent do not fail the run. */
  skipMissing?: boolean;
  /** The signal that stopped a live run, for its exit code (128 + the signal's number). */
  signal?: NodeJS.Signals;
}

function ran(report: Report): number {
  switch (report.kind) {
    case 'bench':
      return report.results.length;
    case 'accuracy':
      return report.runs.length;
    case 'parity':
      return report.pairs.length;
    case 'live':
      return report.results.length;
    case 'drift':
      return report.results.length;
  }
}

const distinct = (items: string[]) => [...new Set(items)];

/**
 * The exit policy of every report-producing command: nothing ran is bad input
 * (and no report is written); a pair that failed or a parity mismatch is a
 * failed check (1); a corrupt or, unless skipped on request, missing model, or
 * a clip that could not be decoded, is bad input (2). A live run stopped by a
 * signal exits as the shell expects of that signal (130 for SIGINT), with the
 * report of what ran, or with none when no frame was processed.
 */
/** What was skipped for being absent: model files, runtimes that cannot run here, or both. */
function skippedWhat(missing: readonly Skipped[]): string {
  const models = distinct(missing.filter((s) => s.cause === 'missing').map((s) => s.model));
  const runtimes = distinct(missing.filter((s) => s.cause === 'runtime').map((s) => `${s.backend} (${s.reason})`));
  return [
    models.length ? `missing models were skipped: ${models.join(', ')}` : '',
    runtimes.length ? `backends whose runtime is unavailable were skipped: ${runtimes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

export function reportVerdict(report: Report, policy: ReportPolicy): { code: number; message?: string } {
  const missing = report.skipped.filter((s) => s.cause === 'missing' || s.cause === 'runtime');
  const corrupt = report.skipped.filter((s) => s.cause === 'corrupt');
  const interrupted = report.kind === 'live' && report.interrupted;
  const stoppedCode = signalExitCode(policy.signal ?? 'SIGINT');
  if (ran(report) === 0 && interrupted)
    throw new UserError('interrupted before any frame was processed; no report written', stoppedCode);
  if (ran(report) === 0) {
    const why = distinct([
      ...report.skipped.map((s) => s.reason),
      ...report.failed.map((f) => `${f.backend}: ${f.error}`),
    ]);
    throw new UserError(`nothing ran: ${why.join('; ') || 'no model or backend to run'}`);
  }
  if (interrupted) {
    const signal = policy.signal ?? 'a signal';
    return {
      code: stoppedCode,
      message: `interrupted by ${signal}: the report holds what ran and says so (exit ${stoppedCode})`,
    };
  }
  if (report.failed.length)
    return {
      code: EXIT_CHECK_FAILED,
      message: `${report.failed.length} (model, backend) pair(s) failed; the report has the rest (exit 1)`,
    };
  if (report.kind === 'parity' && !report.passed) return { code: EXIT_CHECK_FAILED };
  if (corrupt.length)
    return {
      code: EXIT_BAD_INPUT,
      message: `corrupt model files were skipped: ${distinct(corrupt.map((s) => s.model)).join(', ')} (exit 2)`,
    };
  const clipErrors = report.kind === 'accuracy' ? report.runs.reduce((a, r) => a + r.summary.errors, 0) : 0;
  if (clipErrors)
    return {
      code: EXIT_BAD_INPUT,
      message: `${clipErrors} clip(s) could not be evaluated; see the report's clip errors (exit 2)`,
    };
  if (missing.length && !policy.skipMissing) {
    return {
      code: EXIT_BAD_INPUT,
      message: `${skippedWhat(missing)} (exit 2; pass --skip-missing to accept that)`,
    };
  }
  return { code: EXIT_OK };
}

/** A report: validated, written atomically (unless nothing ran), printed as a table or JSON, exit code by policy. */
export function emitReport(report: Report, out: string, json: boolean, policy: ReportPolicy = {}): void {
  const verdict = reportVerdict(report, policy);
  emit(
    {
      value: report,
      text: reportTable(report),
      file: { path: out, contents: serializeReport(report), label: 'report' },
      ...verdict,
    },
    json,
  );
}

/** reports/<kind>-<time>.json; the milliseconds and pid keep two runs in the same second apart. */
export function defaultReportPath(kind: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '').replace(/Z$/, '');
  return path.join(reportsDir(), `${kind}-${stamp}-${process.pid}.json`);
}
