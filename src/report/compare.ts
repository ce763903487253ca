import type { AccuracyRun, BenchResult, DriftResult, ParityPair, Runtime } from '../core/results.js';
import type { LiveResult } from '../live/result.js';
import {
  geometricMean,
  mannWhitneyP,
  mcNemarExactP,
  smallestMannWhitneyP,
  wilcoxonSignedRankP,
} from '../metrics/hypothesis.js';
import { detectablePaired, detectableTwoSample } from '../metrics/detectable.js';
import { pairPasses } from '../metrics/parity.js';
import { median } from '../metrics/stats.js';
import { UserError } from '../util/errors.js';
import {
  accuracyColumns,
  driftColumns,
  driftReference,
  liveColumns,
  metricColumn,
  parityColumns,
  percentileColumn,
  scheduleText,
  type MetricColumn,
  NOT_MEANINGFUL,
} from './columns.js';
import { emulation, isEmulated, machineLabel, pairMachine, sameMachine } from './machines.js';
import { fmt } from './format.js';
import type { AccuracyReport, BenchReport, DriftReport, LiveReport, ParityReport, Report } from './schema.js';

export interface CompareOptions {
  /** Latency metrics that gate, with the relative increase that counts as a regression (0.05 = 5%). */
  metrics: { percentile: number; threshold: number }[];
  /** Significance level of the tests. */
  alpha: number;
  /** Smallest absolute latency change, ms, that may count as a regression or improvement. */
  minEffectMs: number;
  /** Clip-level top-1 drop (fraction) tolerated in accuracy reports. */
  top1Tolerance: number;
  /**
   * Processes of the two reports were run in alternation (k-th old beside
   * k-th new, `ab`): test the paired differences instead of two samples.
   */
  paired: boolean;
  /**
   * Bench rows are matched by (machine, model, backend); with this, by (model, backend) whatever the
   * machine, and the verdict says so.
   */
  acrossMachines?: boolean;
}

export const DEFAULT_COMPARE: CompareOptions = {
  metrics: [
    { percentile: 50, threshold: 0.05 },
    { percentile: 90, threshold: 0.05 },
  ],
  alpha: 0.01,
  minEffectMs: 0,
  top1Tolerance: 0,
  paired: false,
};

/** `inconclusive`: too few processes for the test to reach alpha, so no verdict is possible. */
export type Verdict =
  | 'regression'
  | 'improvement'
  | 'unchanged'
  | 'inconclusive'
  | 'missing'
  | 'new'
  /** A bench row whose pair the other report measured on another machine only (without --across-machines). */
  | 'not compared'
  /** A drift row: a measurement shown side by side for reading, never a pass or a fail. */
  | 'informative';

export interface ComparisonRow {
  model: string;
  backend: string;
  /** Bench rows: the machine (old → new when compared across machines). */
  machine?: string;
  /**
   * Latency rows: the smallest slow-down this test, at this size and observed spread, catches with 80 %
   * power at alpha (metrics/detectable.ts); null when it cannot reach alpha at all.
   */
  detectable?: number | null;
  metric: string;
  old: number | null;
  new: number | null;
  /** Printed old and new values, formatted by the metric's column. */
  shown: [string, string];
  /** Relative change for latency, difference for fractions. */
  change: number | null;
  changeKind: 'relative' | 'points';
  pValue: number | null;
  /** The test behind pValue and the sample sizes it saw. */
  test: string | null;
  verdict: Verdict;
  /** Whether this row can fail the comparison (gated metrics, vanished pairs). */
  gates: boolean;
  note?: string;
}

export interface Comparison {
  kind: Report['kind'];
  rows: ComparisonRow[];
  /** Different machines or runtimes: worth knowing, not a reason to fail. */
  warnings: string[];
  /** Different measurement settings: the comparison may not mean what it seems; fails under --strict. */
  mismatches: string[];
  /** Geometric mean over (model, backend) pairs of new/old p50, when latency was compared. */
  geomeanP50Ratio: number | null;
  regressions: number;
}

type Keys = { model: string; backend: string };
const keysOf = (r: { model: { id: string }; backend: string }): Keys => ({ model: r.model.id, backend: r.backend });
const sameKey = (x: { model: { id: string }; backend: string }, y: { model: { id: string }; backend: string }) =>
  x.model.id === y.model.id && x.backend === y.backend;

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

