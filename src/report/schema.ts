import fs from 'node:fs';
import { z } from 'zod';
import { ReferenceSchema } from '../models/manifest.js';
import { UserError } from '../util/errors.js';

/**
 * The report schema. Every report carries `schemaVersion`; readers validate
 * with zod and refuse what they do not understand, so CI never diffs garbage.
 * Bump SCHEMA_VERSION on any incompatible change.
 */
export const SCHEMA_VERSION = 1;

export const EnvironmentSchema = z.object({
  cpuModel: z.string(),
  cpuCores: z.number().int(),
  totalMemGB: z.number(),
  os: z.string(),
  node: z.string(),
  v8: z.string(),
  packages: z.record(z.string(), z.string()),
  ffmpeg: z.string(),
  gitCommit: z.string().nullable(),
  ci: z.boolean(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const ModelInfoSchema = z.object({
  id: z.string(),
  path: z.string(),
  sha256: z.string(),
  verified: z.boolean(),
  bytes: z.number().int(),
  family: z.string().nullable(),
  precision: z.string().nullable(),
  resolution: z.number().int(),
  numClasses: z.number().int(),
  states: z.number().int(),
  flopsPerFrame: z.number().nullable(),
  reference: ReferenceSchema.nullable(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const RuntimeSchema = z.object({
  backend: z.string(),
  package: z.string(),
  version: z.string(),
  build: z.string(),
  threads: z.object({ requested: z.number().int(), enforcement: z.string() }),
});
export type Runtime = z.infer<typeof RuntimeSchema>;

export const LatencyStatsSchema = z.object({
  count: z.number().int(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  std: z.number(),
  p50: z.number(),
  p90: z.number(),
  percentiles: z.record(z.string(), z.number()),
  medianCI95: z.tuple([z.number(), z.number()]),
});

/** A requested (model, backend) pair that did not run, and why. */
export const SkippedSchema = z.object({
  model: z.string(),
  backend: z.string(),
  status: z.enum(['skipped', 'failed']),
  reason: z.string(),
});
export type Skipped = z.infer<typeof SkippedSchema>;

export const BenchResultSchema = z.object({
  model: ModelInfoSchema,
  backend: z.string(),
  status: z.literal('ok'),
  runtime: RuntimeSchema,
  input: z.string(),
  loadMs: z.number(),
  firstInferenceMs: z.number(),
  warmupFrames: z.number().int(),
  /** Every measured per-frame latency in ms, in frame order, repeats concatenated. */
  samplesMs: z.array(z.number()),
  repeatP50Ms: z.array(z.number()),
  stats: LatencyStatsSchema,
  fps: z.number(),
  /** 200 ms (one frame at 5 fps) divided by p50: how many times faster than real time. */
  realtimeFactor: z.number(),
  gflopsPerSecond: z.number().nullable(),
  peakRssMB: z.number(),
  overhead: z.object({ bareP50Ms: z.number(), ratio: z.number() }).nullable(),
  /** Reasons to distrust or re-run this measurement (few samples, unstable repeats, long tail, overhead). */
  warnings: z.array(z.string()),
});
export type BenchResult = z.infer<typeof BenchResultSchema>;

const Header = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('movinet-bench'), version: z.string() }),
  createdAt: z.string(),
  command: z.string(),
  environment: EnvironmentSchema,
};

export const BenchReportSchema = z.object({
  ...Header,
  kind: z.literal('bench'),
  config: z.object({
    models: z.array(z.string()),
    backends: z.array(z.string()),
    threads: z.number().int(),
    frames: z.number().int(),
    warmup: z.number().int(),
    repeats: z.number().int(),
    input: z.string(),
    percentiles: z.array(z.number()),
  }),
  results: z.array(BenchResultSchema),
  skipped: z.array(SkippedSchema),
});
export type BenchReport = z.infer<typeof BenchReportSchema>;

export const PredictionSchema = z.object({ index: z.number().int(), label: z.string(), prob: z.number() });

export const ClipResultSchema = z.object({
  file: z.string(),
  label: z.string(),
  labelIndex: z.number().int(),
  status: z.enum(['ok', 'error']),
  error: z.string().optional(),
  frames: z.number().int(),
  top5: z.array(PredictionSchema),
  correct1: z.boolean(),
  correct5: z.boolean(),
  /** Seconds of video until the top-1 becomes and stays correct; null if it never does. */
  timeToCorrectS: z.number().nullable(),
  /** Top-1 class index after each frame. */
  top1ByFrame: z.array(z.number().int()),
  /** step() time of every frame, ms: the latency collected in the same run. */
  stepMs: z.array(z.number()),
  /** Time the model waited for decoded frames of this clip, ms. */
  decodeWaitMs: z.number(),
});
export type ClipResult = z.infer<typeof ClipResultSchema>;

export const IntervalSchema = z.object({ value: z.number(), low: z.number(), high: z.number() });

export const AccuracySummarySchema = z.object({
  clips: z.number().int(),
  evaluated: z.number().int(),
  errors: z.number().int(),
  correct1: z.number().int(),
  correct5: z.number().int(),
  top1: IntervalSchema,
  top5: IntervalSchema,
  medianTimeToCorrectS: z.number().nullable(),
  /** top1ByFramesSeen[k-1]: top-1 if every clip had stopped after k frames (clips shorter than k use their last frame). */
  top1ByFramesSeen: z.array(z.number()),
  perClass: z.array(z.object({ label: z.string(), clips: z.number().int(), correct1: z.number().int() })),
});
export type AccuracySummary = z.infer<typeof AccuracySummarySchema>;

export const AccuracyRunSchema = z.object({
  model: ModelInfoSchema,
  backend: z.string(),
  runtime: RuntimeSchema,
  clips: z.array(ClipResultSchema),
  summary: AccuracySummarySchema,
  latency: LatencyStatsSchema.nullable(),
  wallMs: z.number(),
  inferenceMs: z.number(),
  /** Sum over clips of the time the model waited on the decoder. */
  decodeWaitMs: z.number(),
});
export type AccuracyRun = z.infer<typeof AccuracyRunSchema>;

/** The clips a report ran on. */
const DatasetRefSchema = z.object({ name: z.string(), source: z.string(), clips: z.number().int() });
const DecodeConfig = { resize: z.enum(['crop', 'squash']), fps: z.number() };

export const AccuracyReportSchema = z.object({
  ...Header,
  kind: z.literal('accuracy'),
  config: z.object({
    dataset: DatasetRefSchema,
    models: z.array(z.string()),
    backends: z.array(z.string()),
    ...DecodeConfig,
    shard: z.object({ index: z.number().int(), count: z.number().int() }).nullable(),
  }),
  runs: z.array(AccuracyRunSchema),
  skipped: z.array(SkippedSchema),
  agreement: z.array(z.object({ model: z.string(), backends: z.tuple([z.string(), z.string()]), clipTop1: z.number(), frameTop1: z.number() })),
});
export type AccuracyReport = z.infer<typeof AccuracyReportSchema>;

export const ParityPairSchema = z.object({
  model: ModelInfoSchema,
  reference: z.string(),
  backend: z.string(),
  clips: z.array(z.object({
    file: z.string(),
    frames: z.number().int(),
    maxAbsLogitDiff: z.number(),
    maxAbsProbDiff: z.number(),
    frameTop1Agreement: z.number(),
    finalTop1: z.tuple([z.number().int(), z.number().int()]),
    match: z.boolean(),
    error: z.string().optional(),
  })),
  frames: z.number().int(),
  frameTop1Agreement: z.number(),
  clipsMatching: z.number().int(),
  maxAbsLogitDiff: z.number(),
  maxAbsProbDiff: z.number(),
});
export type ParityPair = z.infer<typeof ParityPairSchema>;

export const ParityReportSchema = z.object({
  ...Header,
  kind: z.literal('parity'),
  config: z.object({
    dataset: DatasetRefSchema,
    models: z.array(z.string()),
    backends: z.array(z.string()),
    minAgreement: z.number(),
    ...DecodeConfig,
  }),
  pairs: z.array(ParityPairSchema),
  skipped: z.array(SkippedSchema),
  passed: z.boolean(),
});
export type ParityReport = z.infer<typeof ParityReportSchema>;

export const ReportSchema = z.discriminatedUnion('kind', [BenchReportSchema, AccuracyReportSchema, ParityReportSchema]);
export type Report = z.infer<typeof ReportSchema>;

/** Reads and validates a report; one-line errors for a missing file, bad JSON, or a schema mismatch. */
export function readReport(file: string): Report {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `report ${file} does not exist` : `report ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const version = (raw as { schemaVersion?: unknown })?.schemaVersion;
  if (version !== SCHEMA_VERSION) throw new UserError(`report ${file} has schemaVersion ${String(version)}; this movinet-bench reads version ${SCHEMA_VERSION}`);
  const parsed = ReportSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new UserError(`report ${file} does not match the schema: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data;
}

export function validateReport(report: unknown): Report {
  return ReportSchema.parse(report);
}
