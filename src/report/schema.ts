import fs from 'node:fs';
import * as z from 'zod';
import {
  AccuracyRunSchema,
  DecodingSchema,
  AgreementSchema,
  BenchResultSchema,
  DatasetRefSchema,
  DriftResultSchema,
  EnvironmentSchema,
  FailedSchema,
  ParityPairSchema,
  ResizeModeSchema,
  SkippedSchema,
} from '../core/results.js';
import { LivePolicySchema, LiveResultSchema } from '../live/result.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';
import { migrate } from './migrate.js';

/**
 * The report envelopes around the domain results. Every report carries
 * `schemaVersion`; readers migrate older versions and validate with zod, so CI
 * never diffs garbage and a schema change never breaks the comparison with the
 * previous commit's report. Bump SCHEMA_VERSION on any incompatible change and
 * add a step to migrate.ts; changes that land together share one bump and one
 * step, so every version a commit wrote has exactly one step out of it.
 */
export const SCHEMA_VERSION = 6;

const Header = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('movinet-bench'), version: z.string() }),
  createdAt: z.string(),
  command: z.string(),
  environment: EnvironmentSchema,
  /** Requested pairs that did not run (missing model) and pairs that ran and failed. */
  skipped: z.array(SkippedSchema),
  failed: z.array(FailedSchema),
};
export type ReportHeader = Omit<z.infer<z.ZodObject<typeof Header>>, 'skipped' | 'failed'>;

export const BenchConfigSchema = z.object({
  models: z.array(z.string()),
  backends: z.array(z.string()),
  threads: z.number().int().positive(),
  frames: z.number().int().positive(),
  warmup: z.number().int().nonnegative(),
  repeats: z.number().int().positive(),
  /** Processes per (model, backend) pair, each with its own load, warm-up and frames. */
  processes: z.number().int().positive(),
  input: z.string(),
  percentiles: z.array(z.number().gt(0).lt(100)),
});
export type BenchConfig = z.infer<typeof BenchConfigSchema>;

export const BenchReportSchema = z.object({
  ...Header,
  kind: z.literal('bench'),
  config: BenchConfigSchema,
  results: z.array(BenchResultSchema),
});
export type BenchReport = z.infer<typeof BenchReportSchema>;

const DecodeConfig = { resize: ResizeModeSchema, fps: z.number().positive() };

/** Which slice of the dataset a run evaluated (`--shard index/count`). */
export interface ShardSpec {
  index: number;
  count: number;
}

export const ShardSchema = z.object({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** Clips in the whole dataset before sharding, so a merge can check that the shards cover it exactly. */
  datasetClips: z.number().int().nonnegative().nullable(),
  /** Where the index came from (schema 3 on): `--shard i/n`, a Slurm job array, a Kubernetes Indexed Job. */
  scheme: z.enum(['explicit', 'slurm-array', 'k8s-indexed-job']).optional(),
  /** The variables or flag it was read from. */
  source: z.string().optional(),
  /** The engine's name for the task that ran this slice (null for an explicit one). */
  task: z.string().nullable().optional(),
});
export type Shard = z.infer<typeof ShardSchema>;

export const AccuracyConfigSchema = z.object({
  dataset: DatasetRefSchema,
  models: z.array(z.string()),
  backends: z.array(z.string()),
  ...DecodeConfig,
  shard: ShardSchema.nullable(),
  /** `accuracy --batch N`: N clips at once through one batched session per backend; a frame's time is its share of a call. */
  batch: z.number().int().positive().optional(),
});
export type AccuracyConfig = z.infer<typeof AccuracyConfigSchema>;

export const AccuracyReportSchema = z.object({
  ...Header,
  kind: z.literal('accuracy'),
  config: AccuracyConfigSchema,
  runs: z.array(AccuracyRunSchema),
  agreement: z.array(AgreementSchema),
  /** Per model: each clip decoded once for all its backends, and how long they waited for frames. */
  decoding: z.array(DecodingSchema).optional(),
});
export type AccuracyReport = z.infer<typeof AccuracyReportSchema>;

export const ParityConfigSchema = z.object({
  dataset: DatasetRefSchema,
  models: z.array(z.string()),
  backends: z.array(z.string()),
  minAgreement: z.number().min(0).max(1),
  ...DecodeConfig,
});
export type ParityConfig = z.infer<typeof ParityConfigSchema>;

export const ParityReportSchema = z.object({
  ...Header,
  kind: z.literal('parity'),
  config: ParityConfigSchema,
  pairs: z.array(ParityPairSchema),
  passed: z.boolean(),
});
export type ParityReport = z.infer<typeof ParityReportSchema>;