/** Settings that change what a number means; pyperf checks its runs' metadata the same way. */
function settingMismatches(a: Report, b: Report): string[] {
  const m: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y))
      m.push(`${what} differs: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  };
  /** The model file and runtime of every pair measured on both sides. */
  type Measured = { model: { id: string; sha256: string }; backend: string; runtime: Runtime };
  const perPair = (olds: readonly Measured[], news: readonly Measured[]) => {
    for (const o of olds) {
      const n = news.find((r) => sameKey(r, o));
      if (!n) continue;
      differ(`${o.model.id} model sha256`, o.model.sha256.slice(0, 12), n.model.sha256.slice(0, 12));
      differ(
        `${o.backend} runtime`,
        `${o.runtime.package} ${o.runtime.version}`,
        `${n.runtime.package} ${n.runtime.version}`,
      );
      differ(`${o.backend} build`, o.runtime.build, n.runtime.build);
      differ(`${o.backend} browser`, o.runtime.browser, n.runtime.browser);
    }
  };
  if (a.kind === 'bench' && b.kind === 'bench') {
    for (const k of ['threads', 'input', 'frames', 'warmup', 'repeats'] as const) differ(k, a.config[k], b.config[k]);
    // Reports from before browser runs carry no target: they all ran in Node.
    const targets = (r: typeof a) => [...new Set(r.results.map((x) => x.runtime.target ?? 'node'))].sort();
    differ('target', targets(a), targets(b));
    perPair(a.results, b.results);
  }
  if (a.kind === 'live' && b.kind === 'live') {
    for (const k of ['input', 'fps', 'policy', 'durationS', 'loop', 'threads', 'warmup', 'resize'] as const)
      differ(k, a.config[k], b.config[k]);
    if (a.interrupted || b.interrupted) m.push(`interrupted run: ${interruptedSides(a, b)}`);
    perPair(a.results, b.results);
  }
  if (a.kind === 'drift' && b.kind === 'drift')
    for (const k of ['dataset', 'framesPerStream', 'streams', 'fillUp', 'resize', 'fps'] as const)
      differ(k, a.config[k], b.config[k]);
  if ((a.kind === 'accuracy' && b.kind === 'accuracy') || (a.kind === 'parity' && b.kind === 'parity')) {
    differ('dataset', a.config.dataset, b.config.dataset);
    differ('resize', a.config.resize, b.config.resize);
    differ('fps', a.config.fps, b.config.fps);
  }
  return m;
}

/** Which of two live runs a signal stopped: "old", "new" or "old and new". */
function interruptedSides(a: LiveReport, b: LiveReport): string {
  const sides = [a.interrupted ? 'old' : null, b.interrupted ? 'new' : null];
  return sides.filter(Boolean).join(' and ');
}

function absentRow<Row>(
  column: MetricColumn<Row>,
  r: Row,
  keys: Keys,
  side: 'old' | 'new',
  note?: string,
): ComparisonRow {
  const v = column.metric.value(r);
  const shown: [string, string] = side === 'old' ? [column.metric.format(v), '–'] : ['–', column.metric.format(v)];
  return {
    ...keys,
    metric: column.header,
    old: side === 'old' ? v : null,
    new: side === 'new' ? v : null,
    shown,
    change: null,
    changeKind: 'relative',
    pValue: null,
    test: null,
    verdict: side === 'old' ? 'missing' : 'new',
    gates: side === 'old',
    note,
  };
}

/** The latency test of one metric at the process level, two-sample or paired. */
function latencyRow(
  column: MetricColumn<BenchResult>,
  o: BenchResult,
  n: BenchResult,
  threshold: number,
  opts: CompareOptions,
): ComparisonRow {
  const oldVals = column.metric.perProcess?.(o) ?? [];
  const newVals = column.metric.perProcess?.(n) ?? [];
  const [om, nm] = [median(oldVals) ?? column.metric.value(o), median(newVals) ?? column.metric.value(n)];
  const base = {
    ...keysOf(o),
    metric: column.header,
    old: om,
    new: nm,
    shown: [column.metric.format(om), column.metric.format(nm)] as [string, string],
    changeKind: 'relative' as const,
    gates: true,
  };
  let p: number | null = null;
  let test: string;
  let change = om && nm !== null ? nm / om - 1 : null;
  let reachable: boolean;
  let detectable: number | null;
  if (opts.paired) {
    const k = Math.min(oldVals.length, newVals.length);
    const logRatios = Array.from({ length: k }, (_, i) => Math.log(newVals[i]! / oldVals[i]!));
    reachable = oldVals.length === newVals.length && 2 / 2 ** k < opts.alpha;
    test = `Wilcoxon signed-rank, ${k} pairs`;
    if (k > 0) change = Math.exp(median(logRatios)!) - 1;
    if (reachable) p = wilcoxonSignedRankP(logRatios);
    detectable = reachable ? detectablePaired(logRatios, opts.alpha) : null;
  } else {
    reachable =
      oldVals.length > 0 && newVals.length > 0 && smallestMannWhitneyP(oldVals.length, newVals.length) < opts.alpha;
    test = `Mann-Whitney, ${oldVals.length} vs ${newVals.length} processes`;
    if (reachable) p = mannWhitneyP(oldVals, newVals);
    detectable = reachable ? detectableTwoSample(oldVals, newVals, opts.alpha) : null;
  }
  if (!reachable) {
    const why = opts.paired
      ? 'as many processes on both sides, 8 or more (ab --processes)'
      : '5 or more processes a side (bench --processes)';
    return {
      ...base,
      change,
      pValue: null,
      test,
      verdict: 'inconclusive',
      note: `not testable at alpha ${opts.alpha}: needs ${why}`,
      detectable: null,
    };
  }
  const delta = om !== null && nm !== null ? nm - om : 0;
  const significant = p! < opts.alpha && Math.abs(delta) >= opts.minEffectMs;
  const verdict: Verdict =
    significant && change! > threshold
      ? 'regression'
      : significant && change! < -threshold
        ? 'improvement'
        : 'unchanged';
  return { ...base, change, pValue: p, test, verdict, detectable };
}

/** The row of `others` that `r` is compared with: the same machine, or with acrossMachines any (its own first). */
function benchMatch(r: BenchResult, others: readonly BenchResult[], across: boolean): BenchResult | undefined {
  const same = others.filter((x) => sameKey(x, r));
  return same.find((x) => sameMachine(x, r)) ?? (across ? same[0] : undefined);
}

/** A row the other report has on another machine only: listed, not compared, never failing. */
function otherMachineRow(
  column: MetricColumn<BenchResult>,
  r: BenchResult,
  others: readonly BenchResult[],
  side: 'old' | 'new',
): ComparisonRow {
  const there = [...new Set(others.filter((x) => sameKey(x, r)).map(machineLabel))].join(', ');
  return {
    ...absentRow(
      column,
      r,
      keysOf(r),
      side,
      `measured on ${there} in the ${side === 'old' ? 'new' : 'old'} report (--across-machines compares them)`,
    ),
    machine: machineLabel(r),
    verdict: 'not compared',
    gates: false,
  };
}

/** A pair one side measured under emulation: its time says nothing, so nothing is compared. */
function emulatedRow(o: BenchResult, machine: string, how: string): ComparisonRow {
  return {
    ...keysOf(o),
    machine,
    metric: 'latency',
    old: null,
    new: null,
    shown: [NOT_MEANINGFUL, NOT_MEANINGFUL],
    change: null,
    changeKind: 'relative',
    pValue: null,
    test: null,
    verdict: 'not compared',
    gates: false,
    note: `emulated (${how}): latency not meaningful`,
  };
}

/** The runtime's telemetry ran on one side only: part of any difference may be its doing. */
function telemetryChange(o: BenchResult, n: BenchResult): string | null {
  const [was, is] = [o.runtime.telemetry?.state, n.runtime.telemetry?.state];
  return was && is && was !== is ? `onnxruntime telemetry ${was} → ${is}` : null;
}

function compareBench(a: BenchReport, b: BenchReport, opts: CompareOptions): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const p50 = metricColumn([percentileColumn(50)], 'p50');
  const across = opts.acrossMachines ?? false;
  const matched = new Set<BenchResult>();
  for (const o of a.results) {
    const n = benchMatch(o, b.results, across);
    if (n) matched.add(n);
    if (!n && b.results.some((x) => sameKey(x, o))) {
      rows.push(otherMachineRow(p50, o, b.results, 'old'));
      continue;
    }
    if (!n) {
      const why = [
        ...b.skipped.map((s) => ({ ...s, why: s.reason })),
        ...b.failed.map((f) => ({ ...f, why: f.error })),
      ].find((s) => s.model === o.model.id && s.backend === o.backend);
      rows.push({ ...absentRow(p50, o, keysOf(o), 'old', why?.why), machine: machineLabel(o) });
      continue;
    }
    const crossed = !sameMachine(o, n);
    const machine = pairMachine(o, n);
    const emulated = [o, n].find(isEmulated);
    if (emulated) {
      rows.push(emulatedRow(o, machine, emulation(emulated)!));
      continue;
    }
    for (const m of opts.metrics) {
      const row = latencyRow(
        metricColumn([percentileColumn(m.percentile)], `p${m.percentile}`),
        o,
        n,
        m.threshold,
        opts,
      );
      const note =
        [crossed ? `across machines: ${machine}` : null, telemetryChange(o, n), row.note].filter(Boolean).join('; ') ||
        undefined;
      rows.push({ ...row, machine, ...(note ? { note } : {}) });
    }
  }
  for (const n of b.results) {
    if (matched.has(n)) continue;
    rows.push(
      a.results.some((x) => sameKey(x, n))
        ? otherMachineRow(p50, n, a.results, 'new')
        : { ...absentRow(p50, n, keysOf(n), 'new'), machine: machineLabel(n) },
    );
  }
  return rows;
}

function pointsRow<Row>(column: MetricColumn<Row>, o: Row, n: Row, keys: Keys) {
  const [ov, nv] = [column.metric.value(o), column.metric.value(n)];
  return {
    ...keys,
    metric: column.header,
    old: ov,
    new: nv,
    shown: [column.metric.format(ov), column.metric.format(nv)] as [string, string],
    change: ov === null || nv === null ? null : nv - ov,
    changeKind: 'points' as const,
  };
}

/**
 * Top-1 gates on the tolerance (a drop beyond it is a regression, whatever the
 * p-value: a clip that flips is a real change on these clips), and McNemar's
 * exact test on the clips that flipped says how likely such flips are by chance.
 */
function compareAccuracy(a: AccuracyReport, b: AccuracyReport, opts: CompareOptions): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const [top1, top5] = [metricColumn(accuracyColumns, 'top1'), metricColumn(accuracyColumns, 'top5')];
  for (const o of a.runs) {
    const n = b.runs.find((r) => sameKey(r, o));
    if (!n) {
      rows.push(absentRow<AccuracyRun>(top1, o, keysOf(o), 'old'));
      continue;
    }
    const after = new Map(n.clips.map((c) => [c.file, c.correct1]));
    const nowWrong = o.clips.filter((c) => c.correct1 && after.get(c.file) === false).map((c) => c.file);
    const nowRight = o.clips.filter((c) => !c.correct1 && after.get(c.file) === true).map((c) => c.file);
    const r1 = pointsRow(top1, o, n, keysOf(o));
    const change = r1.change ?? 0;
    const verdict: Verdict =
      change < -opts.top1Tolerance - 1e-12 ? 'regression' : change > 1e-12 ? 'improvement' : 'unchanged';
    const notes = [
      nowWrong.length ? `now wrong: ${nowWrong.join(', ')}` : '',
      nowRight.length ? `now right: ${nowRight.join(', ')}` : '',
    ];
    rows.push({
      ...r1,
      pValue: mcNemarExactP(nowWrong.length, nowRight.length),
      test: `McNemar exact, ${nowWrong.length} + ${nowRight.length} flipped clips`,
      verdict,
      gates: true,
      note: notes.filter(Boolean).join('; ') || undefined,
    });
    rows.push({ ...pointsRow(top5, o, n, keysOf(o)), pValue: null, test: null, verdict: 'unchanged', gates: false });
  }
  for (const n of b.runs)
    if (!a.runs.some((r) => sameKey(r, n))) rows.push(absentRow<AccuracyRun>(top1, n, keysOf(n), 'new'));
  return rows;
}

function compareParity(a: ParityReport, b: ParityReport): ComparisonRow[] {
  const agreement = metricColumn(parityColumns(b.config.minAgreement), 'agreement');
  const same = (x: ParityPair, y: ParityPair) => sameKey(x, y) && x.reference === y.reference;
  const keys = (p: ParityPair) => ({ model: p.model.id, backend: `${p.backend} vs ${p.reference}` });
  const rows: ComparisonRow[] = a.pairs.map((o) => {
    const n = b.pairs.find((p) => same(p, o));
    if (!n) return absentRow(agreement, o, keys(o), 'old');
    const passes = pairPasses(n, b.config.minAgreement);
    return {
      ...pointsRow(agreement, o, n, keys(o)),
      pValue: null,
      test: null,
      verdict: passes ? 'unchanged' : 'regression',
      gates: true,
    };
  });
  for (const n of b.pairs) if (!a.pairs.some((p) => same(p, n))) rows.push(absentRow(agreement, n, keys(n), 'new'));
  return rows;
}

/**
 * A live figure tested with the runs as the unit (exact Mann-Whitney on one
 * value per run). `worse` says which way is a regression; `threshold` is a
 * relative change for figures that can be relative, and drops, whose old
 * value is often zero, change in points.
 */
function liveRow(
  column: MetricColumn<LiveResult>,
  o: LiveResult,
  n: LiveResult,
  worse: 'higher' | 'lower',
  threshold: number,
  changeKind: 'relative' | 'points',
  opts: CompareOptions,
): ComparisonRow {
  const [oldVals, newVals] = [column.metric.perProcess?.(o) ?? [], column.metric.perProcess?.(n) ?? []];
  const [om, nm] = [column.metric.value(o), column.metric.value(n)];
  const change = om === null || nm === null ? null : changeKind === 'points' ? nm - om : om ? nm / om - 1 : null;
  const base = {
    ...keysOf(o),
    metric: column.header,
    old: om,
    new: nm,
    shown: [column.metric.format(om), column.metric.format(nm)] as [string, string],
    change,
    changeKind,
    test: `Mann-Whitney, ${oldVals.length} vs ${newVals.length} runs`,
    gates: true,
  };
  const reachable =
    oldVals.length > 0 && newVals.length > 0 && smallestMannWhitneyP(oldVals.length, newVals.length) < opts.alpha;
  if (!reachable)
    return {
      ...base,
      pValue: null,
      verdict: 'inconclusive',
      note: `not testable at alpha ${opts.alpha}: needs 5 or more runs a side (live --runs)`,
    };
  const p = mannWhitneyP(oldVals, newVals);
  const bigEnough =
    changeKind === 'points' || column.id !== 'e2eP99' || Math.abs((nm ?? 0) - (om ?? 0)) >= opts.minEffectMs;
  const significant = p < opts.alpha && bigEnough && change !== null;
  const signed = change === null ? 0 : worse === 'higher' ? change : -change;
  const verdict: Verdict =
    significant && signed > threshold ? 'regression' : significant && signed < -threshold ? 'improvement' : 'unchanged';
  return { ...base, pValue: p, verdict };
}

/**
 * Live reports gate on p99 end-to-end latency and on the share of frames
 * dropped, run by run; a sweep (--fps auto) gates on the max sustainable fps,
 * since its p99 and drops come from whichever rate was highest.
 */
/**
 * `live --streams auto` on both sides: fewer streams is a regression. A capacity is not one sample but the
 * largest N that passed every confirmation run, so the noise guard is the confirmation and the threshold: a
 * change within the threshold reads unchanged.
 */
function capacityRow(o: LiveResult, n: LiveResult, threshold: number): ComparisonRow {
  const [om, nm] = [o.capacity?.maxStreams ?? null, n.capacity?.maxStreams ?? null];
  const change = om === null || nm === null || om === 0 ? null : nm / om - 1;
  const confirms = (r: LiveResult) => r.capacity?.steps.filter((s) => s.search === 'confirm').length ?? 0;
  const base = {
    ...keysOf(o),
    metric: 'max streams',
    old: om,
    new: nm,
    shown: [fmt(om, 0), fmt(nm, 0)] as [string, string],
    change,
    changeKind: 'relative' as const,
    pValue: null,
    test: `confirmed N, ${confirms(o)} vs ${confirms(n)} confirmation runs`,
    gates: true,
  };
  if (change === null) return { ...base, verdict: 'inconclusive', note: 'a side has no capacity found' };
  const [os, ns] = [scheduleText({ capacity: o.capacity! }), scheduleText({ capacity: n.capacity! })];
  if (os !== ns) return { ...base, verdict: 'inconclusive', note: `schedules differ: ${os} vs ${ns}` };
  const verdict: Verdict = change < -threshold ? 'regression' : change > threshold ? 'improvement' : 'unchanged';
  return { ...base, verdict };
}

function compareLive(a: LiveReport, b: LiveReport, opts: CompareOptions): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const capacity = a.config.streams === 'auto' && b.config.streams === 'auto';
  const swept = a.config.fps === 'auto' && b.config.fps === 'auto';
  const columns = liveColumns(swept);
  const [p99, drops, maxFps] = [
    metricColumn(columns, 'e2eP99'),
    metricColumn(columns, 'drops'),
    metricColumn(columns, 'maxFps'),
  ];
  const threshold =
    opts.metrics.find((m) => m.percentile === 99)?.threshold ??
    opts.metrics[0]?.threshold ??
    DEFAULT_COMPARE.metrics[0]!.threshold;
  for (const o of a.results) {
    const n = b.results.find((r) => sameKey(r, o));
    if (!n) {
      rows.push(absentRow(swept ? maxFps : p99, o, keysOf(o), 'old'));
      continue;
    }
    if (capacity) rows.push(capacityRow(o, n, threshold));
    else if (swept) rows.push(liveRow(maxFps, o, n, 'lower', threshold, 'relative', opts));
    else {
      rows.push(liveRow(p99, o, n, 'higher', threshold, 'relative', opts));
      rows.push(liveRow(drops, o, n, 'higher', 0, 'points', opts));
    }
  }
  for (const n of b.results)
    if (!a.results.some((r) => sameKey(r, n))) rows.push(absentRow(swept ? maxFps : p99, n, keysOf(n), 'new'));
  return rows;
}

/**
 * Drift is a measurement, not a check: its figures are set side by side (top-1 agreement and the counterfactual's
 * in points, the logits' mean error relative) and never gate, whichever way they moved.
 */
function compareDrift(a: DriftReport, b: DriftReport): ComparisonRow[] {
  const same = (x: DriftResult, y: DriftResult) => sameKey(x, y) && driftReference(x) === driftReference(y);
  const keys = (r: DriftResult) => ({ model: r.model.id, backend: `${r.backend} vs ${driftReference(r)}` });
  const informative = { pValue: null, test: null, verdict: 'informative' as const, gates: false };
  const metrics = [
    { column: metricColumn(driftColumns, 'agreement'), kind: 'points' as const },
    { column: metricColumn(driftColumns, 'meanAbs'), kind: 'relative' as const },
    { column: metricColumn(driftColumns, 'counterfactual'), kind: 'points' as const },
  ];
  const rows: ComparisonRow[] = [];
  for (const o of a.results) {
    const n = b.results.find((r) => same(r, o));
    if (!n) {
      rows.push({ ...absentRow(metrics[0]!.column, o, keys(o), 'old'), gates: false });
      continue;
    }
    for (const { column, kind } of metrics) {
      const [ov, nv] = [column.metric.value(o), column.metric.value(n)];
      const change = ov === null || nv === null ? null : kind === 'points' ? nv - ov : ov ? nv / ov - 1 : null;
      rows.push({
        ...keys(o),
        metric: column.header,
        old: ov,
        new: nv,
        shown: [column.metric.format(ov), column.metric.format(nv)],
        change,
        changeKind: kind,
        ...informative,
      });
    }
  }
  for (const n of b.results)
    if (!a.results.some((r) => same(r, n)))
      rows.push({ ...absentRow(metrics[0]!.column, n, keys(n), 'new'), gates: false });
  return rows;
}

/** Old against new, per (model, backend), by the rules of the reports' kind. */
export function compareReports(a: Report, b: Report, opts: CompareOptions = DEFAULT_COMPARE): Comparison {
  let rows: ComparisonRow[];
  if (a.kind === 'bench' && b.kind === 'bench') rows = compareBench(a, b, opts);
  else if (a.kind === 'accuracy' && b.kind === 'accuracy') rows = compareAccuracy(a, b, opts);
  else if (a.kind === 'parity' && b.kind === 'parity') rows = compareParity(a, b);
  else if (a.kind === 'live' && b.kind === 'live') rows = compareLive(a, b, opts);
  else if (a.kind === 'drift' && b.kind === 'drift') rows = compareDrift(a, b);
  else throw new UserError(`cannot compare a ${a.kind} report with a ${b.kind} report`);
  const p50Ratios = rows.filter((r) => r.metric === 'p50 ms' && r.change !== null).map((r) => 1 + r.change!);
  return {
    kind: a.kind,
    rows,
    warnings: envWarnings(a, b),
    mismatches: settingMismatches(a, b),
    geomeanP50Ratio: geometricMean(p50Ratios),
    regressions: rows.filter((r) => r.gates && (r.verdict === 'regression' || r.verdict === 'missing')).length,
  };
}
