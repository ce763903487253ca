import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeQuietly } from '../util/atomic-write.js';
import { download, DownloadError, downloadLog, formatBytes, isOffline } from '../util/download.js';
import { errorMessage } from '../util/errors.js';
import { RuntimeUnavailable } from './package-info.js';
import { cacheDir } from '../util/paths.js';
import { sha256File } from '../util/sha256.js';

/*
 * The native TFLite C library, without the package's own N-API binding: tfjs-tflite-node ships
 * libtensorflowlite_c (XNNPACK compiled in) per platform, but installing the package runs node-gyp.
 * So the package is never a dependency: its registry tarball is fetched on first use, pinned by
 * sha256, and only this platform's library file is kept in the user cache, verified on every load.
 */

export const NATIVE_TFLITE_SOURCE = {
  package: 'tfjs-tflite-node',
  version: '0.0.2',
  tfliteVersion: '2.9.0',
  tarballSha256: '3be1632328a76a2475e5b6833253763c802c859433becb4d879ee1860e3b5284',
  tarballBytes: 5_303_910,
} as const;

interface PlatformFile {
  /** The package's folder name for the platform: recorded as the platform binary. */
  dir: string;
  file: string;
  sha256: string;
}

const PLATFORM_FILES: Readonly<Record<string, PlatformFile>> = {
  'linux-x64': {
    dir: 'linux_amd64',
    file: 'libtensorflowlite_c.so',
    sha256: 'dc89b4cd86d956516570bd483668e6dd98907f49901d0567dedc69a29a56b7f7',
  },
  'linux-arm64': {
    dir: 'linux_arm64',
    file: 'libtensorflowlite_c.so',
    sha256: 'ec0dee4fb3418e680d010248ac1e304d9656cc5c8de54caaf91d666712e2f633',
  },
  'darwin-arm64': {
    dir: 'darwin_arm64',
    file: 'libtensorflowlite_c.dylib',
    sha256: '195b0b1403a7e19bf6b3768578f839cf895189709b760755b2b9fb0ac324259b',
  },
  'win32-x64': {
    dir: 'windows_amd64',
    file: 'tensorflowlite_c.dll',
    sha256: '5c312a59455bef8f4996c893e1f70cfacda56abb35750a74096ad8301f564aef',
  },
};

/** The library file a backend loaded, for every report row. */
export interface NativeLibrary {
  path: string;
  sha256: string;
  /** e.g. 'linux_amd64/libtensorflowlite_c.so' of tfjs-tflite-node@0.0.2. */
  platformBinary: string;
  source: string;
}

export function platformKey(): string {
  return `${process.platform}-${os.arch()}`;
}

function platformFile(): PlatformFile {
  const f = PLATFORM_FILES[platformKey()];
  if (!f)
    throw new RuntimeUnavailable(
      `${NATIVE_TFLITE_SOURCE.package}@${NATIVE_TFLITE_SOURCE.version} has no TFLite library for ${platformKey()} ` +
        `(it ships ${Object.keys(PLATFORM_FILES).join(', ')})`,
    );
  return f;
}

/** The npm registry the user's npm uses (npx and npm scripts pass it on), else the public one. */
function registryUrl(): string {
  const base = process.env.npm_config_registry || 'https://registry.npmjs.org/';
  const { package: name, version } = NATIVE_TFLITE_SOURCE;
  return `${base.replace(/\/+$/, '')}/${name}/-/${name}-${version}.tgz`;
}

export function nativeLibraryPath(): string {
  const f = platformFile();
  return path.join(cacheDir(), 'runtimes', `tflite-${NATIVE_TFLITE_SOURCE.tfliteVersion}`, f.dir, f.file);
}

function describe(f: PlatformFile, file: string): NativeLibrary {
  const { package: name, version } = NATIVE_TFLITE_SOURCE;
  return {
    path: file,
    sha256: f.sha256,
    platformBinary: `${f.dir}/${f.file}`,
    source: `${name}@${version} (npm registry tarball, sha256-pinned)`,
  };
}

async function extractMember(tarball: string, member: string, target: string): Promise<void> {
  const tar = await import('tar');
  const tmpDir = fs.mkdtempSync(path.join(path.dirname(target), '.extract-'));
  try {
    await tar.x({ file: tarball, cwd: tmpDir, filter: (p) => p === member });
    const got = path.join(tmpDir, member);
    if (!fs.existsSync(got))
      throw new RuntimeUnavailable(`the ${NATIVE_TFLITE_SOURCE.package} tarball has no ${member}`);
    fs.renameSync(got, target);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

let pending: Promise<NativeLibrary> | undefined;

/**
 * This platform's library, verified against its pinned sha256; fetched into the cache first when absent.
 * A damaged cached file is this tool's own and is fetched again. Throws RuntimeUnavailable with the cause.
 */
export function ensureNativeLibrary(): Promise<NativeLibrary> {
  pending ??= fetchLibrary().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function fetchLibrary(): Promise<NativeLibrary> {
  const f = platformFile();
  const target = nativeLibraryPath();
  const intact = () => fs.existsSync(target) && sha256File(target) === f.sha256;
  if (intact()) return describe(f, target);
  removeQuietly(target);
  const url = registryUrl();
  const { package: name, version } = NATIVE_TFLITE_SOURCE;
  if (isOffline()) {
    const offline = `the native TFLite library is not in the cache (${target}) and the run is offline`;
    throw new RuntimeUnavailable(`${offline}, so ${name}@${version} was not fetched from ${url}`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Per process: shards starting together on one shared cache each fetch their own copy.
  const tarball = path.join(path.dirname(target), `.${name}-${version}.${process.pid}-${Date.now()}.tgz`);
  try {
    await download({
      what: `${name}@${version}`,
      url,
      target: tarball,
      sha256: NATIVE_TFLITE_SOURCE.tarballSha256,
      bytes: NATIVE_TFLITE_SOURCE.tarballBytes,
    });
    await extractMember(tarball, `package/cc_deps/${f.dir}/${f.file}`, target);
  } catch (e) {
    // Another process may have put a good copy in place meanwhile.
    if (intact()) return describe(f, target);
    const cause = e instanceof DownloadError ? e.detail : errorMessage(e);
    throw new RuntimeUnavailable(`fetching the native TFLite library (${name}@${version}) failed: ${cause}`);
  } finally {
    removeQuietly(tarball);
  }
  const got = sha256File(target);
  if (got !== f.sha256) {
    removeQuietly(target);
    throw new RuntimeUnavailable(`${f.dir}/${f.file} from ${name}@${version} has sha256 ${got}, expected ${f.sha256}`);
  }
  const library = `native TFLite ${NATIVE_TFLITE_SOURCE.tfliteVersion} library`;
  downloadLog(`fetched the ${library} (${f.dir}, ${formatBytes(fs.statSync(target).size)}) into ${target}`);
  return describe(f, target);
}
