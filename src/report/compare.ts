import type { AccuracyRun, BenchResult, ParityPair } from '../core/results.js';
import { pairPasses } from '../metrics/parity.js';
import { mannWhitneyP } from '../metrics/hypothesis.js';
import { UserError } from '../util/errors.js';
import { accuracyColumns, benchColumns, metricColumn, parityColumns, type MetricColumn } from './columns.js';
import type { AccuracyReport, BenchReport, ParityReport, Report } from './schema.js';

export interface CompareOptions {
  /** Relative p50 increase that counts as a regression (0.05 = 5%). */
  threshold: number;
  /** Significance level for the Mann-Whitney test on the raw samples. */
  alpha: number;
  /** Clip-level top-1 drop (fraction) tolerated in accuracy reports. */
  top1Tolerance: number;
}

export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'missing' | 'new';

export interface ComparisonRow {
  model: string;
  backend: string;
  metric: string;
  old: number | null;
  new: number | null;
  /** Printed old and new values, formatted by the metric's column. */
  shown: [string, string];
  /** Relative change for latency, difference for fractions. */
  change: number | null;
  changeKind: 'relative' | 'points';
  pValue: number | null;
  verdict: Verdict;
  note?: string;
}

export interface Comparison {
  kind: Report['kind'];
  rows: ComparisonRow[];
  warnings: string[];
  regressions: number;
}

function envWarnings(a: Report, b: Report): string[] {
  const w: string[] = [];
  if (a.environment.cpuModel !== b.environment.cpuModel)
    w.push(`CPU differs: ${a.environment.cpuModel} vs ${b.environment.cpuModel}`);
  if (a.environment.node !== b.environment.node) w.push(`Node differs: ${a.environment.node} vs ${b.environment.node}`);
  for (const [pkg, v] of Object.entries(b.environment.packages)) {
    if (a.environment.packages[pkg] !== v) w.push(`${pkg} differs: ${a.environment.packages[pkg] ?? 'absent'} vs ${v}`);
  }
  return w;
}

interface Keyed {
  model: { id: string };
  backend: string;
}
const sameKey = (x: Keyed, y: Keyed) => x.model.id === y.model.id && x.backend === y.backend;

/** A row for one metric column of a (model, backend) pair present on both sides. */
function row<Row>(
  column: MetricColumn<Row>,
  o: Row,
  n: Row,
  keys: { model: string; backend: string },
  changeKind: ComparisonRow['changeKind'],
) {
  const metric = column.metric;
  const [ov, nv] = [metric.value(o), metric.value(n)];
  const change = ov === null || nv === null ? null : changeKind === 'relative' ? nv / ov - 1 : nv - ov;
  return {
    ...keys,
    metric: column.header,
    old: ov,
    new: nv,
    shown: [metric.format(ov), metric.format(nv)] as [string, string],
    change,
    changeKind,
  };
}

function absentRow<Row>(
  column: MetricColumn<Row>,
  r: Row,
  keys: { model: string; backend: string },
  side: 'old' | 'new',
  note?: string,
): ComparisonRow {
  const metric = column.metric;
  const v = metric.value(r);
  const shown: [string, string] = side === 'old' ? [metric.format(v), '–'] : ['–', metric.format(v)];
  return {
    ...keys,
    metric: column.header,
    old: side === 'old' ? v : null,
    new: side === 'new' ? v : null,
    shown,
    change: null,
    changeKind: 'relative',
    pValue: null,
    verdict: side === 'old' ? 'missing' : 'new',
    note,
  };
}

/**
 * A latency regression needs both a p50 increase beyond the threshold and a
 * significant Mann-Whitney test on the raw samples; p90 is shown for context.
 * A pair that disappeared counts as a regression.
 */
