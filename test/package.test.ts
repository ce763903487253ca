import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { CLI_MAIN } from './helpers.js';

/** The README's library example, as a user would paste it. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- library-example');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker < 0 || !block) throw new Error('README has no library example');
  return block[1]!;
}

test('the README library example type-checks against the declarations and runs against the real A0', (t) => {
  // Inside the package folder, so 'movinet-bench' resolves to this package through its exports map.
  const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, 'dist', 'readme-example-'));
  try {
    const file = path.join(dir, 'example.ts');
    fs.writeFileSync(file, readmeExample());
    const tsc = spawnSync(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        ...['--strict', '--noUncheckedIndexedAccess', '--skipLibCheck', '--types', 'node'],
        ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
        ...['--rootDir', dir, '--outDir', dir, file],
      ],
      { encoding: 'utf8' },
    );
    t.is(tsc.status, 0, tsc.stdout + tsc.stderr);
    const run = spawnSync(process.execPath, [path.join(dir, 'example.js')], { encoding: 'utf8', timeout: 120_000 });
    t.is(run.status, 0, run.stderr);
    t.regex(run.stdout, /^a0-int8 on tfjs-tflite: p50 \d+\.\d\d ms, .*numThreads=1/m);
    t.regex(run.stdout, /^no regression$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the package manifest: not private, an exports map with types, runtime versions pinned, files limited to run time', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    private?: boolean;
    exports: Record<string, { types?: string; import?: string } | string>;
    dependencies: Record<string, string>;
    optionalDependencies: Record<string, string>;
    files: string[];
  };
  t.is(pkg.private, undefined);
  const main = pkg.exports['.'] as { types: string; import: string };
  t.true(fs.existsSync(path.join(PROJECT_ROOT, main.types)));
  t.true(fs.existsSync(path.join(PROJECT_ROOT, main.import)));
  // The figures rest on these versions: an install must get exactly them.
  const runtimes = { ...pkg.dependencies, ...pkg.optionalDependencies };
  for (const name of [
    'onnxruntime-node',
    'onnxruntime-web',
    'onnxruntime-common',
    '@litertjs/core',
    '@tensorflow/tfjs-tflite',
    'koffi',
  ])
    t.regex(runtimes[name] ?? '', /^\d+\.\d+\.\d+(-[\w.]+)?$/, name);
  t.false(pkg.files.some((f) => f.startsWith('test') || f.startsWith('src')));
  t.true(fs.existsSync(path.join(PROJECT_ROOT, 'LICENSE')));
});

test('--version names the runtimes the figures rest on', (t) => {
  const r = spawnSync(process.execPath, [CLI_MAIN, '--version'], {
    encoding: 'utf8',
  });
  t.is(r.status, 0);
  t.regex(r.stdout, /^movinet-bench \d+\.\d+\.\d+/);
  t.regex(r.stdout, /^onnxruntime-node 1\.30\.0$/m);
  t.regex(r.stdout, /^@tensorflow\/tfjs-tflite 0\.0\.1-alpha\.10$/m);
  t.regex(r.stdout, /^native TFLite 2\.9\.0/m);
});
