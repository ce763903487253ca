import { evaluateTogether, type AccuracyOptions } from '../accuracy/run.js';
import type { AccuracyRun, Decoding, Failed } from '../core/results.js';
import type { ShardSpec } from '../report/schema.js';
import {
  datasetRef,
  labelIndices,
  loadDatasetRef,
  loadSubset,
  shardClips,
  subsetNameOfRef,
  verifyClips,
  type Dataset,
} from '../datasets/dataset.js';
import { ensureSubset } from '../datasets/fetch.js';
import { refuseArchitectureOnly } from '../models/resolve.js';
import { agreement } from '../metrics/accuracy.js';
import { validateReport, type AccuracyReport } from '../report/schema.js';
import { UserError } from '../util/errors.js';
import { reportHeader } from './environment.js';
import { resolveRequested } from './requested.js';

export interface DatasetRequest {
  /** A subset shipped with the project, or the user's clips (a subset name works there too). */
  subset?: string;
  dataset?: string;
  shard?: ShardSpec;
  /** Leave out listed clips that are not found (counted in the report) instead of refusing the list. */
  allowMissingClips?: boolean;
}

/**
 * Loads, verifies and shards the clips before any model is loaded, so a bad list costs nothing. A project
 * subset whose clips are missing is fetched first (unless offline).
 */
export async function loadRequestedDataset(req: DatasetRequest): Promise<{ ds: Dataset; datasetClips: number }> {
  if (!!req.subset === !!req.dataset)
    throw new UserError('give exactly one of --subset <name> or --dataset <dir|csv|json>');
  const subset = req.subset ?? subsetNameOfRef(req.dataset!);
  if (subset) await ensureSubset(subset);
  const full = req.subset
    ? loadSubset(req.subset)
    : loadDatasetRef(req.dataset!, { allowMissing: req.allowMissingClips ?? false });
  verifyClips(full);
  return { ds: shardClips(full, req.shard ?? null), datasetClips: full.clips.length };
}

export interface AccuracyRequest extends AccuracyOptions, DatasetRequest {
  models: string[];
  backends: string[];
  labels?: string;
}

export async function accuracyReport(req: AccuracyRequest): Promise<AccuracyReport> {
  const header = reportHeader();
  const { ds, datasetClips } = await loadRequestedDataset(req);
  const { models, backends, skipped } = await resolveRequested(
    req.models,
    req.backends,
    req.threads,
    { labelsFile: req.labels },
    (m) => {
      refuseArchitectureOnly(m, 'accuracy');
      if (!m.labels) throw new UserError(`model ${m.id} has no label file; pass --labels`);
      labelIndices(ds, m.labels);
    },
  );
  // Per model, every backend on each clip decoded once (evaluateTogether).
  const runs: AccuracyRun[] = [];
  const failed: Failed[] = [];
  const decoding: Decoding[] = [];
  for (const model of models) {
    const out = await evaluateTogether(model, backends, ds, req);
    runs.push(...out.runs);
    failed.push(...out.failed);
    if (out.decoding) decoding.push(out.decoding);
  }
  return validateReport({
    ...header,
    kind: 'accuracy',
    config: {
      dataset: datasetRef(ds),
      models: req.models,
      backends: req.backends,
      resize: req.resize,
      fps: req.fps,
      shard: req.shard ? { ...req.shard, datasetClips } : null,
    },
    runs,
    skipped,
    failed,
    agreement: agreement(runs),
    decoding,
  }) as AccuracyReport;
}
