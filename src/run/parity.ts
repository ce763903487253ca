import path from 'node:path';
import type { Failed, ParityPair } from '../core/results.js';
import { parityPassed } from '../metrics/parity.js';
import { runParity, type ParityOptions } from '../parity/run.js';
import { runStreamParity } from '../parity/streams.js';
import { getBackend } from '../backends/index.js';
import type { Backend } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { Dataset } from '../datasets/dataset.js';
import { ChromiumTarget, checkBrowserRuntime, type Target } from '../browser/chromium.js';
import { browserBackend } from '../browser/session.js';
import { validateReport, type ParityReport } from '../report/schema.js';
import { errorMessage, UserError } from '../util/errors.js';
import { datasetRef } from '../datasets/dataset.js';
import { loadRequestedDataset } from './accuracy.js';
import { reportHeader } from './environment.js';
import { resolveRequested } from './requested.js';

export interface ParityRequest extends ParityOptions {
  models: string[];
  backends: string[];
  dataset: string;
  minAgreement: number;
  /** chromium: each backend also runs in a Chromium page, compared with the Node reference (the first backend). */
  target?: Target;
  /** --streams: the clips through one batched session of this many slots per backend, each against its own run. */
  streams?: number;
}

/** --streams is refused before anything loads: with what it cannot combine, or a backend that cannot batch. */
function checkStreams(req: ParityRequest, streams: number): void {
  if (!Number.isInteger(streams) || streams < 1)
    throw new UserError(`--streams must be a whole number of streams, 1 or more; got ${streams}`);
  const alone = [
    [req.target === 'chromium', '--target chromium'],
    [req.locate, '--locate'],
    [req.logitsOut, '--logits-out'],
    [req.against, '--against'],
  ] as const;
  for (const [set, flag] of alone)
    if (set)
      throw new UserError(`--streams compares each backend with itself, batched: it does not combine with ${flag}`);
  for (const name of req.backends) {
    const { batch } = getBackend(name).facts;
    if (!batch.can) throw new UserError(`--streams: backend ${name} cannot batch streams: ${batch.because}`);
  }
}

/** Each backend batched against itself; a backend that fails to load or run is a failed pair, as in parity. */
async function streamPairs(
  models: readonly ResolvedModel[],
  backends: readonly Backend[],
  ds: Dataset,
  req: ParityRequest,
  streams: number,
): Promise<{ pairs: ParityPair[]; failed: Failed[] }> {
  if (streams > ds.clips.length)
    throw new UserError(`--streams ${streams} needs as many different clips; the dataset has ${ds.clips.length}`);
  const pairs: ParityPair[] = [];
  const failed: Failed[] = [];
  for (const model of models)
    for (const backend of backends) {
      try {
        pairs.push((await runStreamParity(model, backend, ds, { ...req, streams })).pair);
      } catch (e) {
        if (e instanceof UserError) throw e;
        failed.push({ model: model.id, backend: backend.name, error: errorMessage(e) });
      }
    }
  return { pairs, failed };
}

/** Every backend on the same frames, compared with the first (and, with --target chromium, its page runs). */
async function backendPairs(
  models: readonly ResolvedModel[],
  backends: readonly Backend[],
  ds: Dataset,
  req: ParityRequest,
): Promise<{ pairs: ParityPair[]; failed: Failed[] }> {
  const pairs: ParityPair[] = [];
  const failed: Failed[] = [];
  const browser = req.target === 'chromium' ? await ChromiumTarget.launch() : null;
  try {
    const all = browser ? [...backends, ...backends.map((b) => browserBackend(browser, b.name))] : backends;
    for (const model of models) {
      const outcome = await runParity(model, all, ds, req);
      pairs.push(...outcome.pairs);
      failed.push(...outcome.failed);
    }
  } finally {
    await browser?.close();
  }
  return { pairs, failed };
}

export async function parityReport(req: ParityRequest): Promise<ParityReport> {
  if (req.streams !== undefined) checkStreams(req, req.streams);
  if (req.locate && req.target === 'chromium')
    throw new UserError(
      "--locate reads both sessions' states between frames, which a browser page keeps to itself: " +
        'run it with --target node (the same runtimes give the same logits there)',
    );
  const { ds } = await loadRequestedDataset({ dataset: req.dataset });
  const { models, backends, skipped } = await resolveRequested(req.models, req.backends, req.threads);
  const chromium = req.target === 'chromium';
  if (chromium && (req.logitsOut || req.against))
    throw new UserError('--logits-out and --against compare Node runs of two platforms: run them with --target node');
  if (req.logitsOut && req.against && path.resolve(req.logitsOut) === path.resolve(req.against))
    throw new UserError('--logits-out and --against name the same folder: the kept logits would be overwritten');
  if (backends.length < (chromium || req.against || req.streams !== undefined ? 1 : 2))
    throw new UserError('parity needs at least two different backends (or one with --against or --streams)');
  if (chromium) for (const b of backends) checkBrowserRuntime(b.name, req.threads);
  const header = reportHeader();
  const { pairs, failed } =
    req.streams === undefined
      ? await backendPairs(models, backends, ds, req)
      : await streamPairs(models, backends, ds, req, req.streams);
  return validateReport({
    ...header,
    kind: 'parity',
    config: {
      dataset: datasetRef(ds),
      models: req.models,
      backends: req.backends,
      minAgreement: req.minAgreement,
      resize: req.resize,
      fps: req.fps,
    },
    pairs,
    skipped,
    failed,
    passed: failed.length === 0 && parityPassed(pairs, req.minAgreement),
  }) as ParityReport;
}
