import type { AccuracyRun, BenchResult, DriftResult, DriftTrend, ParityPair, Reference } from '../core/results.js';
import type { Capacity, CapacityStep, LiveResult, LiveRun } from '../live/result.js';
import { pairPasses } from '../metrics/parity.js';
import { median } from '../metrics/stats.js';
import { fmt, interval, pct, percentFigure, range, signedChange, slope } from './format.js';
import { isEmulated, machineLabel } from './machines.js';

/**
 * One column spec per report kind: the terminal table, the HTML page and
 * compare all read these, so a column, its header and its precision are
 * defined once.
 */
export interface Column<Row> {
  id: string;
  header: string;
  /** Text columns align left; numbers right. */
  text?: boolean;
  /** Shown only in wide views (HTML, exports, `--wide`), so the terminal table fits 100 columns. */
  wide?: boolean;
  cell(row: Row): string;
  /** For columns compare can diff: the number behind the cell and how to print it. */
  metric?: {
    value(row: Row): number | null;
    format(v: number | null): string;
    /** The same figure for each process that measured the row, for tests at the process level. */
    perProcess?(row: Row): number[];
  };
}

function measured<Row>(
  id: string,
  header: string,
  value: (row: Row) => number | null,
  format: (v: number | null) => string,
  more: Partial<Column<Row>> = {},
): Column<Row> {
  return { id, header, cell: (row) => format(value(row)), metric: { value, format }, ...more };
}

const ms = (digits: number) => (v: number | null) => fmt(v, digits);

/** The source page's figures (int8, 1 CPU thread, TFLite benchmark tool on phones), never measured here. */
export function referenceColumns<Row>(ref: (row: Row) => Reference | null): Column<Row>[] {
  return [
    { id: 'refSize', header: 'ref MB', wide: true, cell: (r) => fmt(ref(r)?.sizeMB, 1) },
    { id: 'refTop1', header: 'ref top-1', wide: true, cell: (r) => percentFigure(ref(r)?.top1) },
    { id: 'pixel4', header: 'Pixel 4 ms', wide: true, cell: (r) => fmt(ref(r)?.pixel4Ms, 0) },
    { id: 'pixel3', header: 'Pixel 3 ms', wide: true, cell: (r) => fmt(ref(r)?.pixel3Ms, 0) },
  ];
}

/** A latency percentile of a result, and of each of its processes. */
export function percentileOf(r: BenchResult, p: number): number | null {
  if (p === 50) return r.stats.p50;
  if (p === 90) return r.stats.p90;
  return r.stats.percentiles[`p${p}`] ?? null;
}

function processPercentiles(r: BenchResult, p: number): number[] {
  return r.processes.flatMap((x) => {
    const v = p === 50 ? x.p50Ms : p === 90 ? x.p90Ms : x.percentiles[`p${p}`];
    return v === undefined ? [] : [v];
  });
}

/** The latency percentile column `p<p>` (any p in (0, 100)), diffable by compare at the process level. */
export function percentileColumn(p: number): Column<BenchResult> {
  return measured(`p${p}`, `p${p} ms`, (r) => percentileOf(r, p), ms(2), {
    metric: { value: (r) => percentileOf(r, p), format: ms(2), perProcess: (r) => processPercentiles(r, p) },
  });
}

/** The median's interval: over processes when there are several, else over frames (which understate it). */
function medianCICell(r: BenchResult): string {
  const ci = r.processMedianCI;
  return ci ? `${range(ci.low, ci.high)} (${r.processes.length}p)` : range(...r.stats.medianCI95);
}

/** What a timing cell of an emulated machine's row reads: an emulator's clock says nothing of the CPU it imitates. */
export const NOT_MEANINGFUL = 'n/m';

