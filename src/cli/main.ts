#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { runtimeVersions, toolVersion } from '../run/environment.js';
import { userEnvironment } from '../run/defaults.js';
import { setDownloadsQuiet, setOffline } from '../util/download.js';
import { EXIT_BAD_INPUT, UserError } from '../util/errors.js';
import { disableOrtTelemetry } from '../util/ort-telemetry.js';
import { registerAb } from './ab.js';
import { registerBench } from './bench.js';
import { registerClassify } from './classify.js';
import { registerLive } from './live.js';
import { registerDatasets } from './datasets.js';
import { registerDrift } from './drift.js';
import { registerModels } from './models.js';
import { registerAccuracy } from './accuracy.js';
import { registerCompare } from './compare.js';
import { registerReport } from './report.js';
import { registerParity } from './parity.js';
import { registerSuite } from './suite.js';

// Before any command can create an onnxruntime session, which is when the library reads the switch.
disableOrtTelemetry();

const program = new Command('movinet-bench')
  .description(
    'Benchmark and evaluate MoViNet streaming video classifiers.\n' +
      'Exit codes: 0 ok, 1 a requested check failed (regression, parity), 2 bad input or missing model.',
  )
  .version([`movinet-bench ${toolVersion()}`, ...runtimeVersions()].join('\n'))
  .option(
    '--offline',
    'never touch the network: missing models and clips are reported, not fetched (MOVINET_OFFLINE=1)',
  )
  .exitOverride()
  .configureOutput({
    outputError: (str, write) =>
      write(
        str
          .trim()
          .split('\n')[0]!
          .replace(/^error: /, 'movinet-bench: error: ') + '\n',
      ),
  });

registerBench(program);
registerAccuracy(program);
registerClassify(program);
registerModels(program);
registerDatasets(program);
registerCompare(program);
registerAb(program);
registerParity(program);
registerSuite(program);
registerReport(program);
registerLive(program);
registerDrift(program);

// Set before any command runs; child processes (suite steps, bench processes) are given --offline.
program.hook('preAction', (_program, command) => {
  setOffline((program.opts() as { offline?: boolean }).offline === true || userEnvironment().offline);
  setDownloadsQuiet((command.opts() as { json?: boolean }).json === true);
});

/** Exits once stdout has drained: a piped --json report must not be cut short. */
async function exit(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

async function fail(message: string, code: number): Promise<never> {
  process.stderr.write(`movinet-bench: error: ${message.split('\n')[0]}\n`);
  return exit(code);
}

try {
  await program.parseAsync(process.argv);
  await exit(Number(process.exitCode ?? 0));
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors are bad input.
    await exit(e.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
  }
  if (e instanceof UserError) await fail(e.message, e.exitCode);
  if (process.env.MOVINET_DEBUG) console.error(e);
  await fail(`internal error: ${(e as Error).message ?? String(e)} (set MOVINET_DEBUG=1 for the stack)`, 1);
}
