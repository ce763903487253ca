import { labelledMachine } from '../core/results.js';
import { findModelSpec } from '../models/manifest.js';
import { UserError } from '../util/errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Version 1 bench results came from one process: that process is their only entry. */
function benchV1ToV2(report: Json, config: Json): Json {
  const results = Array.isArray(report.results) ? report.results.filter(isObject) : [];
  return {
    config: { ...config, processes: 1 },
    results: results.map((r, i) => {
      const stats = isObject(r.stats) ? r.stats : {};
      const overhead = isObject(r.overhead) ? r.overhead : null;
      const process = {
        id: `v1:${String(report.createdAt)}:${i}`,
        samples: Array.isArray(r.samplesMs) ? r.samplesMs.length : 0,
        loadMs: r.loadMs,
        firstInferenceMs: r.firstInferenceMs,
        peakRssMB: r.peakRssMB,
        p50Ms: stats.p50,
        p90Ms: stats.p90,
        percentiles: stats.percentiles,
        overheadRatio: overhead ? overhead.ratio : null,
      };
      return { ...r, processes: [process], processMedianCI: null };
    }),
  };
}

/**
 * Version 1 kept skipped and failed pairs in one `skipped` list (with a status)
 * and keyed them by the id the user typed ('a0') while results used the
 * resolved id ('a0-int8'). Version 2 splits the list and uses resolved ids.
 */
function v1ToV2(report: Json): Json {
  const entries = Array.isArray(report.skipped) ? report.skipped.filter(isObject) : [];
  const canonical = (model: unknown) => (typeof model === 'string' ? (findModelSpec(model)?.id ?? model) : model);
  const config = isObject(report.config) ? report.config : {};
  const shard = isObject(config.shard) ? { ...config.shard, datasetClips: null } : config.shard;
  const dataset = isObject(config.dataset) ? { ...config.dataset, missingClips: 0 } : config.dataset;
  return {
    ...report,
    ...(report.kind === 'bench'
      ? benchV1ToV2(report, config)
      : { config: { ...config, dataset, ...(report.kind === 'accuracy' ? { shard } : {}) } }),
    schemaVersion: 2,
    skipped: entries
      .filter((s) => s.status !== 'failed')
      .map((s) => ({
        model: canonical(s.model),
        backend: s.backend,
        cause: typeof s.reason === 'string' && /sha256/.test(s.reason) ? 'corrupt' : 'missing',
        reason: s.reason,
      })),
    failed: entries
      .filter((s) => s.status === 'failed')
      .map((s) => ({ model: canonical(s.model), backend: s.backend, error: s.reason })),
  };
}

/**
 * Version 3 added `runtime.kernels` (native TFLite rows only: no earlier row ran there) and, on bench
 * results, the machine they were measured on: an earlier report came from one machine, its environment's.
 */
function v2ToV3(report: Json): Json {
  if (report.kind !== 'bench') return { ...report, schemaVersion: 3 };
  const env = isObject(report.environment) ? report.environment : {};
  const machine = labelledMachine({
    cpuModel: String(env.cpuModel ?? 'unknown'),
    cpuCores: Number(env.cpuCores ?? 0),
    os: String(env.os ?? 'unknown'),
    node: String(env.node ?? 'unknown'),
  });
  const results = Array.isArray(report.results) ? report.results.filter(isObject) : [];
  return { ...report, schemaVersion: 3, results: results.map((r) => ({ ...r, machine })) };
}

/**
 * Version 4 marks measurements whose latency must not be read as a plain figure: a duet row (measured
 * beside the other build) and an emulated machine. No earlier report was either, so nothing changes;
 * the bump keeps an older reader from showing such a row as an ordinary one.
 */
const v3ToV4 = (report: Json): Json => ({ ...report, schemaVersion: 4 });

/** Steps from version n to n + 1, by n. */
const STEPS: Record<number, (report: Json) => Json> = { 1: v1ToV2, 2: v2ToV3, 3: v3ToV4 };

/** Brings a parsed report of any earlier schema version up to `current`; refuses newer or unknown versions. */
export function migrate(raw: unknown, label: string, current: number): unknown {
  if (!isObject(raw)) throw new UserError(`${label} is not a movinet-bench report (not a JSON object)`);
  let report = raw;
  let version = report.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > current) {
    throw new UserError(
      `${label} has schemaVersion ${String(version)}; this movinet-bench reads versions 1 to ${current}`,
    );
  }
  while (version < current) {
    const step = STEPS[version];
    if (!step) throw new UserError(`${label}: no migration from schemaVersion ${version}`);
    report = step(report);
    version += 1;
  }
  return report;
}
