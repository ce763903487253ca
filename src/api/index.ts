/**
 * movinet-bench as a library: the functions the CLI calls, with the CLI's defaults (run/defaults.ts), each
 * returning the validated report object the CLI would write. Nothing here prints, draws a progress bar or writes
 * a file.
 *
 *   import { bench, accuracy, compare, readReport } from 'movinet-bench';
 */
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, DEFAULT_BACKENDS } from '../backends/index.js';
import type { ResizeMode } from '../core/results.js';
import { compareReports, DEFAULT_COMPARE, type CompareOptions, type Comparison } from '../report/compare.js';
import type { AccuracyReport, BenchReport, DriftReport, ParityReport, Report } from '../report/schema.js';
import { accuracyReport } from '../run/accuracy.js';
import { benchReport } from '../run/bench.js';
import { COMMAND_DEFAULTS as D, userEnvironment } from '../run/defaults.js';
import { recordLibraryCall } from '../run/environment.js';
import { DRIFT_DEFAULTS, driftReport } from '../run/drift.js';
import { parityReport } from '../run/parity.js';
import { setOffline } from '../util/download.js';
import { createProgress } from '../util/progress.js';

export { readReport, writeReport, validateReport, SCHEMA_VERSION } from '../report/schema.js';
export type { AccuracyReport, BenchReport, DriftReport, ParityReport, Report } from '../report/schema.js';
export type { Comparison, CompareOptions, ComparisonRow, Verdict } from '../report/compare.js';
export type * from '../core/results.js';
export { BACKEND_NAMES, DEFAULT_BACKENDS };

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const silent = () => createProgress(true, 'frames');

export interface BenchParams {
  /** Model ids or .tflite paths; default ['a0']. */
  models?: string[];
  /** Default: the CLI's default set. */
  backends?: string[];
  threads?: number;
  frames?: number;
  warmup?: number;
  repeats?: number;
  /** Processes per pair (above 1: separate `bench` processes, interleaved). */
  processes?: number;
  /** 'synthetic' or a video file. */
  input?: string;
  percentiles?: number[];
  /** Time the bare runtime loop for the harness overhead (default true). */
  overhead?: boolean;
  /** Probe each runtime's peak after the timed runs (default true). */
  roofline?: boolean;
  /** The label of the results' machine (default: MOVINET_MACHINE, else the CPU model and core count). */
  machine?: string;
}

/** The environment's settings, read at the library's entry as the CLI reads them at its own. */
function fromEnvironment(): { machine: string | undefined } {
  const env = userEnvironment();
  setOffline(env.offline);
  return { machine: env.machine };
}

/** Per-frame latency of each (model, backend) pair, as `movinet-bench bench`. */
export async function bench(p: BenchParams = {}): Promise<BenchReport> {
  recordLibraryCall(`movinet-bench library: bench(${JSON.stringify(p)})`);
  const env = fromEnvironment();
  return benchReport({
    machine: p.machine ?? env.machine,
    models: p.models ?? [...D.models],
    backends: p.backends ?? [...D.backends],
    threads: p.threads ?? D.threads,
    frames: p.frames ?? D.frames,
    warmup: p.warmup ?? D.warmup,
    repeats: p.repeats ?? D.repeats,
    processes: p.processes ?? D.processes,
    input: p.input ?? D.input,
    percentiles: p.percentiles ?? [...D.percentiles],
    overhead: p.overhead ?? true,
    roofline: p.roofline ?? true,
    cli: CLI,
    progress: silent(),
  });
}

export interface AccuracyParams {
  /** A subset shipped with the tool ('kinetics-sample'), or `dataset`: a folder, CSV or JSON of clips. */
  subset?: string;
  dataset?: string;
  models?: string[];
  backends?: string[];
  threads?: number;
  resize?: ResizeMode;
  fps?: number;
  labels?: string;
  /** N clips at once through one batched session per backend (onnxruntime backends), as `accuracy --batch N`. */
  batch?: number;
}

