import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

/**
 * The two TFLite WASM runtimes are built for browsers and web workers. In plain
 * Node they only need a few worker globals, which this one module provides:
 *
 * - `self` and `location`: both packages treat a missing `window` as "I am in a
 *   web worker" and read these.
 * - `importScripts(url)`: how workers load the emscripten glue. We evaluate the
 *   file in the global context, so it defines its module factory globally.
 * - The glue has no Node path for fetching its .wasm, so every factory it
 *   defines is wrapped to receive `wasmBinary`, read from the file beside it.
 * - tfjs-tflite picks its pthread build whenever SharedArrayBuffer exists; that
 *   build needs browser Workers, so its file name is mapped to the
 *   single-thread SIMD build. This is what pins it to exactly one thread.
 * - Their log output (XNNPACK and accelerator INFO lines) goes through
 *   `print`/`printErr`, routed away from stdout so `--json` output stays clean.
 * - `require` and `__dirname`: LiteRT's emscripten glue looks them up as globals
 *   once it sees `process` (it then believes it runs under Node).
 */

type Factory = (options?: Record<string, unknown>) => Promise<unknown>;
type ShimGlobals = typeof globalThis & Record<string, unknown>;

const FACTORY_NAMES = ['tflite_web_api_ModuleFactory', 'ModuleFactory'];
let installed = false;

/** Which glue files were evaluated: the report records them as proof of the build used. */
export const loadedGlue: string[] = [];

/** The runtimes' own INFO/WARNING chatter; shown with MOVINET_DEBUG=1, else kept off stdout and stderr. */
function runtimeLog(text: string): void {
  if (process.env.MOVINET_DEBUG) process.stderr.write(`[runtime] ${text}\n`);
}

/** WASM folders of the runtimes loaded so far. Scripts are found here by file name, not through `location`, */
// which is one global: two runtimes loading at once would otherwise read each other's folder.
const scriptDirs: string[] = [];

function toPath(url: string): string {
  const name = path.basename(url.startsWith('file:') ? fileURLToPath(url) : url);
  const dir = scriptDirs.find((d) => fs.existsSync(path.join(d, name)));
  if (!dir) throw new Error(`WASM glue ${name} not found in ${scriptDirs.join(', ')}`);
  return path.join(dir, name);
}

function singleThreaded(file: string): string {
  return file.replace(/_simd_threaded\.js$/, '_simd.js').replace(/_threaded\.js$/, '.js');
}

function importScripts(...urls: string[]): void {
  const g = globalThis as ShimGlobals;
  for (const url of urls) {
    const file = singleThreaded(toPath(url));
    vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
    loadedGlue.push(path.basename(file));
    const wasmBinary = fs.readFileSync(file.replace(/\.js$/, '.wasm'));
    for (const name of FACTORY_NAMES) {
      const factory = g[name] as Factory | undefined;
      if (typeof factory !== 'function' || (factory as { shimmed?: boolean }).shimmed) continue;
      const wrapped: Factory = (options = {}) =>
        factory({ ...options, wasmBinary, print: runtimeLog, printErr: runtimeLog });
      (wrapped as { shimmed?: boolean }).shimmed = true;
      g[name] = wrapped;
    }
  }
}

/** Installs the worker globals once; `baseDir` is where relative script URLs resolve. */
export function installWasmShims(baseDir: string): void {
  const g = globalThis as ShimGlobals;
  if (!installed) {
    installed = true;
    g.self ??= globalThis;
    g.importScripts = importScripts;
    g.require ??= createRequire(import.meta.url);
  }
  if (!scriptDirs.includes(baseDir)) scriptDirs.push(baseDir);
  g.location ??= { href: pathToFileURL(baseDir + path.sep).href, origin: 'file://', protocol: 'file:' };
  g.__dirname ??= baseDir;
}
