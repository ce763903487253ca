import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { CLI_MAIN, processesNaming, waitFor, tempDir } from './helpers.js';

const tmp = tempDir('movinet-signals-');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test.serial(`a suite stopped by ${signal} stops its running step, waits for it, and leaves no report`, async (t) => {
    const outDir = path.join(tmp, signal);
    const suite = path.join(tmp, `slow-${signal}.json`);
    const args = [
      '--models',
      'a0',
      '--backends',
      'onnxruntime',
      '--frames',
      '100000',
      '--warmup',
      '0',
      '--no-overhead',
    ];
    fs.writeFileSync(suite, JSON.stringify({ description: 'slow', steps: [{ name: 'slow', command: 'bench', args }] }));
    const child = spawn(process.execPath, [CLI_MAIN, 'suite', suite, '--out-dir', outDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // The step is running once a process names its report path.
    t.true(await waitFor(() => processesNaming(path.join(outDir, 'slow.json')).length > 0, 30_000), 'the step started');
    child.kill(signal);
    const code = await exited;
    t.is(code, signal === 'SIGTERM' ? 143 : 130, stderr);
    t.regex(stderr, new RegExp(`stopped by ${signal}`));
    t.deepEqual(processesNaming(outDir), [], 'no step left running');
    t.false(fs.existsSync(path.join(outDir, 'slow.json')), 'no report from the stopped step');
    t.false(fs.existsSync(path.join(outDir, 'summary.html')));
  });
}
