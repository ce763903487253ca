import * as z from 'zod';
import { ModelInfoSchema, RuntimeSchema } from '../core/results.js';

/**
 * What a live run measured for one (model, backend): per frame, from capture
 * to logits, and per run, the figures a viewer of the stream notices. The
 * report envelope (report/schema.ts) is built from these, as it is from the
 * results of core for the other kinds.
 */

const Ms = z.number().nonnegative();
const Count = z.number().int().nonnegative();
const Fraction = z.number().min(0).max(1);
/** step() runs inside the span its caller times, but each is read from its own clock. */
const CLOCK_SLACK_MS = 0.05;

/** `latest` keeps one waiting frame and drops the older ones; `queue` keeps every frame and lets latency grow. */
export const LivePolicySchema = z.enum(['latest', 'queue']);
export type LivePolicy = z.infer<typeof LivePolicySchema>;

/** Every processed frame, in processing order (which is capture order under both policies). */
export const LiveFramesSchema = z
  .object({
    /** Source frame number: frame i shows the video at i / (model fps) seconds, counting on across loops. */
    index: z.array(Count),
    /** When the frame became available, from the run's start. */
    captureMs: z.array(Ms),
    /** Capture to logits ready. */
    e2eMs: z.array(Ms),
    /** Capture to the start of its step(). */
    queueMs: z.array(Ms),
    stepMs: z.array(Ms),
    top1: z.array(Count),
    top1Prob: z.array(Fraction),
  })
  .refine(
    (f) => [f.captureMs, f.e2eMs, f.queueMs, f.stepMs, f.top1, f.top1Prob].every((a) => a.length === f.index.length),
    { message: 'per-frame arrays differ in length' },
  )
  .refine((f) => f.index.every((v, i) => i === 0 || v > f.index[i - 1]!), {
    message: 'frames are not in source order',
  })
  .refine((f) => f.e2eMs.every((e, i) => e + CLOCK_SLACK_MS >= f.queueMs[i]! + f.stepMs[i]!), {
    message: 'an end-to-end latency is shorter than its queueing delay and step',
  });
export type LiveFrames = z.infer<typeof LiveFramesSchema>;

const PercentilesSchema = z
  .object({ p50: Ms, p90: Ms, p99: Ms, max: Ms })
  .refine((s) => s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max, { message: 'percentiles out of order' });

/** One delivery rate tried by `--fps auto`. */
export const SweepPointSchema = z
  .object({
    fps: z.number().positive(),
    /** Delivery rate over the model's fps: how many times faster than real time. */
    speed: z.number().positive(),
    captured: Count,
    processed: Count,
    dropped: Count,
    e2eP50Ms: Ms.nullable(),
    e2eP99Ms: Ms.nullable(),
    /**
     * LoadGen's early-stopping estimate of p99 end-to-end at 99 % confidence; null with too few frames for one.
     * Absent in reports written before the sweep used it.
     */
    e2eP99EstimateMs: Ms.nullable().optional(),
    /** No drop, and the p99 estimate at or under one frame period at this rate. */
    sustained: z.boolean(),
  })
  .refine((p) => p.processed + p.dropped <= p.captured, { message: 'a sweep point processed more than it captured' });
export type SweepPoint = z.infer<typeof SweepPointSchema>;

