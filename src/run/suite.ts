import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { renderHtml } from '../report/html.js';
import { readReport } from '../report/schema.js';
import { removeQuietly, writeFileAtomic } from '../util/atomic-write.js';
import { runChild, signalExitCode } from '../util/child.js';
import { isOffline } from '../util/download.js';
import { UserError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { logLine } from '../util/progress.js';

const SuiteSchema = z.object({
  description: z.string(),
  steps: z
    .array(
      z.object({
        name: z.string().regex(/^[\w.-]+$/),
        command: z.enum(['bench', 'accuracy', 'parity', 'live']),
        args: z.array(z.string()),
      }),
    )
    .min(1),
});
export type Suite = z.infer<typeof SuiteSchema>;

export function loadSuite(ref: string): { name: string; file: string; suite: Suite } {
  const file = fs.existsSync(ref) ? ref : path.join(PROJECT_ROOT, 'suites', `${ref}.json`);
  if (!fs.existsSync(file)) {
    const known = fs
      .readdirSync(path.join(PROJECT_ROOT, 'suites'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    throw new UserError(`unknown suite '${ref}'; known: ${known.join(', ')} (or give a .json path)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`suite ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = SuiteSchema.safeParse(raw);
  if (!parsed.success)
    throw new UserError(
      `suite ${file} is invalid: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  return { name: path.basename(file, '.json'), file, suite: parsed.data };
}

export interface StepOutcome {
  step: string;
  exitCode: number;
  report: string | null;
}

export interface SuiteOutcome {
  suite: string;
  dir: string;
  steps: StepOutcome[];
  summary: string | null;
}

/**
 * Runs each step as `node <cli> <command> … --out <dir>/<step>.json`, one
 * process per step so every runtime starts cold and its memory is its own.
 * A step's earlier report is removed first: a stale file is never read. A
 * step stopped by a signal stops the suite, with no summary.
 */
export async function runSuite(ref: string, dir: string, cli: string, quiet: boolean): Promise<SuiteOutcome> {
  const { name, suite } = loadSuite(ref);
  const summary = path.join(dir, 'summary.html');
  removeQuietly(summary);
  const steps: StepOutcome[] = [];
  for (const step of suite.steps) {
    const out = path.join(dir, `${step.name}.json`);
    removeQuietly(out);
    logLine(quiet, `suite ${name}: ${step.name} (movinet-bench ${step.command} ${step.args.join(' ')})`);
    const offline = isOffline() ? ['--offline'] : [];
    const r = await runChild(process.execPath, [cli, ...offline, step.command, ...step.args, '--out', out], {
      stdout: quiet ? 'ignore' : 'inherit',
      stderr: 'inherit',
    });
    if (r.signal)
      throw new UserError(`suite ${name} stopped by ${r.signal} during step ${step.name}`, signalExitCode(r.signal));
    steps.push({ step: step.name, exitCode: r.code, report: fs.existsSync(out) ? out : null });
  }
  const reports = steps.flatMap((o) => (o.report ? [readReport(o.report)] : []));
  if (reports.length) writeFileAtomic(summary, await renderHtml(reports));
  return { suite: name, dir, steps, summary: reports.length ? summary : null };
}
