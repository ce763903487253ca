import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import type { NodeTime } from '../metrics/profile.js';
import type { OpProfiler, ProfileWindow } from './backend.js';
import { errorMessage } from '../util/errors.js';
import { checkOrtTelemetry, disableOrtTelemetry } from '../util/ort-telemetry.js';
import { RuntimeUnavailable, whyUnavailable } from './package-info.js';
import { onnxBackend, type OnnxPlacement, type OrtPackage } from './onnx-backend.js';

/** onnxruntime's trace (Chrome trace format): node events carry their op type and duration in µs. */
interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

/** Ends the trace and reads the node kernel times of every run after the window's warm-up. */
function traceProfiler(session: InferenceSession, dir: string, window: ProfileWindow): OpProfiler {
  return {
    source: 'onnxruntime profiler (enableProfiling trace)',
    async nodeTimes(): Promise<NodeTime[]> {
      session.endProfiling();
      const events = readTrace(dir);
      const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts ?? 0);
      const from = runs.sort((a, b) => a - b)[window.warmup] ?? Infinity;
      return events.flatMap((e) =>
        e.cat === 'Node' && e.name?.endsWith('_kernel_time') && e.dur !== undefined && (e.ts ?? 0) >= from
          ? [{ node: e.name.slice(0, -'_kernel_time'.length), op: e.args?.op_name ?? '?', ms: e.dur / 1000 }]
          : [],
      );
    },
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The trace onnxruntime wrote under `dir`, which is removed whether or not it reads. */
function readTrace(dir: string): TraceEvent[] {
  try {
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile in ${dir}`);
    return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TraceEvent[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type OrtNode = typeof import('onnxruntime-node');

/**
 * onnxruntime-node is an optional dependency: npm drops it when its install script fails (npm 10 runs it,
 * and on linux x64 it downloads CUDA binaries from outside the registry). Then its pairs are skipped.
 */
export async function loadOrtNode(): Promise<OrtNode> {
  // Every path to a session passes here (backends, roofline probe, parity --locate, library calls), and the
  // library reads the switch at its first session, which is after this.
  disableOrtTelemetry();
  try {
    return (await import('onnxruntime-node')).default;
  } catch (e) {
    throw new RuntimeUnavailable(
      `onnxruntime-node is not installed or cannot load here (${errorMessage(e).split('\n')[0]}); ` +
        'npm drops it when its install script fails: reinstall movinet-bench with --ignore-scripts',
    );
  }
}

/** onnxruntime's native build, as its backends (and the roofline probe) load it. */
export const NODE: OrtPackage = {
  name: 'onnxruntime-node',
  load: loadOrtNode,
  available: () => whyUnavailable(loadOrtNode),
  build: 'CPU EP (MLAS)',
  preallocatedOutputs: true,
  maxThreads: os.availableParallelism(),
  profiler: traceProfiler,
  inProcess: { telemetry: checkOrtTelemetry },
};

/** The converted model in the source's own precision (int8 QDQ for the int8 models). */
/** onnxruntime-node has no browser build: its WASM build stands in, for the same graph. */
const nodePlacement = (web: string): OnnxPlacement => ({
  probe: 'onnxruntime',
  browser: { instead: web, because: 'native onnxruntime-node, which has no browser build' },
});

export const onnxRuntimeBackend = onnxBackend('onnxruntime', NODE, 'native', nodePlacement('onnxruntime-web'));
/** The converted model with every weight dequantized: a fp32 graph. */
export const onnxRuntimeFloatBackend = onnxBackend(
  'onnxruntime-float',
  NODE,
  'float',
  nodePlacement('onnxruntime-web-float'),
);
/** TFLite's int8 arithmetic emulated in fp32 ops: bit-exact parity, fp32 speed. */
export const onnxRuntimeExactBackend = onnxBackend(
  'onnxruntime-exact',
  NODE,
  'int8-exact',
  nodePlacement('onnxruntime-web-exact'),
);
