import { Journal } from '../accuracy/journal.js';
import { BATCH_FLAG, evaluateBatched } from '../accuracy/batched.js';
import { evaluateTogether, type AccuracyOptions } from '../accuracy/run.js';
import { batchedLoader } from '../backends/batching.js';
import { getBackend } from '../backends/index.js';
import type { AccuracyRun, Decoding, Failed } from '../core/results.js';
import { resolveShard, type ResolvedShard, type ShardRequest } from './shard.js';
import {
  clipName,
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
import { sha256Bytes } from '../util/sha256.js';
import { logLine } from '../util/progress.js';
import { reportHeader } from './environment.js';
import { resolveRequested } from './requested.js';

export interface DatasetRequest {
  /** A subset shipped with the project, or the user's clips (a subset name works there too). */
  subset?: string;
  dataset?: string;
  shard?: ShardRequest;
  /** Leave out listed clips that are not found (counted in the report) instead of refusing the list. */
  allowMissingClips?: boolean;
}

/**
 * Loads, verifies and shards the clips before any model is loaded, so a bad list costs nothing. A project
 * subset whose clips are missing is fetched first (unless offline).
 */
export async function loadRequestedDataset(
  req: DatasetRequest,
): Promise<{ ds: Dataset; datasetClips: number; shard: ResolvedShard | null }> {
  if (!!req.subset === !!req.dataset)
    throw new UserError('give exactly one of --subset <name> or --dataset <dir|csv|json>');
  const subset = req.subset ?? subsetNameOfRef(req.dataset!);
  if (subset) await ensureSubset(subset);
  const full = req.subset
    ? loadSubset(req.subset)
    : loadDatasetRef(req.dataset!, { allowMissing: req.allowMissingClips ?? false });
  verifyClips(full);
  const shard = req.shard ? resolveShard(req.shard) : null;
  return { ds: shardClips(full, shard), datasetClips: full.clips.length, shard };
}

export interface AccuracyRequest extends Omit<AccuracyOptions, 'journal'>, DatasetRequest {
  models: string[];
  backends: string[];
  labels?: string;
  /** `--batch N`: N clips at once through one batched session per backend (backends that can batch). */
  batch?: number;
  /** Per-clip results appended here as they finish; with `resume`, clips it holds are not run again. */
  journal?: { file: string; resume: boolean };
}

/** The journal of a run: beside its report, `<report>.journal.jsonl`. */
export const journalFileOf = (report: string): string => `${report}.journal.jsonl`;

function datasetHash(ds: Dataset): string {
  const entries = ds.clips.map((c) => `${clipName(ds, c)}\t${c.label}`).join('\n');
  return sha256Bytes(new TextEncoder().encode(entries)).slice(0, 16);
}

/** --batch is refused before anything is decoded or loaded: not a count, or on a backend that cannot batch. */
function checkBatch(req: AccuracyRequest): void {
  if (req.batch === undefined) return;
  if (!Number.isInteger(req.batch) || req.batch < 1)
    throw new UserError(`${BATCH_FLAG} must be a whole number of clips, 1 or more; got ${req.batch}`);
  for (const name of req.backends) batchedLoader(getBackend(name), BATCH_FLAG);
}

export async function accuracyReport(req: AccuracyRequest): Promise<AccuracyReport> {
  checkBatch(req);
  const { ds, datasetClips, shard } = await loadRequestedDataset(req);
  if (req.batch !== undefined && req.batch > ds.clips.length)
    throw new UserError(
      `${BATCH_FLAG} ${req.batch} steps that many clips at once; ` +
        `${shard ? 'this shard of the dataset' : 'the dataset'} has ${ds.clips.length}`,
    );
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
  const header = reportHeader();
  // Per model, every backend on each clip decoded once (evaluateTogether).
  const runs: AccuracyRun[] = [];
  const failed: Failed[] = [];
  const decoding: Decoding[] = [];
  const settings = {
    // The clips and their labels, not only the list's name: an edited list is another dataset.
    dataset: `${ds.name} ${datasetHash(ds)}`,
    resize: req.resize,
    fps: req.fps,
    shard: shard && { index: shard.index, count: shard.count },
    batch: req.batch ?? null,
  };
  const journal = req.journal ? Journal.open(req.journal.file, settings, req.journal.resume) : undefined;
  try {
    for (const model of models) {
      const out =
        req.batch === undefined
          ? await evaluateTogether(model, backends, ds, { ...req, journal })
          : await evaluateBatched(model, backends, ds, { ...req, journal, batch: req.batch });
      runs.push(...out.runs);
      failed.push(...out.failed);
      if (out.decoding) decoding.push(out.decoding);
    }
  } finally {
    journal?.close();
  }
  if (journal?.resumed) logLine(false, `resumed: ${journal.resumed} clip result(s) taken from ${journal.file}`);
  return validateReport({
    ...header,
    kind: 'accuracy',
    config: {
      dataset: datasetRef(ds),
      models: req.models,
      backends: req.backends,
      resize: req.resize,
      fps: req.fps,
      shard: shard ? { ...shard, datasetClips } : null,
      ...(req.batch === undefined ? {} : { batch: req.batch }),
    },
    runs,
    skipped,
    failed,
    agreement: agreement(runs),
    decoding,
  }) as AccuracyReport;
}
