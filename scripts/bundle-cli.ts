/**
 * Bundles the CLI entry (src/cli/main.ts) and the small pure-JS packages it loads at start into one file,
 * written over tsc's dist/src/cli/main.js: every command, every bench child process and every suite step
 * starts by loading the CLI, and Node 20 compiles each ES module file separately (no compile cache), so
 * several hundred files cost more start-up time than their code. The rest of dist/src is tsc's output as it
 * was (the library API, the decode worker, the browser page); packages with native code, WebAssembly or
 * files of their own stay external and load from node_modules on first use. Usage, after tsc:
 *   node dist/scripts/bundle-cli.js
 */
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PROJECT_ROOT } from '../src/util/paths.js';

/** Pure JavaScript, no files of their own, loaded by most commands: worth inlining. */
const INLINED = new Set(['zod', 'commander', 'csv-parse', 'cli-table3', 'cli-progress', 'flatbuffers']);

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * A package our code imports stays an import from node_modules unless it is on the list, so a new dependency is
 * never inlined by accident; what an inlined package imports is inlined with it, at the version it resolves.
 */
const keepPackagesExternal: Plugin = {
  name: 'keep-packages-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const ours = !args.importer.split(path.sep).includes('node_modules');
      const external = ours && !INLINED.has(packageOf(args.path)) && !args.path.startsWith('node:');
      return external ? { path: args.path, external: true } : undefined;
    });
  },
};

await build({
  entryPoints: [path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts')],
  outfile: path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js'),
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // The inlined CommonJS packages require Node's built-ins, which an ES module can only do through this.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  plugins: [keepPackagesExternal],
  logLevel: 'warning',
});
