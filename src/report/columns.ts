import type { AccuracyRun, BenchResult, ParityPair, Reference } from '../core/results.js';
import { pairPasses } from '../metrics/parity.js';
import { fmt, interval, pct, percentFigure, range } from './format.js';

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
  cell(row: Row): string;
  /** For columns compare can diff: the number behind the cell and how to print it. */
  metric?: { value(row: Row): number | null; format(v: number | null): string };
}

function measured<Row>(
  id: string,
  header: string,
  value: (row: Row) => number | null,
  format: (v: number | null) => string,
): Column<Row> {
  return { id, header, cell: (row) => format(value(row)), metric: { value, format } };
}

const ms = (digits: number) => (v: number | null) => fmt(v, digits);

/** The source page's figures (int8, 1 CPU thread, TFLite benchmark tool on phones), never measured here. */
export function referenceColumns<Row>(ref: (row: Row) => Reference | null): Column<Row>[] {
  return [
    { id: 'refSize', header: 'ref MB', cell: (r) => fmt(ref(r)?.sizeMB, 1) },
    { id: 'refTop1', header: 'ref top-1', cell: (r) => percentFigure(ref(r)?.top1) },
    { id: 'pixel4', header: 'Pixel 4 ms', cell: (r) => fmt(ref(r)?.pixel4Ms, 0) },
    { id: 'pixel3', header: 'Pixel 3 ms', cell: (r) => fmt(ref(r)?.pixel3Ms, 0) },
  ];
}

export const benchColumns: Column<BenchResult>[] = [
  { id: 'model', header: 'model', text: true, cell: (r) => r.model.id },
  { id: 'backend', header: 'backend', text: true, cell: (r) => r.backend },
  { id: 'threads', header: 'thr', cell: (r) => String(r.runtime.threads.requested) },
  measured('load', 'load ms', (r) => r.loadMs, ms(0)),
  measured('first', '1st ms', (r) => r.firstInferenceMs, ms(1)),
  measured('p50', 'p50 ms', (r) => r.stats.p50, ms(2)),
  measured('p90', 'p90 ms', (r) => r.stats.p90, ms(2)),
  measured('p99', 'p99 ms', (r) => r.stats.percentiles.p99 ?? null, ms(2)),
  { id: 'medianCI', header: 'p50 95% CI', cell: (r) => range(...r.stats.medianCI95) },
  measured(
    'fps',
    'fps',
    (r) => r.fps,
    (v) => fmt(v, 1),
  ),
  measured(
    'realtime',
    '×RT',
    (r) => r.realtimeFactor,
    (v) => fmt(v, 1),
  ),
  measured(
    'gflops',
    'GFLOP/s',
    (r) => r.gflopsPerSecond,
    (v) => fmt(v, 1),
  ),
  measured('rss', 'RSS MB', (r) => r.peakRssMB, ms(0)),
  { id: 'overhead', header: 'ovh', cell: (r) => fmt(r.overhead?.ratio, 3) },
  ...referenceColumns<BenchResult>((r) => r.model.reference),
];

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
  { id: 'errors', header: 'errors', cell: (r) => String(r.summary.errors) },
  {
    id: 'timeToCorrect',
    header: 'median t→correct',
    cell: (r) => (r.summary.medianTimeToCorrectS === null ? '–' : `${fmt(r.summary.medianTimeToCorrectS, 1)} s`),
  },
  measured('p50', 'p50 ms', (r) => r.latency?.p50 ?? null, ms(2)),
  {
    id: 'time',
    header: 'wall / infer / wait s',
    cell: (r) => [r.wallMs, r.inferenceMs, r.decodeWaitMs].map((v) => fmt(v / 1000, 1)).join(' / '),
  },
  { id: 'refTop1', header: 'ref top-1 int8*', cell: (r) => percentFigure(r.model.reference?.top1) },
  { id: 'paperTop1', header: 'paper float*', cell: (r) => percentFigure(r.model.reference?.paperFloatStreamTop1) },
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

export type MetricColumn<Row> = Column<Row> & { metric: NonNullable<Column<Row>['metric']> };

export function metricColumn<Row>(columns: readonly Column<Row>[], id: string): MetricColumn<Row> {
  const c = columns.find((x) => x.id === id);
  if (!c?.metric) throw new Error(`internal: no metric column '${id}'`);
  return { ...c, metric: c.metric };
}
