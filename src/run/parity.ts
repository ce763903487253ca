import path from 'node:path';
import type { Failed, ParityPair } from '../core/results.js';
import { parityPassed } from '../metrics/parity.js';
import { runParity, type ParityOptions } from '../parity/run.js';
import { ChromiumTarget, checkBrowserRuntime, type Target } from '../browser/chromium.js';
import { browserBackend } from '../browser/session.js';
import { validateReport, type ParityReport } from '../report/schema.js';
import { UserError } from '../util/errors.js';
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
}

export async function parityReport(req: ParityRequest): Promise<ParityReport> {
  const header = reportHeader();
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
  if (backends.length < (chromium || req.against ? 1 : 2))
    throw new UserError('parity needs at least two different backends (or one with --against)');
  if (chromium) for (const b of backends) checkBrowserRuntime(b.name, req.threads);
  const pairs: ParityPair[] = [];
  const failed: Failed[] = [];
  const browser = chromium ? await ChromiumTarget.launch() : null;
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
