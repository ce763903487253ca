import type { Backend } from '../backends/backend.js';
import { checkThreads, getBackend } from '../backends/index.js';
import type { ResizeMode, SameNetwork } from '../core/results.js';
import { datasetRef } from '../datasets/dataset.js';
import { fillUpFrames, liveStates, signatureMismatch } from '../drift/network.js';
import { runDrift } from '../drift/run.js';
import { compareWeights, SAME_NETWORK_SHARE } from '../drift/weights.js';
import { ensureModels } from '../models/fetch.js';
import { refuseArchitectureOnly, resolveModel, type ResolvedModel } from '../models/resolve.js';
import { fmt, pct } from '../report/format.js';
import { validateReport, type DriftReport } from '../report/schema.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import type { FrameCacheOptions } from '../video/frame-cache.js';
import { loadRequestedDataset } from './accuracy.js';
import { reportHeader } from './environment.js';

/** `--reference` for the quantized file's own graph with float activations (its weights dequantized). */
export const DEQUANTIZED = 'dequantized';

/**
 * What `drift` does when not told otherwise. The quantized side runs on the int8 graph that is bit-exact with
 * TFLite's int8 kernels and whose every tensor can be read in one run; streams are long enough that a trend is more
 * than the states filling up from zero.
 */
export const DRIFT_DEFAULTS = { backend: 'onnxruntime-exact', reference: DEQUANTIZED, frames: 300 } as const;

export interface DriftRequest {
  /** The quantized model: an id or a .tflite path. */
  model: string;
  backend: string;
  /** DEQUANTIZED, or the float (or other) file of the same network: an id or a path. */
  reference: string;
  /** Default: onnxruntime-float for the dequantized graph, tfjs-tflite (TFLite's own kernels) for a file. */
  referenceBackend?: string;
  dataset: string;
  framesPerStream: number;
  /** Default: one per clip. */
  streams?: number;
  /** Default: the longest state buffer's time axis, or the first tenth of the stream when longer. */
  fillUp?: number;
  /** Frames of the first stream whose tensors are read; default the first after the fill-up and the last. */
  inside?: number[];
  counterfactual: boolean;
  threads: number;
  resize: ResizeMode;
  fps: number;
  cache?: boolean;
  frameCache?: FrameCacheOptions;
  progress: Progress;
}

/** The reference's backend when none is named: a dequantized graph is an ONNX conversion; a file runs on TFLite. */
export function defaultReferenceBackend(reference: string): string {
  return reference === DEQUANTIZED ? 'onnxruntime-float' : 'tfjs-tflite';
}

async function usableBackend(name: string, threads: number): Promise<Backend> {
  const b = getBackend(name);
  checkThreads(b, threads);
  const why = b.available ? await b.available() : null;
  if (why !== null) throw new UserError(`backend ${name} cannot run here: ${why}`);
  return b;
}

/**
 * One network or not: the same file, or a file whose signature matches state by state and whose filters agree
 * with the quantized file's dequantized ones within a quantization step. Anything else is refused in one line:
 * a drift between two networks would measure their training, not their arithmetic.
 */
function sameNetwork(q: ResolvedModel, r: ResolvedModel): SameNetwork {
  if (q.sha256 === r.sha256)
    return { how: 'same-file', tensors: 0, values: 0, within: 1, worst: null, rule: 'the same file' };
  const refuse = (why: string): never => {
    throw new UserError(`drift: ${r.id} is not the same network as ${q.id}: ${why}`);
  };
  const structural = signatureMismatch(q, r);
  if (structural) refuse(structural);
  const weights = compareWeights(q, r);
  if (typeof weights === 'string') return refuse(weights);
  const rule =
    'filters paired by op and shape; a value agrees within one quantization step of the coarser side ' +
    `(plus float16 rounding); one network when at least ${pct(SAME_NETWORK_SHARE, 0)} of values agree`;
  if (weights.within < SAME_NETWORK_SHARE) {
    const w = weights.worst;
    const worst = w
      ? `; worst filter #${w.index} ${w.op} [${w.shape.join(',')}], relative RMS ${fmt(w.relativeRms, 3)}`
      : '';
    const agree = `${pct(weights.within)} of ${weights.values} filter values agree within a quantization step`;
    refuse(`${agree} (${pct(SAME_NETWORK_SHARE, 0)} needed)${worst}`);
  }
  return { ...weights, rule };
}

function resolved(ref: string): ResolvedModel {
  const m = resolveModel(ref);
  refuseArchitectureOnly(m, 'drift');
  return m;
}

/** The first frame after the fill-up and the last, where they lie in the stream. */
function defaultInside(fillUp: number, frames: number): number[] {
  return [...new Set([fillUp, frames - 1])].filter((f) => f >= 0 && f < frames);
}

/** `drift`: the request checked (backends, models, one network, stream sizes) before anything is loaded. */
export async function driftReport(req: DriftRequest): Promise<DriftReport> {
  const dequantized = req.reference === DEQUANTIZED;
  const referenceBackend = req.referenceBackend ?? defaultReferenceBackend(req.reference);
  const [qb, rb] = [await usableBackend(req.backend, req.threads), await usableBackend(referenceBackend, req.threads)];
  await ensureModels(dequantized ? [req.model] : [req.model, req.reference]);
  const q = resolved(req.model);
  const r = dequantized ? q : resolved(req.reference);
  const network = sameNetwork(q, r);
  const { ds } = await loadRequestedDataset({ dataset: req.dataset });
  const fillUp = req.fillUp ?? fillUpFrames(liveStates(q).live, req.framesPerStream);
  if (fillUp > req.framesPerStream - 3)
    throw new UserError(
      `--frames ${req.framesPerStream} leaves too few frames after the fill-up of ${fillUp} for a trend (3 or more)`,
    );
  const streams = req.streams ?? ds.clips.length;
  if (streams > ds.clips.length)
    throw new UserError(
      `--streams ${streams}: ${ds.name} has ${ds.clips.length} clip(s), and each stream starts at a clip of its own`,
    );
  const inside = req.inside ?? defaultInside(fillUp, req.framesPerStream);
  const outside = inside.find((f) => f >= req.framesPerStream);
  if (outside !== undefined)
    throw new UserError(`--inside ${outside}: a stream has frames 0 to ${req.framesPerStream - 1}`);
  const header = reportHeader();
  const decode = {
    size: q.signature.height,
    fps: req.fps,
    resize: req.resize,
    ...(req.frameCache ? { frameCache: req.frameCache } : {}),
  };
  // One object for both, so the report's config cannot say other than what the run was given.
  const settings = {
    framesPerStream: req.framesPerStream,
    streams,
    fillUp,
    inside,
    counterfactual: req.counterfactual,
    threads: req.threads,
  };
  const result = await runDrift(
    {
      quantized: { backend: qb, model: q },
      reference: { backend: rb, model: r, kind: dequantized ? 'dequantized' : 'file', sameNetwork: network },
    },
    ds,
    {
      ...settings,
      cache: req.cache,
      decode,
      progress: req.progress,
    },
  );
  return validateReport({
    ...header,
    kind: 'drift',
    config: {
      dataset: datasetRef(ds),
      model: req.model,
      backend: req.backend,
      reference: req.reference,
      referenceBackend,
      ...settings,
      resize: req.resize,
      fps: req.fps,
    },
    results: [result],
    skipped: [],
    failed: [],
  }) as DriftReport;
}