export const LiveRunSchema = z
  .object({
    /** Frames delivered per second of wall time. */
    deliveryFps: z.number().positive(),
    speed: z.number().positive(),
    wallMs: Ms,
    /** Frames the source made available during the run. */
    captured: Count,
    processed: Count,
    /** Frames replaced by a newer one before the model could take them (`latest` only). */
    dropped: Count,
    /** Captured but neither processed nor dropped: the run was stopped with them waiting. */
    unprocessed: Count,
    droppedCaptureMs: z.array(Ms),
    /** Frames the decoder handed over after their capture time (they count from when they arrived). */
    sourceLate: Count,
    e2eMs: PercentilesSchema.nullable(),
    queueMs: PercentilesSchema.nullable(),
    stepMs: PercentilesSchema.nullable(),
    /** Intervals between consecutive outputs; jitter is their standard deviation. */
    outputInterval: z.object({ meanMs: Ms, jitterMs: Ms, p10Ms: Ms, p90Ms: Ms }).nullable(),
    /** This process's CPU time over the run's wall time: 1 is one core busy throughout (ffmpeg's own is not in it). */
    cpu: z.object({ userMs: Ms, systemMs: Ms, utilisation: z.number().nonnegative() }),
    /** The top-1 the run ended with, and the capture time from which it no longer changed. */
    settled: z.object({ top1: Count, atMs: Ms }).nullable(),
    frames: LiveFramesSchema,
    /** `--fps auto`: every rate tried, in order; this run's frames are those of the highest sustained one. */
    sweep: z.array(SweepPointSchema).nullable(),
    maxSustainableFps: z.number().positive().nullable(),
    interrupted: z.boolean(),
  })
  .refine((r) => r.captured === r.processed + r.dropped + r.unprocessed, {
    message: 'captured differs from processed + dropped + unprocessed',
  })
  .refine((r) => r.frames.index.length === r.processed, { message: 'processed differs from the frames kept' })
  .refine((r) => r.droppedCaptureMs.length === r.dropped, { message: 'dropped differs from the drop times kept' })
  .refine((r) => (r.processed === 0) === (r.e2eMs === null), { message: 'e2e statistics without frames, or none' })
  .refine((r) => r.sourceLate <= r.captured, { message: 'more late frames than frames' });
export type LiveRun = z.infer<typeof LiveRunSchema>;

const PerStreamSchema = z.object({
  captured: Count,
  processed: Count,
  dropped: Count,
  e2eP50Ms: Ms.nullable(),
  e2eP99Ms: Ms.nullable(),
});

/**
 * The calls of a step, by how many streams each stepped: under the batched schedule a call's time is shared by
 * its streams, so what a frame costs depends on the sizes the schedule found waiting together.
 */
const CallsSchema = z
  .object({
    count: Count,
    bySize: z.array(z.object({ size: z.number().int().positive(), calls: Count, p50Ms: Ms, meanMs: Ms, maxMs: Ms })),
  })
  .refine((c) => c.bySize.reduce((a, s) => a + s.calls, 0) === c.count, { message: 'calls by size do not add up' })
  .refine((c) => c.bySize.every((s, i) => i === 0 || s.size > c.bySize[i - 1]!.size), {
    message: 'call sizes are not in increasing order',
  });
export type CallSizes = z.infer<typeof CallsSchema>;

/** One step of `--streams`: N streams served together for a while, and whether they kept up. */
export const CapacityStepSchema = z
  .object({
    streams: z.number().int().positive(),
    /** How the search chose this N; 'fixed' for `--streams N`. */
    search: z.enum(['fixed', 'grow', 'bisect', 'confirm']),
    /**
     * No frame dropped or left waiting a frame period or more, and the early-stopping p99 end-to-end at or under
     * one frame period.
     */
    pass: z.boolean(),
    why: z.string().nullable(),
    wallMs: Ms,
    captured: Count,
    processed: Count,
    dropped: Count,
    unprocessed: Count,
    /** Of `unprocessed`, the frames that had waited a frame period or more when the step ended (absent before). */
    overdue: Count.optional(),
    /** LoadGen's early-stopping estimate of p99 end-to-end at 99 % confidence; null below the frames it needs. */
    p99EstimateMs: Ms.nullable(),
    e2eMs: PercentilesSchema.nullable(),
    queueMs: PercentilesSchema.nullable(),
    stepMs: PercentilesSchema.nullable(),
    /**
     * step() with the stream's states moved in and out: what a frame costs the process. Under the batched
     * schedule, a frame's share of its call (the call's time over the streams it stepped), while `stepMs` is the
     * whole call the frame waited for.
     */
    serviceMs: PercentilesSchema.nullable(),
    cpuUtilisation: z.number().nonnegative(),
    perStream: z.array(PerStreamSchema),
    /** The batched schedule's calls (absent for the sequential one, whose calls are its frames). */
    calls: CallsSchema.optional(),
  })
  .refine((s) => s.captured === s.processed + s.dropped + s.unprocessed, {
    message: 'captured differs from processed + dropped + unprocessed',
  })
  .refine((s) => !s.calls || s.calls.bySize.reduce((a, c) => a + c.size * c.calls, 0) === s.processed, {
    message: 'the calls stepped another number of frames than were processed',
  })
  .refine((s) => s.perStream.length === s.streams, { message: 'one entry per stream' });
