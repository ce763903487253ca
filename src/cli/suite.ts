import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { z } from 'zod';
import { renderHtml } from '../report/html.js';
import { readReport } from '../report/schema.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EXIT_BAD_INPUT, UserError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { logLine } from '../util/progress.js';
import { assertWritable, printJson } from './output.js';

const SuiteSchema = z.object({
  description: z.string(),
  steps: z.array(z.object({ name: z.string().regex(/^[\w.-]+$/), command: z.enum(['bench', 'accuracy', 'parity']), args: z.array(z.string()) })).min(1),
});

function loadSuite(ref: string): { name: string; suite: z.infer<typeof SuiteSchema> } {
  const file = fs.existsSync(ref) ? ref : path.join(PROJECT_ROOT, 'suites', `${ref}.json`);
  if (!fs.existsSync(file)) {
    const known = fs.readdirSync(path.join(PROJECT_ROOT, 'suites')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    throw new UserError(`unknown suite '${ref}'; known: ${known.join(', ')} (or give a .json path)`);
  }
  const parsed = SuiteSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new UserError(`suite ${file} is invalid: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return { name: path.basename(file, '.json'), suite: parsed.data };
}

export function registerSuite(program: Command): void {
  program
    .command('suite <name>')
    .description('run a named set of bench/accuracy/parity steps (suites/<name>.json), each in its own process, into one folder of reports plus an HTML summary')
    .option('--out-dir <dir>', 'where the reports go (default reports/<suite>)')
    .option('--json', 'print the step outcomes as JSON', false)
    .action((ref: string, flags: { outDir?: string; json: boolean }) => {
      const { name, suite } = loadSuite(ref);
      const dir = path.resolve(flags.outDir ?? path.join(PROJECT_ROOT, 'reports', name));
      assertWritable(path.join(dir, 'summary.html'));
      const main = fileURLToPath(new URL('./main.js', import.meta.url));
      const outcomes = suite.steps.map((step) => {
        const out = path.join(dir, `${step.name}.json`);
        logLine(flags.json, `suite ${name}: ${step.name} (movinet-bench ${step.command} ${step.args.join(' ')})`);
        // One process per step: every runtime starts cold and its memory is its own.
        const r = spawnSync(process.execPath, [main, step.command, ...step.args, '--out', out], { stdio: ['ignore', flags.json ? 'ignore' : 'inherit', 'inherit'] });
        return { step: step.name, exitCode: r.status ?? EXIT_BAD_INPUT, report: fs.existsSync(out) ? out : null };
      });
      const reports = outcomes.flatMap((o) => (o.report ? [readReport(o.report)] : []));
      if (reports.length) writeFileAtomic(path.join(dir, 'summary.html'), renderHtml(reports));
      if (flags.json) printJson({ suite: name, dir, steps: outcomes });
      else logLine(false, `suite ${name}: ${outcomes.map((o) => `${o.step} exit ${o.exitCode}`).join(', ')}; reports and summary.html in ${dir}`);
      process.exitCode = Math.max(0, ...outcomes.map((o) => o.exitCode));
    });
}
