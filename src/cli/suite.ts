import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runSuite } from '../run/suite.js';
import { reportsDir } from '../util/paths.js';
import { assertWritable, emit } from './emit.js';

export function registerSuite(program: Command): void {
  program
    .command('suite <name>')
    .description(
      'run a named set of bench/accuracy/parity steps (suites/<name>.json), each in its own process, ' +
        'into one folder of reports plus an HTML summary',
    )
    .option('--out-dir <dir>', 'where the reports go (default reports/<suite>)')
    .option('--json', 'print the step outcomes as JSON', false)
    .action(async (ref: string, flags: { outDir?: string; json: boolean }) => {
      const dir = path.resolve(flags.outDir ?? path.join(reportsDir(), path.basename(ref, '.json')));
      assertWritable(path.join(dir, 'summary.html'));
      const cli = fileURLToPath(new URL('./main.js', import.meta.url));
      const outcome = await runSuite(ref, dir, cli, flags.json);
      const steps = outcome.steps.map((o) => `${o.step} exit ${o.exitCode}`).join(', ');
      const written = outcome.summary ? 'reports and summary.html' : 'reports';
      const text = `suite ${outcome.suite}: ${steps}; ${written} in ${dir}`;
      const worst = outcome.steps.reduce((w, o) => Math.max(w, o.exitCode), 0);
      emit({ value: outcome, text, code: worst }, flags.json);
    });
}