/** Clip-level top-1/top-5 on real clips, as `movinet-bench accuracy`. */
export async function accuracy(p: AccuracyParams): Promise<AccuracyReport> {
  recordLibraryCall(`movinet-bench library: accuracy(${JSON.stringify(p)})`);
  fromEnvironment();
  return accuracyReport({
    ...(p.subset !== undefined ? { subset: p.subset } : {}),
    ...(p.dataset !== undefined ? { dataset: p.dataset } : {}),
    ...(p.labels !== undefined ? { labels: p.labels } : {}),
    ...(p.batch !== undefined ? { batch: p.batch } : {}),
    models: p.models ?? [...D.models],
    backends: p.backends ?? [...D.backends],
    threads: p.threads ?? D.threads,
    resize: p.resize ?? D.resize,
    fps: p.fps ?? D.fps,
    progress: silent(),
  });
}

export interface ParityParams {
  models?: string[];
  /** The first is the reference. */
  backends?: string[];
  dataset?: string;
  minAgreement?: number;
}

/** Every backend on the same decoded frames, compared frame by frame with the first, as `movinet-bench parity`. */
export async function parity(p: ParityParams = {}): Promise<ParityReport> {
  recordLibraryCall(`movinet-bench library: parity(${JSON.stringify(p)})`);
  fromEnvironment();
  return parityReport({
    models: p.models ?? [...D.models],
    backends: p.backends ?? [...D.backends],
    dataset: p.dataset ?? D.dataset,
    minAgreement: p.minAgreement ?? D.minAgreement,
    threads: D.threads,
    resize: D.resize,
    fps: D.fps,
    progress: silent(),
  });
}

export interface DriftParams {
  /** The quantized model: an id or a .tflite path; default 'a0'. */
  model?: string;
  /** Its backend; default onnxruntime-exact (bit-exact with TFLite's int8 kernels). */
  backend?: string;
  /** 'dequantized' (default: the model's own graph with float activations), or a float file of the same network. */
  reference?: string;
  /** Default: onnxruntime-float for 'dequantized', tfjs-tflite for a file. */
  referenceBackend?: string;
  dataset?: string;
  /** Frames per stream, clips chained; default 300. */
  frames?: number;
  /** Default: one per clip. */
  streams?: number;
  fillUp?: number;
  /** Frames of the first stream whose every tensor is compared; [] for none. */
  inside?: number[];
  /** Also run the quantized model fed the reference's states (default true). */
  counterfactual?: boolean;
  threads?: number;
}

/** A quantized model against its float reference on long streams, as `movinet-bench drift`. */
export async function drift(p: DriftParams = {}): Promise<DriftReport> {
  recordLibraryCall(`movinet-bench library: drift(${JSON.stringify(p)})`);
  fromEnvironment();
  return driftReport({
    model: p.model ?? D.models[0],
    backend: p.backend ?? DRIFT_DEFAULTS.backend,
    reference: p.reference ?? DRIFT_DEFAULTS.reference,
    ...(p.referenceBackend !== undefined ? { referenceBackend: p.referenceBackend } : {}),
    dataset: p.dataset ?? D.dataset,
    framesPerStream: p.frames ?? DRIFT_DEFAULTS.frames,
    ...(p.streams !== undefined ? { streams: p.streams } : {}),
    ...(p.fillUp !== undefined ? { fillUp: p.fillUp } : {}),
    ...(p.inside !== undefined ? { inside: p.inside } : {}),
    counterfactual: p.counterfactual ?? true,
    threads: p.threads ?? D.threads,
    resize: D.resize,
    fps: D.fps,
    progress: silent(),
  });
}

/** Old vs new, as `movinet-bench compare`: `regressions > 0` is what makes the CLI exit 1. */
export function compare(oldReport: Report, newReport: Report, opts: Partial<CompareOptions> = {}): Comparison {
  return compareReports(oldReport, newReport, { ...DEFAULT_COMPARE, ...opts });
}
