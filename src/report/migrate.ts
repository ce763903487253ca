import { labelledMachine } from '../core/results.js';
import { findModelSpec } from '../models/manifest.js';
import { UserError } from '../util/errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const HEADER_V1 = ['schemaVersion', 'tool', 'createdAt', 'command', 'environment', 'kind'] as const;
const HEADER_V2 = [...HEADER_V1, 'skipped', 'failed'] as const;
const TOP_LEVEL_V2: Readonly<Record<string, readonly string[]>> = {
  bench: [...HEADER_V2, 'config', 'results'],
  accuracy: [...HEADER_V2, 'config', 'runs', 'agreement'],
  parity: [...HEADER_V2, 'config', 'pairs', 'passed'],
  live: [...HEADER_V2, 'config', 'results', 'interrupted'],
};

/**
 * The top-level fields a report of each schema version had to carry, by kind, as that version's schema
 * required them. A step may only add what the next version added, so a report is held to its own
 * version's list before any step runs: a step must never stand in for a field its input was required
 * to have (an old bench report without `results` is broken, not a report of zero rows). The current
 * version is listed too, so the step that leaves it has its list ready.
 */
export const REQUIRED_FIELDS: Readonly<Record<number, Readonly<Record<string, readonly string[]>>>> = {
  1: {
    bench: [...HEADER_V1, 'config', 'results', 'skipped'],
    accuracy: [...HEADER_V1, 'config', 'runs', 'skipped', 'agreement'],
    parity: [...HEADER_V1, 'config', 'pairs', 'skipped', 'passed'],
  },
  2: TOP_LEVEL_V2,
  3: TOP_LEVEL_V2,
  4: TOP_LEVEL_V2,
  5: TOP_LEVEL_V2,
  6: { ...TOP_LEVEL_V2, drift: [...HEADER_V2, 'config', 'results'] },
};

/** Refuses, naming the first one, a report that lacks a field its own version required. */
function requireFields(report: Json, version: number, label: string): void {
  const byKind = REQUIRED_FIELDS[version];
  if (!byKind) return;
  const refuse = (field: string, why: string): never => {
    throw new UserError(`${label} does not match the schema: ${field}: ${why}`);
  };
  if (!Object.hasOwn(report, 'kind')) refuse('kind', `missing, and every schemaVersion ${version} report has one`);
  const kinds = Object.keys(byKind);
  const fields = typeof report.kind === 'string' && Object.hasOwn(byKind, report.kind) ? byKind[report.kind] : null;
  if (!fields)
    return refuse(
      'kind',
      `${JSON.stringify(report.kind)} is not a kind of schemaVersion ${version} report (${kinds.join(', ')})`,
    );
  const missing = fields.find((field) => !Object.hasOwn(report, field));
  if (missing !== undefined)
    refuse(missing, `missing, and a schemaVersion ${version} ${String(report.kind)} report must have it`);
}

/** Rows are rewritten one by one; anything that is not a row is kept as it is, for validation to refuse. */
function mapRows(value: unknown, row: (r: Json, i: number) => Json): unknown {
  return Array.isArray(value) ? value.map((r: unknown, i) => (isObject(r) ? row(r, i) : r)) : value;
}

/** Version 1 bench results came from one process: that process is their only entry. */
function benchV1ToV2(report: Json): Json {
  return {
    config: isObject(report.config) ? { ...report.config, processes: 1 } : report.config,
    results: mapRows(report.results, (r, i) => {
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

/** Version 2 counts the clips a list named but that were not found, and a shard records the dataset's size. */
function configV1ToV2(report: Json): unknown {
  const config = report.config;
  if (!isObject(config)) return config;
  const dataset = isObject(config.dataset) ? { ...config.dataset, missingClips: 0 } : config.dataset;
  if (report.kind !== 'accuracy') return { ...config, dataset };
  const shard = isObject(config.shard) ? { ...config.shard, datasetClips: null } : config.shard;
  return { ...config, dataset, shard };
}

/**
 * Version 1 kept skipped and failed pairs in one `skipped` list (with a status)
 * and keyed them by the id the user typed ('a0') while results used the
 * resolved id ('a0-int8'). Version 2 splits the list and uses resolved ids.
 */
function v1ToV2(report: Json): Json {
  const canonical = (model: unknown) => (typeof model === 'string' ? (findModelSpec(model)?.id ?? model) : model);
  const entries: unknown[] | null = Array.isArray(report.skipped) ? report.skipped : null;
  const failed = (s: unknown): s is Json => isObject(s) && s.status === 'failed';
  return {
    ...report,
    ...(report.kind === 'bench' ? benchV1ToV2(report) : { config: configV1ToV2(report) }),
    schemaVersion: 2,
    // A `skipped` that is not a list is kept for validation to refuse; it has nothing to split.
    skipped: entries
      ? entries
          .filter((s) => !failed(s))
          .map((s) =>
            isObject(s)
              ? {
                  model: canonical(s.model),
                  backend: s.backend,
                  cause: typeof s.reason === 'string' && /sha256/.test(s.reason) ? 'corrupt' : 'missing',
                  reason: s.reason,
                }
              : s,
          )
      : report.skipped,
    failed: (entries ?? [])
      .filter(failed)
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
  return { ...report, schemaVersion: 3, results: mapRows(report.results, (r) => ({ ...r, machine })) };
}

/**
 * Version 4 marks measurements whose latency must not be read as a plain figure: a duet row (measured
 * beside the other build) and an emulated machine. No earlier report was either, so nothing changes;
 * the bump keeps an older reader from showing such a row as an ordinary one.
 */
const v3ToV4 = (report: Json): Json => ({ ...report, schemaVersion: 4 });

/**
 * Version 5 records whether onnxruntime-node's telemetry ran (the environment's switch, each onnxruntime-node row's
 * check) and the OS threads its session creation started. An earlier report never checked: its fields stay absent,
 * which reads as unknown, not as off.
 */
const v4ToV5 = (report: Json): Json => ({ ...report, schemaVersion: 5 });

/**
 * Version 6 adds a kind of report, `drift`. No earlier report changes; the bump keeps an older reader from
 * meeting a kind it does not know as a schema error.
 */
const v5ToV6 = (report: Json): Json => ({ ...report, schemaVersion: 6 });

/** Steps from version n to n + 1, by n. */
const STEPS: Record<number, (report: Json) => Json> = { 1: v1ToV2, 2: v2ToV3, 3: v3ToV4, 4: v4ToV5, 5: v5ToV6 };

/**
 * Brings a parsed report of any earlier schema version up to `current`; refuses newer or unknown
 * versions, and a report without a top-level field its own version required.
 */
export function migrate(raw: unknown, label: string, current: number): unknown {
  if (!isObject(raw)) throw new UserError(`${label} is not a movinet-bench report (not a JSON object)`);
  let report = raw;
  let version = report.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > current) {
    throw new UserError(
      `${label} has schemaVersion ${String(version)}; this movinet-bench reads versions 1 to ${current}`,
    );
  }
  requireFields(report, version, label);
  while (version < current) {
    const step = STEPS[version];
    if (!step) throw new UserError(`${label}: no migration from schemaVersion ${version}`);
    report = step(report);
    version += 1;
  }
  return report;
}