/** A timing column whose cells read n/m on the rows `emulated` picks, and whose values compare never sees there. */
function timing<Row>(col: Column<Row>, emulated: (r: Row) => boolean): Column<Row> {
  const m = col.metric;
  return {
    ...col,
    cell: (r) => (emulated(r) ? NOT_MEANINGFUL : col.cell(r)),
    ...(m && {
      metric: {
        ...m,
        value: (r: Row) => (emulated(r) ? null : m.value(r)),
        ...(m.perProcess && { perProcess: (r: Row) => (emulated(r) ? [] : m.perProcess!(r)) }),
      },
    }),
  };
}

/** The columns of a bench report: the percentiles it was asked for, p50 always first. */
export function benchColumns(percentiles: readonly number[], machines = 1): Column<BenchResult>[] {
  const shown = [50, ...percentiles.filter((p) => p !== 50)];
  return [
    // Always in exports; in the terminal table only when rows come from several machines.
    { id: 'machine', header: 'machine', text: true, wide: machines < 2, cell: machineLabel },
    { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
    { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
    { id: 'threads', header: 'thr', wide: true, cell: (r) => String(r.runtime.threads.requested) },
    { id: 'processes', header: 'procs', wide: true, cell: (r) => String(r.processes.length) },
    ...[
      measured('load', 'load ms', (r: BenchResult) => r.loadMs, ms(0)),
      measured('first', '1st ms', (r: BenchResult) => r.firstInferenceMs, ms(1), { wide: true }),
      ...shown.map(percentileColumn),
      { id: 'medianCI', header: 'p50 CI', cell: medianCICell },
      measured('fps', 'fps', (r: BenchResult) => r.fps, ms(1), { wide: true }),
      measured('realtime', '×RT', (r: BenchResult) => r.realtimeFactor, ms(1)),
      measured('gflops', 'GFLOP/s', (r: BenchResult) => r.gflopsPerSecond, ms(1), { wide: true }),
    ].map((col) => timing(col, isEmulated)),
    timing(
      measured('rss', 'RSS MB', (r: BenchResult) => r.peakRssMB, ms(0)),
      isEmulated,
    ),
    timing({ id: 'overhead', header: 'ovh', cell: (r) => fmt(r.overhead?.ratio, 3) }, isEmulated),
    {
      id: 'gc',
      header: 'full GCs',
      wide: true,
      cell: (r) => (r.gc ? `${r.gc.major} / ${r.stats.count} fr` : '–'),
    },
    ...referenceColumns<BenchResult>((r) => r.model.reference),
  ];
}

/** The accuracy columns of a run made on an emulated machine: its latency and time columns read n/m. */
export function accuracyColumnsOn(emulated: boolean): Column<AccuracyRun>[] {
  return emulated
    ? accuracyColumns.map((c) => (TIMED_ACCURACY.has(c.id) ? timing(c, () => true) : c))
    : accuracyColumns;
}
const TIMED_ACCURACY = new Set(['p50', 'time']);

export const accuracyColumns: Column<AccuracyRun>[] = [
  { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
  { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
  { id: 'clips', header: 'clips', cell: (r) => String(r.summary.evaluated) },
  {
    ...measured(
      'top1',
      'top-1',
      (r) => r.summary.top1.value,
      (v) => pct(v),
    ),
    cell: (r) => interval(r.summary.top1),
    header: 'top-1 (95% CI)',
  },
  {
    ...measured(
      'top5',
      'top-5',
      (r) => r.summary.top5.value,
      (v) => pct(v),
    ),
    cell: (r) => interval(r.summary.top5),
    header: 'top-5 (95% CI)',
  },
  { id: 'errors', header: 'errors', wide: true, cell: (r) => String(r.summary.errors) },
  {
    id: 'timeToCorrect',
    header: 'median t→correct',
    cell: (r) => (r.summary.medianTimeToCorrectS === null ? '–' : `${fmt(r.summary.medianTimeToCorrectS, 1)} s`),
  },
  measured('p50', 'p50 ms', (r) => r.latency?.p50 ?? null, ms(2)),
  {
    id: 'time',
    header: 'wall / infer / wait s',
    wide: true,
    cell: (r) => [r.wallMs, r.inferenceMs, r.decodeWaitMs].map((v) => fmt(v / 1000, 1)).join(' / '),
  },
  { id: 'refTop1', header: 'ref top-1 int8*', wide: true, cell: (r) => percentFigure(r.model.reference?.top1) },
  {
    id: 'paperTop1',
    header: 'paper float*',
    wide: true,
    cell: (r) => percentFigure(r.model.reference?.paperFloatStreamTop1),
  },
];

export function parityColumns(minAgreement: number): Column<ParityPair>[] {
  return [
    { id: 'model', header: 'model', text: true, cell: (p) => p.model.id },
    { id: 'reference', header: 'reference', text: true, cell: (p) => p.reference },
    { id: 'backend', header: 'backend', text: true, cell: (p) => p.backend },
    { id: 'clips', header: 'clips same top-1', cell: (p) => `${p.clipsMatching}/${p.clips.length}` },
    measured(
      'agreement',
      'frame top-1 agreement',
      (p) => p.frameTop1Agreement,
      (v) => pct(v, 2),
    ),
    measured(
      'maxLogit',
      'max |Δlogit|',
      (p) => p.maxAbsLogitDiff,
      (v) => fmt(v, 3),
    ),
    measured(
      'maxProb',
      'max |Δprob|',
      (p) => p.maxAbsProbDiff,
      (v) => fmt(v, 4),
    ),
    { id: 'verdict', header: 'verdict', text: true, cell: (p) => (pairPasses(p, minAgreement) ? 'ok' : 'MISMATCH') },
  ];
}

/** A figure of each run of a live result (the unit compare tests), or nothing for a run without it. */
function perRun(r: LiveResult, f: (run: LiveRun) => number | null | undefined): number[] {
  return r.runs.flatMap((run) => {
    const v = f(run);
    return v === null || v === undefined ? [] : [v];
  });
}

/** A live figure: the median over runs (the value itself with one run), tested run by run by compare. */
function liveMetric(
  id: string,
  header: string,
  f: (run: LiveRun) => number | null | undefined,
  format: (v: number | null) => string,
  more: Partial<Column<LiveResult>> = {},
): Column<LiveResult> {
  const value = (r: LiveResult) => median(perRun(r, f));
  return {
    id,
    header,
    cell: (r) => format(value(r)),
    metric: { value, format, perProcess: (r) => perRun(r, f) },
    ...more,
  };
}

const dropShare = (run: LiveRun) => (run.captured ? run.dropped / run.captured : 0);
const sum = (r: LiveResult, f: (run: LiveRun) => number) => r.runs.reduce((a, run) => a + f(run), 0);

/** Dropped frames over all runs, with their share of the captured ones. */
function dropsCell(r: LiveResult): string {
  const [dropped, captured] = [sum(r, (x) => x.dropped), sum(r, (x) => x.captured)];
  return dropped ? `${dropped} (${pct(dropped / Math.max(1, captured), 0)})` : '0';
}

/** The live columns: one row per (model, backend), figures as medians over its runs; max fps only for a sweep. */
export function liveColumns(swept: boolean): Column<LiveResult>[] {
  return [
    { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
    { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
    { id: 'runs', header: 'runs', wide: true, cell: (r) => String(r.runs.length) },
    liveMetric(
      'fps',
      'fps',
      (x) => x.deliveryFps,
      (v) => fmt(v, v !== null && v >= 100 ? 0 : 1),
    ),
    liveMetric('speed', '×RT', (x) => x.speed, ms(1), { wide: true }),
    {
      id: 'frames',
      header: 'frames',
      cell: (r) => String(sum(r, (x) => x.processed)),
    },
    { ...liveMetric('drops', 'drops', dropShare, (v) => pct(v, 1)), cell: dropsCell },
    liveMetric('e2eP50', 'e2e p50', (x) => x.e2eMs?.p50, ms(1)),
    liveMetric('e2eP90', 'e2e p90', (x) => x.e2eMs?.p90, ms(1), { wide: true }),
    liveMetric('e2eP99', 'e2e p99', (x) => x.e2eMs?.p99, ms(1)),
    liveMetric('e2eMax', 'e2e max', (x) => x.e2eMs?.max, ms(1), { wide: true }),
    liveMetric('queueP50', 'queue p50', (x) => x.queueMs?.p50, ms(2), { wide: true }),
    liveMetric('queueP99', 'queue p99', (x) => x.queueMs?.p99, ms(2), { wide: true }),
    liveMetric('stepP50', 'step p50', (x) => x.stepMs?.p50, ms(2)),
    liveMetric('stepP99', 'step p99', (x) => x.stepMs?.p99, ms(2), { wide: true }),
    liveMetric('jitter', 'jitter', (x) => x.outputInterval?.jitterMs, ms(1)),
    liveMetric(
      'cpu',
      'CPU',
      (x) => x.cpu.utilisation,
      (v) => pct(v, 0),
    ),
    liveMetric(
      'maxFps',
      'max fps',
      (x) => x.maxSustainableFps,
      (v) => fmt(v, v !== null && v >= 100 ? 0 : 1),
      { wide: !swept },
    ),
    { id: 'late', header: 'late', wide: true, cell: (r) => String(sum(r, (x) => x.sourceLate)) },
    {
      id: 'settled',
      header: 'top-1 settled',
      text: true,
      wide: true,
      cell: (r) => {
        const s = r.runs[0]?.settled;
        return s ? `${r.labels[s.top1] ?? `class_${s.top1}`} @ ${fmt(s.atMs / 1000, 1)} s` : '–';
      },
    },
  ];
}

type CapacityRow = LiveResult & { capacity: Capacity };

/** The step a capacity row is read at: the last passing step at the found N, else its last step. */
export function capacityStep(r: CapacityRow): CapacityStep {
  const steps = r.capacity.steps;
  const n = r.capacity.maxStreams;
  return [...steps].reverse().find((s) => s.pass && s.streams === n) ?? steps[steps.length - 1]!;
}

/** How the streams were stepped: one by one, or together on the batch axis (reports before it: one by one). */
export function scheduleText(r: Pick<CapacityRow, 'capacity'>): string {
  const s = r.capacity.schedule;
  if (!s || s.kind === 'sequential') return 'sequential';
  return s.maxBatch === null ? 'batched' : `batched (max ${s.maxBatch})`;
}

const scheduleCell = (r: CapacityRow) => scheduleText(r);

function streamsCell(r: CapacityRow): string {
  const c = r.capacity;
  if (c.maxStreams !== null) return String(c.maxStreams);
  const passed = c.steps.filter((s) => s.pass).length;
  return `${c.steps[0]!.streams} (${passed}/${c.steps.length} pass)`;
}

/** `live --streams`: one row per (model, backend), read at the found (or given) number of streams. */
export function capacityColumns(): Column<CapacityRow>[] {
  return [
    { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
    { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
    { id: 'state', header: 'states', text: true, cell: (r) => r.capacity.placement.chosen },
    { id: 'streams', header: 'streams', cell: streamsCell },
    { id: 'schedule', header: 'schedule', text: true, cell: scheduleCell },
    { id: 'naive', header: 'naive', cell: (r) => String(r.capacity.naiveStreams) },
    { id: 'p99est', header: 'p99 est', cell: (r) => fmt(capacityStep(r).p99EstimateMs, 1) },
    { id: 'e2eP50', header: 'e2e p50', cell: (r) => fmt(capacityStep(r).e2eMs?.p50 ?? null, 1) },
    { id: 'service', header: 'ms/frame', cell: (r) => fmt(capacityStep(r).serviceMs?.p50 ?? null, 2) },
    { id: 'memory', header: 'MB/stream', cell: (r) => fmt(r.capacity.memoryPerStreamMB, 1) },
    { id: 'cpu', header: 'CPU', cell: (r) => pct(capacityStep(r).cpuUtilisation, 0) },
    {
      id: 'decoder',
      header: 'with decode',
      cell: (r) =>
        (r.capacity.decoder?.streamsIfSharedCore ?? null) === null
          ? '–'
          : String(r.capacity.decoder!.streamsIfSharedCore),
    },
  ];
}

/** A trend as read: its verdict and the slope per frame with its interval. */
export function trendText(t: DriftTrend): string {
  return `${t.verdict} ${slope(t.slopePerFrame)}/frame (${pct(t.level, 0)}: ${slope(t.low)} to ${slope(t.high)})`;
}

/** What a drift result's reference is: the quantized file's own dequantized graph, or another file. */
export function driftReference(r: DriftResult): string {
  const what = r.reference.kind === 'dequantized' ? 'dequantized' : r.reference.model.id;
  return `${what} on ${r.reference.backend}`;
}

/** A state's name without the prefix every MoViNet state shares. */
export const stateName = (name: string): string => name.replace(/^state_/, '');

/** `drift`: one row per quantized model and reference, figures over the frames after the fill-up. */
export const driftColumns: Column<DriftResult>[] = [
  { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
  { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
  { id: 'reference', header: 'reference', text: true, cell: driftReference },
  { id: 'streams', header: 'streams', cell: (r) => `${r.streams.length}x${r.framesPerStream}` },
  measured(
    'meanAbs',
    'mean |Δlogit|',
    (r) => r.logits.meanAbs,
    (v) => fmt(v, 4),
  ),
  measured(
    'maxAbs',
    'max |Δlogit|',
    (r) => r.logits.maxAbs,
    (v) => fmt(v, 3),
    { wide: true },
  ),
  measured(
    'cosine',
    'cosine',
    (r) => r.logits.cosine,
    (v) => fmt(v, 5),
    { wide: true },
  ),
  measured(
    'agreement',
    'top-1 agree',
    (r) => r.logits.top1Agreement,
    (v) => pct(v, 1),
  ),
  measured(
    'final',
    'last frame',
    (r) => r.logits.finalTop1Agreement,
    (v) => pct(v, 1),
    { wide: true },
  ),
  measured(
    'probLost',
    'prob lost',
    (r) => r.logits.probLost,
    (v) => fmt(v, 4),
    { wide: true },
  ),
  { id: 'growth', header: 'error with frames', text: true, cell: (r) => trendText(r.logits.trend) },
  {
    id: 'agreementTrend',
    header: 'agreement with frames',
    text: true,
    wide: true,
    cell: (r) => trendText(r.logits.agreementTrend),
  },
  measured(
    'counterfactual',
    'fed ref states',
    (r) => r.counterfactual?.top1Agreement ?? null,
    (v) => pct(v, 1),
  ),
  {
    id: 'carried',
    header: 'Δ top-1',
    cell: (r) => (r.counterfactual ? signedChange(r.counterfactual.difference, 'points') : '–'),
  },
  {
    id: 'topState',
    header: 'top state',
    text: true,
    wide: true,
    cell: (r) => (r.verdict.topStates[0] ? stateName(r.verdict.topStates[0]) : '–'),
  },
];

export type MetricColumn<Row> = Column<Row> & { metric: NonNullable<Column<Row>['metric']> };

export function metricColumn<Row>(columns: readonly Column<Row>[], id: string): MetricColumn<Row> {
  const c = columns.find((x) => x.id === id);
  if (!c?.metric) throw new Error(`internal: no metric column '${id}'`);
  return { ...c, metric: c.metric };
}
