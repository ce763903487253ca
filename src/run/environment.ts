import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageVersion } from '../backends/package-info.js';
import { thisMachine } from './machine.js';
import { NATIVE_TFLITE_SOURCE } from '../backends/tflite-native-lib.js';
import { ortTelemetryEnvironment } from '../util/ort-telemetry.js';
import { isCheckout, PROJECT_ROOT } from '../util/paths.js';
import { ffmpegVersion } from '../video/ffmpeg.js';
import type { Environment } from '../core/results.js';
import { SCHEMA_VERSION, type ReportHeader } from '../report/schema.js';

const RUNTIME_PACKAGES = [
  '@tensorflow/tfjs-tflite',
  '@tensorflow/tfjs-core',
  '@litertjs/core',
  'onnxruntime-node',
  'koffi',
];

/** The machine's load when this process started, before its own work could count in it. */
const LOAD_AT_START = os.loadavg();

/** The checkout's commit; null for an installed package (a git repository around node_modules is not ours). */
function gitCommit(): string | null {
  if (!isCheckout()) return null;
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  return r.stdout.trim() + (dirty ? '-dirty' : '');
}

/** The runtimes' versions, for `--version`: the figures rest on them. */
export function runtimeVersions(): string[] {
  const installed = RUNTIME_PACKAGES.map((p) => `${p} ${packageVersion(p)}`);
  return [
    ...installed,
    `native TFLite ${NATIVE_TFLITE_SOURCE.tfliteVersion} ` +
      `(${NATIVE_TFLITE_SOURCE.package}@${NATIVE_TFLITE_SOURCE.version}, fetched on first use)`,
  ];
}

export function toolVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function environmentFingerprint(): Environment {
  // The same CPU, OS and Node fields as every result's machine records.
  const { cpuModel, cpuCores, os: system, node, emulated } = thisMachine();
  return {
    cpuModel,
    cpuCores,
    totalMemGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: system,
    node,
    v8: process.versions.v8,
    packages: Object.fromEntries(RUNTIME_PACKAGES.map((p) => [p, packageVersion(p)])),
    ffmpeg: ffmpegVersion(),
    gitCommit: gitCommit(),
    ci: Boolean(process.env.CI),
    loadAverage: [LOAD_AT_START[0]!, LOAD_AT_START[1]!, LOAD_AT_START[2]!],
    ...(emulated ? { emulated } : {}),
    onnxruntimeTelemetry: ortTelemetryEnvironment(),
  };
}

/**
 * The part every report starts with: schema version, tool, time, command line, machine. It runs ffmpeg and git,
 * so a command takes it once its request has passed its checks: bad input is refused without them.
 */
export function reportHeader(command: string = commandLine()): ReportHeader {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'movinet-bench' as const, version: toolVersion() },
    createdAt: new Date().toISOString(),
    command,
    environment: environmentFingerprint(),
  };
}

let libraryCall: string | undefined;

/** A report made through the library records the call, not the host program's command line. */
export function recordLibraryCall(call: string): void {
  libraryCall = call;
}

/** The command line as the user typed it (or the library call), recorded in every report. */
export function commandLine(): string {
  return libraryCall ?? ['movinet-bench', ...process.argv.slice(2)].join(' ');
}
