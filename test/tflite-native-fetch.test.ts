import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureNativeLibrary, nativeLibraryPath, NATIVE_TFLITE_SOURCE } from '../src/backends/tflite-native-lib.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { sha256File } from '../src/util/sha256.js';
import { tempDir } from './helpers.js';

// Its own file (its own process): the cache folder is this test's, set before anything reads it.
const cache = tempDir('native-fetch-');
process.env.MOVINET_CACHE_DIR = cache;

test('the library comes from the pinned registry tarball, verified; a damaged cached copy is fetched again', async (t) => {
  const lib = await ensureNativeLibrary();
  t.is(lib.path, nativeLibraryPath());
  t.true(lib.path.startsWith(cache));
  t.is(sha256File(lib.path), lib.sha256);
  t.regex(lib.source, new RegExp(`${NATIVE_TFLITE_SOURCE.package}@${NATIVE_TFLITE_SOURCE.version}`));
  // Only the one library file is kept: no tarball, no other platform's binaries.
  t.deepEqual(fs.readdirSync(path.dirname(lib.path)), [path.basename(lib.path)]);
  t.deepEqual(fs.readdirSync(path.join(cache, 'runtimes')), [`tflite-${NATIVE_TFLITE_SOURCE.tfliteVersion}`]);

  // A new process finds the damaged file, refuses it and fetches again.
  fs.writeFileSync(lib.path, 'damaged');
  const module = path.join(PROJECT_ROOT, 'dist', 'src', 'backends', 'tflite-native-lib.js');
  const script = `import(${JSON.stringify(module)}).then(async (m) => console.log((await m.ensureNativeLibrary()).sha256))`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env } });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), lib.sha256);
  t.is(sha256File(lib.path), lib.sha256);
});
