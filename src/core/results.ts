import * as z from 'zod';

/**
 * The domain types every stage produces and every layer above reads: model
 * identity, runtime, latency statistics and the per-(model, backend) results.
 * They are zod schemas so the report schema is built from them, not beside them.
 * This module is the leaf of the dependency graph: it imports nothing of ours.
 */

const Ms = z.number().nonnegative();
const Fraction = z.number().min(0).max(1);

/** Figures published on the source page and in the paper, shown beside our measurements. */
export const ReferenceSchema = z.object({
  source: z.string(),
  sizeMB: z.number().nullable(),
  top1: z.number().nullable(),
  pixel4Ms: z.number().nullable(),
  pixel3Ms: z.number().nullable(),
  paperFloatStreamTop1: z.number().nullable(),
});
export type Reference = z.infer<typeof ReferenceSchema>;

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
  /** 1, 5 and 15 minute load averages when the command started (schema 3 on; 0s where the OS has none). */
  loadAverage: z.tuple([z.number(), z.number(), z.number()]).optional(),
  /** How the machine was emulated, when it was (schema 4 on): the run's timings mean nothing. */
  emulated: z.string().optional(),
  /**
   * onnxruntime-node's telemetry in this process and its children (schema 5 on): switched off, or on when a
   * session made before the switch had started it. Each onnxruntime-node row records its own process's check.
   */
  onnxruntimeTelemetry: z.string().optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const ModelInfoSchema = z.object({
  id: z.string(),
  path: z.string(),
  sha256: z.string(),
  verified: z.boolean(),
  bytes: z.number().int().nonnegative(),
  family: z.string().nullable(),
  precision: z.string().nullable(),
  resolution: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  states: z.number().int().nonnegative(),
  flopsPerFrame: z.number().nullable(),
  reference: ReferenceSchema.nullable(),
  /** What every table and page must say beside this model's figures (e.g. generated weights: latency only). */
  note: z.string().nullable().optional(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/**
 * Which kernels ran a native TFLite row: the library, the delegate and its flags, the nodes the delegate
 * took (read from the interpreter's execution plan) and the ops left on TFLite's built-in kernels.
 */
export const KernelPlacementSchema = z.object({
  tfliteVersion: z.string(),
  /** null: no delegate, every node on TFLite's built-in kernels. */
  delegate: z.string().nullable(),
  delegateFlags: z.array(z.string()),
  /** Operators of the model's graph. */
  nodes: z.number().int().nonnegative(),
  delegatedNodes: z.number().int().nonnegative(),
  /** Delegate kernels the delegated nodes were grouped into. */
  partitions: z.number().int().nonnegative(),
  /** The ops left on built-in kernels, with their share of the graph's conv/depthwise/FC MACs. */
  builtinOps: z.array(z.object({ op: z.string(), nodes: z.number().int().positive(), macShare: Fraction })),
  builtinMacShare: Fraction,
  library: z.object({ file: z.string(), sha256: z.string(), platformBinary: z.string(), source: z.string() }),
  method: z.string(),
});
export type KernelPlacement = z.infer<typeof KernelPlacementSchema>;

export const RuntimeSchema = z.object({
  backend: z.string(),
  package: z.string(),
  version: z.string(),
  build: z.string(),
  threads: z.object({
    requested: z.number().int().positive(),
    enforcement: z.string(),
    /**
     * OS threads that creating the session started, beside the number its thread settings account for (schema 5
     * on; onnxruntime-node rows): more means something else runs in the measured process. null: not countable here.
     */
    osThreads: z.object({ started: z.number().int().nullable(), expected: z.number().int().nonnegative() }).optional(),
  }),
  /** Where step() ran; absent in reports from before browser runs, which were all Node. */
  target: z.enum(['node', 'chromium']).optional(),
  /** The browser and its version, for target chromium. */
  browser: z.string().optional(),
  /** Whether the page was cross-origin isolated (fine performance.now(), SharedArrayBuffer). */
  crossOriginIsolated: z.boolean().optional(),
  /** The smallest step of the page's performance.now() seen, ms. */
  timerResolutionMs: z.number().nonnegative().optional(),
  /** The GPU paths the page found (WebGPU adapter, WebGL2 renderer), software renderers named as such. */
  gpu: z.string().optional(),
  /** Native TFLite rows: which kernels ran (schema 3 on). */
  kernels: KernelPlacementSchema.optional(),
  /**
   * onnxruntime-node rows (schema 5 on): whether its telemetry ran in the process that measured the row, as checked
   * from the files its start leaves, once the session was created.
   */
  telemetry: z.object({ state: z.enum(['off', 'on', 'unchecked']), evidence: z.string() }).optional(),
});
export type Runtime = z.infer<typeof RuntimeSchema>;

export const LatencyStatsSchema = z
  .object({
    count: z.number().int().positive(),
    min: Ms,
    max: Ms,
    mean: Ms,
    std: z.number().nonnegative(),
    p50: Ms,
    p90: Ms,
    /** Requested percentiles keyed "p95", "p99.9", ... */
    percentiles: z.record(z.string(), Ms),
    /** Distribution-free 95% confidence interval of the median. */
    medianCI95: z.tuple([Ms, Ms]),
  })
  .refine((s) => s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.max, { message: 'percentiles out of order' });
export type LatencyStats = z.infer<typeof LatencyStatsSchema>;

/** A requested (model, backend) pair that was not run, e.g. because the model file is missing. */
export const SkippedSchema = z.object({
  model: z.string(),
  backend: z.string(),
  /**
   * A missing file, or a runtime that cannot run here (schema 3 on), may be skipped on request
   * (--skip-missing); a corrupt file never is.
   */
  cause: z.enum(['missing', 'corrupt', 'runtime']),
  reason: z.string(),
});
export type Skipped = z.infer<typeof SkippedSchema>;

/** A (model, backend) pair that was started and failed. */
export const FailedSchema = z.object({ model: z.string(), backend: z.string(), error: z.string() });
export type Failed = z.infer<typeof FailedSchema>;

/** Garbage collections seen while the measured frames ran (perf_hooks 'gc' entries). */
export const GcCountSchema = z.object({
  /** Mark-compact (full) collections. */
  major: z.number().int().nonnegative(),
  /** Every other kind (scavenges, incremental marking, weak callbacks). */
  minor: z.number().int().nonnegative(),
  pauseMs: Ms,
});
export type GcCount = z.infer<typeof GcCountSchema>;

/**
 * Where a step's time goes, from the runtime's own profiler, in a profiling
 * run separate from the timed runs (profilers add their own cost).
 */
export const OpProfileSchema = z.object({
  backend: z.string(),
  /** The profiler that produced it, or why there is none (e.g. a runtime without one). */
  source: z.string(),
  available: z.boolean(),
  frames: z.number().int().nonnegative(),
  /** Summed node time per frame: the profiler's own measure, not the step time. */
  totalMsPerFrame: Ms,
  byOp: z.array(z.object({ op: z.string(), nodes: z.number().int().nonnegative(), msPerFrame: Ms, share: Fraction })),
  topNodes: z.array(z.object({ node: z.string(), op: z.string(), msPerFrame: Ms })),
});
export type OpProfile = z.infer<typeof OpProfileSchema>;

/**
 * What one process measured for a (model, backend) pair. Latency is replicated
 * at the process level (as pyperf does): frames of one process are
 * autocorrelated, so intervals and compare's tests use these values, one per
 * process, not the frames.
 */
export const ProcessRunSchema = z.object({
  /** Unique per process (host, pid, start time), so a merge can refuse a process counted twice. */
  id: z.string(),
  /** Frames this process contributed to samplesMs, in order. */
  samples: z.number().int().positive(),
  loadMs: Ms,
  firstInferenceMs: Ms,
  peakRssMB: z.number().nonnegative(),
  p50Ms: Ms,
  p90Ms: Ms,
  /** The requested percentiles of this process's frames, keyed "p99", ... */
  percentiles: z.record(z.string(), Ms),
  overheadRatio: z.number().positive().nullable(),
  gc: GcCountSchema.optional(),
  /** The CPUs the process was allowed to run on while it measured (Linux affinity; schema 4 on). */
  cpus: z.array(z.number().int().nonnegative()).optional(),
});
export type ProcessRun = z.infer<typeof ProcessRunSchema>;

/** An order-statistic interval of the median of process p50s, with its exact coverage. */
export const MedianIntervalSchema = z.object({ low: Ms, high: Ms, level: Fraction });
export type MedianInterval = z.infer<typeof MedianIntervalSchema>;

/**
 * How far a backend is from what this machine does through the same runtime:
 * the model's MACs per frame over its p50, beside the best rate a one-op
 * probe (a large 1x1 convolution, same runtime, same threads) reached.
 */
export const RooflineSchema = z.object({
  macsPerFrame: z.number().positive(),
  achievedGmacPerS: z.number().positive(),
  /** The arithmetic the backend's graph runs in, and so which of the probe's peaks applies. */
  dtype: z.enum(['int8', 'fp32']),
  peakGmacPerS: z.number().positive(),
  fractionOfPeak: z.number().positive(),
  probe: z.object({
    runtime: z.string(),
    threads: z.number().int().positive(),
    op: z.string(),
    int8GmacPerS: z.number().positive(),
    fp32GmacPerS: z.number().positive(),
    /** The graph the applicable dtype ran as (e.g. LiteRT's int8 conv is wrapped in QUANTIZE/DEQUANTIZE). */
    graph: z.string(),
    method: z.string(),
  }),
});
export type Roofline = z.infer<typeof RooflineSchema>;

/**
 * The machine a bench result was measured on. The label names it in tables and keys it in merges and
 * compare: by default the CPU model and core count (not the host name, so two identical CI runners are
 * one machine), or what `--machine` / MOVINET_MACHINE says.
 */
export const MachineSchema = z.object({
  label: z.string().min(1),
  cpuModel: z.string(),
  cpuCores: z.number().int(),
  os: z.string(),
  node: z.string(),
  /** How this machine was emulated (an arm64 Node under qemu-user, say): its latency means nothing. */
  emulated: z.string().optional(),
});
export type Machine = z.infer<typeof MachineSchema>;

/** The label a machine gets when nobody names it. */
export function defaultMachineLabel(cpuModel: string, cpuCores: number): string {
  return `${cpuModel} ×${cpuCores}`;
}

/** A machine as results record it: `label` when one is given, else the default label. */
export function labelledMachine(m: Omit<Machine, 'label'>, label?: string): Machine {
  return { label: label?.trim() || defaultMachineLabel(m.cpuModel, m.cpuCores), ...m };
}

export const BenchResultSchema = z
  .object({
    model: ModelInfoSchema,
    /** Where it was measured (schema 3 on; older reports are labelled from their environment). */
    machine: MachineSchema,
    backend: z.string(),
    runtime: RuntimeSchema,
    input: z.string(),
    loadMs: Ms,
    firstInferenceMs: Ms,
    warmupFrames: z.number().int().nonnegative(),
    /** Every measured per-frame latency in ms, in frame order: repeats, then processes, concatenated. */
    samplesMs: z.array(Ms),
    /**
     * One entry per process, in run order; loadMs, firstInferenceMs and overhead above are their medians,
     * peakRssMB their max.
     */
    processes: z.array(ProcessRunSchema).min(1),
    /** The interval of the median of process p50s; null with a single process (frames alone cannot give one). */
    processMedianCI: MedianIntervalSchema.nullable(),
    repeatP50Ms: z.array(Ms),
    stats: LatencyStatsSchema,
    fps: z.number().positive(),
    /** One frame period at the model's fps divided by p50: how many times faster than real time. */
    realtimeFactor: z.number().positive(),
    gflopsPerSecond: z.number().nullable(),
    peakRssMB: z.number().nonnegative(),
    overhead: z.object({ bareP50Ms: Ms, ratio: z.number().positive() }).nullable(),
    /** Reasons to distrust or re-run this measurement (few samples, unstable repeats, long tail, overhead). */
    warnings: z.array(z.string()),
    /** Collections during the measured frames, summed over processes. */
    gc: GcCountSchema.optional(),
    /** With --profile: the per-operator profile of a separate profiling run. */
    profile: OpProfileSchema.optional(),
    /** Achieved GMAC/s beside the runtime's probed peak (node target; absent with --no-roofline). */
    roofline: RooflineSchema.optional(),
    /**
     * `ab --mode duet`: every process ran at the same time as one of the other build's, on another core.
     * Its absolute figures include that neighbour; only the ratio of paired processes is meant to be read.
     */
    duet: z.object({ partner: z.string() }).optional(),
  })
  .refine((r) => r.stats.count === r.samplesMs.length, { message: 'stats.count differs from the number of samples' })
  .refine((r) => r.processes.reduce((n, p) => n + p.samples, 0) === r.samplesMs.length, {
    message: 'the processes do not account for every sample',
  });
export type BenchResult = z.infer<typeof BenchResultSchema>;
export type Overhead = NonNullable<BenchResult['overhead']>;

export const PredictionSchema = z.object({ index: z.number().int().nonnegative(), label: z.string(), prob: Fraction });
export type Prediction = z.infer<typeof PredictionSchema>;

export const ClipResultSchema = z.object({
  file: z.string(),
  label: z.string(),
  labelIndex: z.number().int().nonnegative(),
  status: z.enum(['ok', 'error']),
  error: z.string().optional(),
  frames: z.number().int().nonnegative(),
  top5: z.array(PredictionSchema),
  correct1: z.boolean(),
  correct5: z.boolean(),
  /** Seconds of video until the top-1 becomes and stays correct; null if it never does. */
  timeToCorrectS: z.number().nonnegative().nullable(),
  /** Top-1 class index after each frame. */
  top1ByFrame: z.array(z.number().int().nonnegative()),
  /** step() time of every frame, ms: the latency collected in the same run. */
  stepMs: z.array(Ms),
  /** Time the model waited for decoded frames of this clip, ms. */
  decodeWaitMs: Ms,
});
export type ClipResult = z.infer<typeof ClipResultSchema>;

export const IntervalSchema = z.object({ value: Fraction, low: Fraction, high: Fraction });
export type Interval = z.infer<typeof IntervalSchema>;

export const AccuracySummarySchema = z.object({
  clips: z.number().int().nonnegative(),
  evaluated: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  correct1: z.number().int().nonnegative(),
  correct5: z.number().int().nonnegative(),
  top1: IntervalSchema,
  top5: IntervalSchema,
  medianTimeToCorrectS: z.number().nullable(),
  /** top1ByFramesSeen[k-1]: top-1 if every clip had stopped after k frames (shorter clips use their last frame). */
  top1ByFramesSeen: z.array(Fraction),
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
  wallMs: Ms,
  inferenceMs: Ms,
  /** Sum over clips of the time the model waited on the decoder (shared with the backends run beside it). */
  decodeWaitMs: Ms,
});
export type AccuracyRun = z.infer<typeof AccuracyRunSchema>;

/**
 * How one model's clips were decoded and run: its backends run together on
 * each clip decoded once (the runs' wallMs and decodeWaitMs are this shared
 * wall and wait), its frames from ffmpeg or the frame cache.
 */
export const DecodingSchema = z.object({
  model: z.string(),
  backends: z.array(z.string()),
  clips: z.number().int().nonnegative(),
  /** Clips read from the frame cache instead of decoded (--frame-cache). */
  fromCache: z.number().int().nonnegative(),
  wallMs: Ms,
  /** step() time summed over the backends. */
  inferenceMs: Ms,
  /** Time the backends waited, together, for decoded frames. */
  decodeWaitMs: Ms,
});
export type Decoding = z.infer<typeof DecodingSchema>;

export const AgreementSchema = z.object({
  model: z.string(),
  backends: z.tuple([z.string(), z.string()]),
  clipTop1: Fraction,
  frameTop1: Fraction,
});
export type Agreement = z.infer<typeof AgreementSchema>;

/** An intermediate tensor where an ONNX graph parts from TFLite (parity --locate). */
export const ParityTensorSchema = z.object({
  /** TFLite tensor index, name, and the operator that writes it. */
  index: z.number().int().nonnegative(),
  name: z.string(),
  op: z.string(),
  opIndex: z.number().int().nonnegative(),
  /** Values that differ, of how many. */
  values: z.number().int().nonnegative(),
  of: z.number().int().nonnegative(),
  /** In int8 codes for a quantized tensor, in its own units otherwise. */
  maxAbsDiff: z.number().nonnegative(),
  unit: z.enum(['code', 'value']),
  /** The two values where the difference is largest. */
  reference: z.number(),
  backend: z.number(),
});
export type ParityTensor = z.infer<typeof ParityTensorSchema>;

/** Where a backend parts from the reference on one clip (parity --locate); frames count from 0. */
export const ParityLocateSchema = z.object({
  /** The first frame after which the logits or any state differ. */
  firstFrame: z.number().int().nonnegative().nullable(),
  firstLogitFrame: z.number().int().nonnegative().nullable(),
  firstTop1Frame: z.number().int().nonnegative().nullable(),
  /** After the first frame whose logits differ: the states that differ, the most drifted first. */
  states: z.array(
    z.object({ name: z.string(), maxAbsDiff: z.number().nonnegative(), values: z.number().int().nonnegative() }),
  ),
  /** At the first frame, both fed the reference's states: the first tensor that differs (ONNX backends). */
  tensor: ParityTensorSchema.optional(),
  /** Why no tensor is given. */
  tensorNote: z.string().optional(),
});
export type ParityLocate = z.infer<typeof ParityLocateSchema>;

export const ParityClipSchema = z.object({
  file: z.string(),
  frames: z.number().int().nonnegative(),
  maxAbsLogitDiff: z.number().nonnegative(),
  maxAbsProbDiff: z.number().nonnegative(),
  frameTop1Agreement: Fraction,
  finalTop1: z.tuple([z.number().int(), z.number().int()]),
  match: z.boolean(),
  error: z.string().optional(),
  locate: ParityLocateSchema.optional(),
});
export type ParityClip = z.infer<typeof ParityClipSchema>;

export const ParityPairSchema = z.object({
  model: ModelInfoSchema,
  reference: z.string(),
  backend: z.string(),
  clips: z.array(ParityClipSchema),
  frames: z.number().int().nonnegative(),
  frameTop1Agreement: Fraction,
  clipsMatching: z.number().int().nonnegative(),
  maxAbsLogitDiff: z.number().nonnegative(),
  maxAbsProbDiff: z.number().nonnegative(),
});
export type ParityPair = z.infer<typeof ParityPairSchema>;

/** The clips a run used. */
export const DatasetRefSchema = z.object({
  name: z.string(),
  source: z.string(),
  clips: z.number().int().nonnegative(),
  /** Listed clips that were not found and left out (--allow-missing-clips); 0 otherwise. */
  missingClips: z.number().int().nonnegative(),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

export const ResizeModeSchema = z.enum(['crop', 'squash']);
export type ResizeMode = z.infer<typeof ResizeModeSchema>;

/**
 * How a per-frame figure of a drift run moves with the frames seen: the least-squares slope of each stream
 * after the fill-up, and the interval of their mean (streams are the unit: frames of one stream are
 * autocorrelated, and an interval over frames would be far too narrow).
 */
export const DriftTrendSchema = z.object({
  /** Change per frame, the mean of the streams' slopes. */
  slopePerFrame: z.number(),
  low: z.number(),
  high: z.number(),
  level: Fraction,
  /** The figure's mean over the fitted frames, for scale. */
  mean: z.number(),
  /** slope x fitted frames / mean: the change across one stream as a share of its level; null at a zero level. */
  relativeChange: z.number().nullable(),
  /** Frames fitted per stream, and the streams. */
  frames: z.number().int().nonnegative(),
  streams: z.number().int().nonnegative(),
  method: z.string(),
  /** grows: the interval lies above zero; shrinks: below; bounded: it holds zero. */
  verdict: z.enum(['grows', 'bounded', 'shrinks']),
});
export type DriftTrend = z.infer<typeof DriftTrendSchema>;

/** One live state of a drift run: its error against the reference's state of the same name, frame by frame. */
export const DriftStateSchema = z.object({
  name: z.string(),
  /** The states charted together (same block and kind of buffer). */
  group: z.string(),
  shape: z.array(z.number().int()),
  /**
   * The unit of the error: the quantization step the quantized model writes the state with (a count for an
   * int32 state), or, for a state it holds unquantized, the RMS of the reference's state over the streams.
   */
  unit: z.enum(['step', 'count', 'reference-rms']),
  /** The unit in the state's own values. */
  unitValue: z.number().nonnegative(),
  /** RMS error in units: mean over streams and the frames after the fill-up, at the last frame, and the largest. */
  mean: z.number().nonnegative(),
  final: z.number().nonnegative(),
  max: z.number().nonnegative(),
  /**
   * Mean signed error (quantized minus reference) in units, after the fill-up: near the mean RMS error in size when
   * the error is systematic (a state that runs low or high), near zero when it is noise around the reference.
   */
  bias: z.number(),
  /** RMS error over RMS of the reference's state, after the fill-up; null where the reference stays zero. */
  relativeRms: z.number().nonnegative().nullable(),
  trend: DriftTrendSchema,
  /** Mean over streams at each frame index. */
  perFrame: z.array(z.number()),
});
export type DriftState = z.infer<typeof DriftStateSchema>;

/** "The same network", as it was established: the same file, or the weights of two files compared. */
export const SameNetworkSchema = z.object({
  how: z.enum(['same-file', 'weights']),
  /** Weight tensors paired (convolution, depthwise and fully connected filters), and their values. */
  tensors: z.number().int().nonnegative(),
  values: z.number().int().nonnegative(),
  /** Share of values within the rule's tolerance. */
  within: Fraction,
  /** The pair whose relative RMS difference is largest. */
  worst: z
    .object({
      index: z.number().int().nonnegative(),
      op: z.string(),
      shape: z.array(z.number().int()),
      relativeRms: z.number(),
    })
    .nullable(),
  rule: z.string(),
});
export type SameNetwork = z.infer<typeof SameNetworkSchema>;

const PerFrame = z.array(z.number());

export const DriftLogitsSchema = z.object({
  /** Over every frame after the fill-up of every stream: the largest |Δ|, and means of the per-frame figures. */
  maxAbs: z.number().nonnegative(),
  meanAbs: z.number().nonnegative(),
  cosine: z.number(),
  minCosine: z.number(),
  top1Agreement: Fraction,
  /** The reference's probability of its own top-1 minus the quantized model's for that class (negative: gained). */
  probLost: z.number(),
  /**
   * The reference's top-1 logit minus its second: the room an error has before it flips the top-1. Where it
   * narrows along the stream, the same error flips more frames.
   */
  referenceMargin: z.number().nonnegative(),
  /** Share of streams whose top-1 agrees at their last frame. */
  finalTop1Agreement: Fraction,
  /** Of the per-frame mean |Δ|. */
  trend: DriftTrendSchema,
  /**
   * Of the per-frame top-1 agreement (each stream's frames 1 where the top-1 is the reference's, 0 where not):
   * `shrinks` is agreement lost as frames are seen, which a steady |Δ| can hide when the classes' margins narrow.
   */
  agreementTrend: DriftTrendSchema,
  /** Of the per-frame cosine: an error relative to the logits' own size, which |Δ| alone does not show. */
  cosineTrend: DriftTrendSchema,
  /** Means over streams at each frame index; top1Agreement is the share of streams that agree there. */
  perFrame: z.object({
    maxAbs: PerFrame,
    meanAbs: PerFrame,
    cosine: PerFrame,
    top1Agreement: PerFrame,
    probLost: PerFrame,
    referenceMargin: PerFrame,
  }),
});
export type DriftLogits = z.infer<typeof DriftLogitsSchema>;

/** The same streams, the quantized model fed the reference's states at every frame instead of its own. */
export const DriftCounterfactualSchema = z.object({
  /** After the fill-up, over every frame of every stream. */
  top1Agreement: Fraction,
  carriedTop1Agreement: Fraction,
  /** top1Agreement - carriedTop1Agreement: what the carried states cost, in agreement. */
  difference: z.number(),
  finalTop1Agreement: Fraction,
  finalCarriedTop1Agreement: Fraction,
  /** Share of the carried run's disagreeing frames that agree when fed the reference's states; null if none. */
  carriedShare: z.number().nullable(),
  meanAbs: z.number().nonnegative(),
  /** Of its per-frame top-1 agreement, as the carried run's `agreementTrend`. */
  agreementTrend: DriftTrendSchema,
  perFrame: z.object({ top1Agreement: PerFrame, meanAbs: PerFrame }),
});
export type DriftCounterfactual = z.infer<typeof DriftCounterfactualSchema>;

/**
 * An intermediate tensor's error inside a frame, both graphs run once with every tensor exposed (same-graph
 * pairs); the mean over the frames read.
 */
export const DriftTensorSchema = z.object({
  /** TFLite tensor index and name, and the operator that writes it. */
  index: z.number().int().nonnegative(),
  name: z.string(),
  op: z.string(),
  opIndex: z.number().int().nonnegative(),
  /** RMS error over the larger RMS of the two tensors: bounded, and defined where one of them is zero. */
  relativeRms: z.number().nonnegative(),
  /** RMS error in the tensor's quantization steps, where it has one. */
  steps: z.number().nonnegative().nullable(),
  /** relativeRms minus the largest relativeRms of the op's activation inputs: what this op added. */
  added: z.number(),
});
export type DriftTensor = z.infer<typeof DriftTensorSchema>;

export const DriftInsideSchema = z.object({
  /** Why no tensor was read, when none was. */
  note: z.string().nullable(),
  /** The stream and its frames whose tensors were read. */
  stream: z.number().int().nonnegative(),
  frames: z.array(z.number().int().nonnegative()),
  /** Tensors compared per frame. */
  tensors: z.number().int().nonnegative(),
  /** The op nodes that add most, over the frames read. */
  top: z.array(DriftTensorSchema),
  /** Per op type: nodes, what they add (summed over nodes, mean over frames), and the largest relativeRms. */
  byOp: z.array(
    z.object({
      op: z.string(),
      nodes: z.number().int().nonnegative(),
      added: z.number(),
      maxRelativeRms: z.number().nonnegative(),
    }),
  ),
});
export type DriftInside = z.infer<typeof DriftInsideSchema>;

/** One quantized model against its float reference on the same chained streams (`drift`). */
export const DriftResultSchema = z.object({
  model: ModelInfoSchema,
  backend: z.string(),
  runtime: RuntimeSchema,
  reference: z.object({
    /** The quantized file's own graph with float activations, or another file of the same network. */
    kind: z.enum(['dequantized', 'file']),
    model: ModelInfoSchema,
    backend: z.string(),
    runtime: RuntimeSchema,
    sameNetwork: SameNetworkSchema,
  }),
  framesPerStream: z.number().int().positive(),
  /** Frames left out of the trends and the means: until every state buffer has been written. */
  fillUp: z.number().int().nonnegative(),
  streams: z.array(
    z.object({
      /** The clips chained into it, in order (the last one cut where the stream ends). */
      clips: z.array(z.string()),
      frames: z.number().int().positive(),
      top1Agreement: Fraction,
      /** Slope of the per-frame logits mean |Δ| after the fill-up. */
      slopePerFrame: z.number(),
    }),
  ),
  logits: DriftLogitsSchema,
  /** The live states, the largest mean error first. */
  states: z.array(DriftStateSchema),
  /** States the quantized model returns unchanged (its output is its input): listed, not measured. */
  passThrough: z.array(z.string()),
  groups: z.array(z.object({ name: z.string(), unit: z.string(), states: z.array(z.string()), perFrame: PerFrame })),
  counterfactual: DriftCounterfactualSchema.nullable(),
  inside: DriftInsideSchema,
  verdict: z.object({
    growth: z.enum(['grows', 'bounded', 'shrinks']),
    /** The states that carry the most error, most first. */
    topStates: z.array(z.string()),
    /** The states whose own error grows with the frames seen. */
    growingStates: z.array(z.string()),
  }),
  wallMs: Ms,
});
export type DriftResult = z.infer<typeof DriftResultSchema>;