export type CapacityStep = z.infer<typeof CapacityStepSchema>;

/**
 * How the streams' frames reach the model: `sequential` steps the waiting frame captured earliest, one call per
 * frame; `batched` steps every stream with a frame waiting in one call on the batch axis (at most `maxBatch`,
 * the earliest captured first), never holding a frame back to wait for others.
 */
export const ScheduleSchema = z.object({
  kind: z.enum(['sequential', 'batched']),
  /** `--max-batch`: the most streams one call steps; null: as many as there are streams (and for sequential). */
  maxBatch: z.number().int().positive().nullable(),
  /** Batched: a frame's share of a call at each batch size probed before the steps, beside the memory. */
  probe: z.array(z.object({ batch: z.number().int().positive(), frameMs: Ms })).optional(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;
export const SCHEDULES = ScheduleSchema.shape.kind.options;
export type ScheduleKind = Schedule['kind'];

/** `live --streams`: how many paced streams one process serves (schema 5 on). */
export const CapacitySchema = z.object({
  fps: z.number().positive(),
  phase: z.enum(['spread', 'aligned']),
  policy: LivePolicySchema,
  /** Absent in reports written before the batched schedule: those are sequential. */
  schedule: ScheduleSchema.optional(),
  /**
   * Where each stream's states live between its steps, and each placement's service time at two streams; `slots`
   * (the batched schedule): rows of one batched session, with a frame's share of a call at the probe's widest.
   */
  placement: z.object({
    chosen: z.enum(['sessions', 'save-restore', 'slots']),
    /** True when both were measured and the cheaper chosen; false when --state named one. */
    measured: z.boolean(),
    serviceMs: z.record(z.string(), Ms),
  }),
  memoryPerStreamMB: z.number().nonnegative(),
  /** Frame period over the service time: what a bench p50 alone would promise. */
  naiveStreams: Count,
  /** `--streams auto`: the largest N that passed every confirmation run (0: not even one); null for a fixed N. */
  maxStreams: Count.nullable(),
  /** The decoder's CPU per stream-second of this input, and the streams left if it shared the core. */
  decoder: z.object({ cpuPerStreamSecond: z.number().nonnegative(), streamsIfSharedCore: Count.nullable() }).nullable(),
  steps: z.array(CapacityStepSchema).min(1),
});
export type Capacity = z.infer<typeof CapacitySchema>;

export const LiveResultSchema = z
  .object({
    model: ModelInfoSchema,
    backend: z.string(),
    runtime: RuntimeSchema,
    /** 'file' is paced by this tool's clock; 'camera' (a V4L2 device) paces itself. */
    source: z.enum(['file', 'camera']),
    /** The rate the model was trained for; frames sample the video at this rate. */
    modelFps: z.number().positive(),
    loadMs: Ms,
    firstInferenceMs: Ms,
    warmupFrames: Count,
    /** Names of the classes that appear in the top-1 timelines, by class index. */
    labels: z.record(z.string(), z.string()),
    /** Repeated runs, each a fresh stream from zero state in this process: compare's unit (none with --streams). */
    runs: z.array(LiveRunSchema),
    capacity: CapacitySchema.optional(),
    warnings: z.array(z.string()),
  })
  .refine((r) => r.runs.length > 0 || r.capacity !== undefined, { message: 'a live result has runs or a capacity' });
export type LiveResult = z.infer<typeof LiveResultSchema>;