export const LiveConfigSchema = z.object({
  models: z.array(z.string()),
  backends: z.array(z.string()),
  threads: z.number().int().positive(),
  /** A video file, or a V4L2 camera (/dev/video*). */
  input: z.string(),
  /** Delivery rate asked for: frames per second of wall time, 'auto' for the sweep, null for each model's own fps. */
  fps: z.union([z.number().positive(), z.literal('auto')]).nullable(),
  policy: LivePolicySchema,
  /** Wall seconds per run asked for; null for the default (the clip once, or a minute with --loop or a camera). */
  durationS: z.number().positive().nullable(),
  loop: z.boolean(),
  /** Streams per (model, backend), each from zero state in the same process: compare's unit. */
  runs: z.number().int().positive(),
  warmup: z.number().int().nonnegative(),
  resize: ResizeModeSchema,
  /** `--streams` (schema 5 on): N paced streams in one process, or 'auto' for the largest N that keeps up. */
  streams: z.union([z.number().int().positive(), z.literal('auto')]).optional(),
  phase: z.enum(['spread', 'aligned']).optional(),
});
export type LiveConfig = z.infer<typeof LiveConfigSchema>;

export const LiveReportSchema = z
  .object({
    ...Header,
    kind: z.literal('live'),
    config: LiveConfigSchema,
    results: z.array(LiveResultSchema),
    /** Stopped by a signal: the results hold what ran until then. */
    interrupted: z.boolean(),
  })
  .refine(
    (r) =>
      r.interrupted ||
      r.results.every((x) =>
        x.capacity ? x.runs.length === 0 : x.runs.length === r.config.runs && !x.runs.some((y) => y.interrupted),
      ),
    {
      message: 'a report that was not interrupted lacks runs, or holds an interrupted one',
    },
  )
  .refine((r) => r.results.every((x) => x.runs.every((y) => (y.sweep !== null) === (r.config.fps === 'auto'))), {
    message: 'sweeps belong to --fps auto runs, and only to them',
  });
export type LiveReport = z.infer<typeof LiveReportSchema>;

export const DriftConfigSchema = z.object({
  dataset: DatasetRefSchema,
  /** As given: the quantized model, its backend, and the reference ('dequantized', an id or a path) and its backend. */
  model: z.string(),
  backend: z.string(),
  reference: z.string(),
  referenceBackend: z.string(),
  framesPerStream: z.number().int().positive(),
  streams: z.number().int().positive(),
  fillUp: z.number().int().nonnegative(),
  /** Frames of the first stream whose intermediate tensors were asked for. */
  inside: z.array(z.number().int().nonnegative()),
  counterfactual: z.boolean(),
  threads: z.number().int().positive(),
  ...DecodeConfig,
});
export type DriftConfig = z.infer<typeof DriftConfigSchema>;

/** `drift` (schema 6 on): where a quantized stream model parts from its float reference, frame by frame. */
export const DriftReportSchema = z.object({
  ...Header,
  kind: z.literal('drift'),
  config: DriftConfigSchema,
  results: z.array(DriftResultSchema),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;

export const ReportSchema = z.discriminatedUnion('kind', [
  BenchReportSchema,
  AccuracyReportSchema,
  ParityReportSchema,
  LiveReportSchema,
  DriftReportSchema,
]);
export type Report = z.infer<typeof ReportSchema>;
export type ReportKind = Report['kind'];

function firstIssue(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid';
}

/** Migrates and validates a parsed report; `label` names it in the one-line error. */
export function parseReport(raw: unknown, label: string): Report {
  const parsed = ReportSchema.safeParse(migrate(raw, label, SCHEMA_VERSION));
  if (!parsed.success) throw new UserError(`${label} does not match the schema: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** Reads, migrates and validates a report; one-line errors for a missing file, bad JSON, or a schema mismatch. */
export function readReport(file: string): Report {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`report ${file} does not exist`);
    if (code === 'EISDIR') throw new UserError(`report ${file} is a directory`);
    throw new UserError(`report ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseReport(raw, `report ${file}`);
}

/** Validates a report about to be written: a report that would not read back is never written. */
export function validateReport(report: Report): Report {
  const parsed = ReportSchema.safeParse(report);
  if (!parsed.success)
    throw new Error(`internal: the ${report.kind} report does not match its schema: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** The one serialization of a report: what is written is what validates. */
export function serializeReport(report: Report): string {
  return `${JSON.stringify(validateReport(report), null, 1)}\n`;
}

/** Writes a validated report atomically (temporary file + rename). */
export function writeReport(file: string, report: Report): void {
  writeFileAtomic(file, serializeReport(report));
}