function compareBench(a: BenchReport, b: BenchReport, opts: CompareOptions, warnings: string[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const [p50, p90] = [metricColumn(benchColumns, 'p50'), metricColumn(benchColumns, 'p90')];
  for (const o of a.results) {
    const keys = { model: o.model.id, backend: o.backend };
    const n = b.results.find((r) => sameKey(r, o));
    if (!n) {
      const why = [
        ...b.skipped.map((s) => ({ ...s, why: s.reason })),
        ...b.failed.map((f) => ({ ...f, why: f.error })),
      ].find((s) => s.model === o.model.id && s.backend === o.backend);
      rows.push(absentRow<BenchResult>(p50, o, keys, 'old', why?.why));
      continue;
    }
    if (n.model.sha256 !== o.model.sha256)
      warnings.push(
        `${o.model.id}: model file changed (sha256 ${o.model.sha256.slice(0, 12)}… → ${n.model.sha256.slice(0, 12)}…)`,
      );
    const p = mannWhitneyP(o.samplesMs, n.samplesMs);
    for (const column of [p50, p90]) {
      const r = row(column, o, n, keys, 'relative');
      const significant = p < opts.alpha;
      const change = r.change ?? 0;
      const verdict: Verdict =
        significant && change > opts.threshold
          ? 'regression'
          : significant && change < -opts.threshold
            ? 'improvement'
            : 'unchanged';
      // Only p50 decides, as it is what the test speaks about.
      const decides = column.id === 'p50';
      rows.push({
        ...r,
        pValue: p,
        verdict: decides || verdict !== 'regression' ? verdict : 'unchanged',
        note: !decides && verdict === 'regression' ? 'p90 up (informational)' : undefined,
      });
    }
  }
  for (const n of b.results)
    if (!a.results.some((r) => sameKey(r, n)))
      rows.push(absentRow<BenchResult>(p50, n, { model: n.model.id, backend: n.backend }, 'new'));
  return rows;
}

function compareAccuracy(
  a: AccuracyReport,
  b: AccuracyReport,
  opts: CompareOptions,
  warnings: string[],
): ComparisonRow[] {
  const [ad, bd] = [a.config.dataset, b.config.dataset];
  if (ad.name !== bd.name || ad.clips !== bd.clips)
    warnings.push(`datasets differ: ${ad.name} (${ad.clips}) vs ${bd.name} (${bd.clips})`);
  const rows: ComparisonRow[] = [];
  const [top1, top5] = [metricColumn(accuracyColumns, 'top1'), metricColumn(accuracyColumns, 'top5')];
  for (const o of a.runs) {
    const keys = { model: o.model.id, backend: o.backend };
    const n = b.runs.find((r) => sameKey(r, o));
    if (!n) {
      rows.push(absentRow<AccuracyRun>(top1, o, keys, 'old'));
      continue;
    }
    const r1 = row(top1, o, n, keys, 'points');
    const change = r1.change ?? 0;
    const verdict: Verdict =
      change < -opts.top1Tolerance - 1e-12 ? 'regression' : change > 1e-12 ? 'improvement' : 'unchanged';
    const flipped = o.clips
      .filter((c) => c.correct1 && n.clips.find((x) => x.file === c.file)?.correct1 === false)
      .map((c) => c.file);
    rows.push({ ...r1, pValue: null, verdict, note: flipped.length ? `now wrong: ${flipped.join(', ')}` : undefined });
    rows.push({ ...row(top5, o, n, keys, 'points'), pValue: null, verdict: 'unchanged' });
  }
  return rows;
}

function compareParity(a: ParityReport, b: ParityReport): ComparisonRow[] {
  const agreement = metricColumn(parityColumns(b.config.minAgreement), 'agreement');
  const same = (x: ParityPair, y: ParityPair) => sameKey(x, y) && x.reference === y.reference;
  return a.pairs.map((o) => {
    const keys = { model: o.model.id, backend: `${o.backend} vs ${o.reference}` };
    const n = b.pairs.find((p) => same(p, o));
    if (!n) return absentRow<ParityPair>(agreement, o, keys, 'old');
    return {
      ...row(agreement, o, n, keys, 'points'),
      pValue: null,
      verdict: pairPasses(n, b.config.minAgreement) ? 'unchanged' : 'regression',
    };
  });
}

/** Old against new, per (model, backend), by the rules of the reports' kind. */
export function compareReports(a: Report, b: Report, opts: CompareOptions): Comparison {
  const warnings = envWarnings(a, b);
  let rows: ComparisonRow[];
  if (a.kind === 'bench' && b.kind === 'bench') rows = compareBench(a, b, opts, warnings);
  else if (a.kind === 'accuracy' && b.kind === 'accuracy') rows = compareAccuracy(a, b, opts, warnings);
  else if (a.kind === 'parity' && b.kind === 'parity') rows = compareParity(a, b);
  else throw new UserError(`cannot compare a ${a.kind} report with a ${b.kind} report`);
  return {
    kind: a.kind,
    rows,
    warnings,
    regressions: rows.filter((r) => r.verdict === 'regression' || r.verdict === 'missing').length,
  };
}
