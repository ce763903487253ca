import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { convertCached } from '../convert/cache.js';
import { stateCodes, type StateCodec } from '../convert/int8-states.js';
import { graphPrecision, type BatchAxis, type Precision } from '../convert/tflite-to-onnx.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { TelemetryCheck } from '../util/ort-telemetry.js';
import { osThreads } from '../util/os-threads.js';
import type {
  Backend,
  BackendFacts,
  BatchedSession,
  LoadOptions,
  OpProfiler,
  ProfileWindow,
  RuntimeInfo,
  Session,
  ThreadInfo,
} from './backend.js';
import { OnnxBatchedSession } from './onnx-batched.js';
import { OnnxSession, onnxSessionOptions, PRECISION_LABEL, type OrtApi } from './onnx-session.js';
import { packageVersion } from './package-info.js';

/**
 * Loading a converted graph into an onnxruntime package: shared by the native
 * (onnxruntime.ts) and WASM (onnxruntime-web.ts) backends, which differ only in
 * the package, its build and what it can profile.
 */

/** The onnxruntime package a backend runs the converted graph on, as the backend needs it. */
export interface OrtPackage {
  name: string;
  /** Loaded on first use: neither package costs anything to a run that does not ask for it. */
  load(threads: number): Promise<OrtApi & { InferenceSession: { create: typeof InferenceSession.create } }>;
  /** The build that runs the graph, for the report. */
  build: string;
  /** The EP list, when the package needs one named. */
  executionProviders?: string[];
  maxThreads: number;
  maxThreadsWhy?: string;
  /** Whether the package writes outputs into pre-allocated tensors correctly (see OnnxSession). */
  preallocatedOutputs: boolean;
  /** The package's op profiler, on a session created with enableProfiling writing under `dir`. */
  profiler?: (session: InferenceSession, dir: string, window: ProfileWindow) => OpProfiler;
  /** Why there is no profiler, when there is none. */
  noProfiler?: string;
  /** For a package that may be absent (an optional dependency): null when it loads, else why not. */
  available?(): Promise<string | null>;
  /**
   * A build that runs in this process's own threads (the native one): each session's creation is checked for the
   * OS threads it started, and for the package's telemetry.
   */
  inProcess?: { telemetry(): TelemetryCheck };
}

/**
 * The thread settings checked against the OS threads session creation started: in sequential mode only the
 * intra-op pool starts threads, one fewer than its size as the calling thread is its first.
 */
function threadCheck(
  requested: number,
  enforcement: string,
  before: number | null,
  after: number | null,
): { requested: number; enforcement: string; osThreads: { started: number | null; expected: number } } {
  const started = before === null || after === null ? null : after - before;
  const expected = requested - 1;
  const verified =
    started === null
      ? 'OS threads not counted here (no /proc)'
      : `session creation started ${started} OS threads, ${expected} expected (intraOpNumThreads - 1)`;
  return { requested, enforcement: `${enforcement}; verified: ${verified}`, osThreads: { started, expected } };
}

/** onnxruntime's own errors name neither the backend nor the file; a failed load says both. */
async function createSession(
  create: typeof InferenceSession.create,
  backend: string,
  file: string | null,
  bytes: Uint8Array,
  options: InferenceSession.SessionOptions,
): Promise<InferenceSession> {
  try {
    return await create(bytes, options);
  } catch (e) {
    const where = file ? ` from ${file} (delete it or pass --no-cache)` : '';
    throw new Error(
      `${backend}: onnxruntime cannot load the converted model${where}: ${(e as Error).message.split('\n')[0]}`,
      { cause: e },
    );
  }
}

/** The facts of an onnxruntime backend that depend on its package and where it runs. */
export type OnnxPlacement = Pick<BackendFacts, 'probe' | 'browser'>;

/** A converted graph on a new onnxruntime session, with what the report says of it. */
interface Opened {
  ort: OrtApi;
  session: InferenceSession;
  threads: ThreadInfo;
  runtime: RuntimeInfo;
  /** The live states the graph takes and gives as uint8 codes, as both session classes want them. */
  codecs: ReadonlyMap<string, StateCodec>;
  profiler?: OpProfiler;
}

async function openGraph(
  name: string,
  pkg: OrtPackage,
  precision: 'native' | Precision,
  model: ResolvedModel,
  opts: LoadOptions,
  batch: BatchAxis,
): Promise<Opened> {
  const p = graphPrecision(model.graph, precision);
  const onnx = convertCached(model, p, opts.cache ?? true, batch);
  if (onnx.rebuilt) process.stderr.write(`movinet-bench: ${name}: rebuilt the cached conversion: ${onnx.rebuilt}\n`);
  const ort = await pkg.load(opts.threads);
  const profileDir =
    opts.profile && pkg.profiler ? fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-ort-profile-')) : null;
  const { options, enforcement } = onnxSessionOptions(p, opts.threads);
  const before = pkg.inProcess ? osThreads() : null;
  const session = await createSession(ort.InferenceSession.create, name, onnx.path, onnx.bytes, {
    ...options,
    ...(pkg.executionProviders ? { executionProviders: pkg.executionProviders } : {}),
    ...(profileDir ? { enableProfiling: true, profileFilePrefix: path.join(profileDir, 'ort') } : {}),
  });
  const after = pkg.inProcess ? osThreads() : null;
  const free = batch === 'free' ? ', free batch axis' : '';
  const runtime = {
    package: pkg.name,
    version: packageVersion(pkg.name),
    build: `${pkg.build}, converted by movinet-bench to ${PRECISION_LABEL[p]}${free}${onnx.cached ? ' (cached)' : ''}`,
    ...(pkg.inProcess ? { telemetry: pkg.inProcess.telemetry() } : {}),
  };
  const threads = pkg.inProcess
    ? threadCheck(opts.threads, enforcement, before, after)
    : { requested: opts.threads, enforcement };
  const profiler =
    profileDir && opts.profile && pkg.profiler ? pkg.profiler(session, profileDir, opts.profile) : undefined;
  const codecs = stateCodes(p, model.graph, model.signature);
  return { ort, session, threads, runtime, codecs, ...(profiler ? { profiler } : {}) };
}

export function onnxBackend(
  name: string,
  pkg: OrtPackage,
  precision: 'native' | Precision,
  placement: OnnxPlacement,
): Backend {
  return {
    name,
    facts: {
      family: 'onnx',
      runtime: pkg.name,
      precision,
      ...placement,
      batch: { can: true },
      locate: { via: 'onnx' },
      nativeLibrary: null,
    },
    maxThreads: pkg.maxThreads,
    ...(pkg.maxThreadsWhy ? { maxThreadsWhy: pkg.maxThreadsWhy } : {}),
    ...(pkg.noProfiler ? { noProfiler: pkg.noProfiler } : {}),
    ...(pkg.available ? { available: pkg.available } : {}),
    async load(model: ResolvedModel, opts: LoadOptions): Promise<Session> {
      const o = await openGraph(name, pkg, precision, model, opts, 'fixed');
      return new OnnxSession(
        o.ort,
        model.signature,
        o.session,
        o.threads,
        o.runtime,
        pkg.preallocatedOutputs,
        o.codecs,
        o.profiler,
      );
    },
    async loadBatched(model: ResolvedModel, opts: LoadOptions & { slots: number }): Promise<BatchedSession> {
      const o = await openGraph(name, pkg, precision, model, opts, 'free');
      return new OnnxBatchedSession(
        o.ort,
        model.signature,
        o.session,
        o.threads,
        o.runtime,
        pkg.preallocatedOutputs,
        o.codecs,
        opts.slots,
        o.profiler,
      );
    },
  };
}
