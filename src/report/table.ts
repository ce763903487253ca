import type { BenchResult, Failed, ModelInfo, OpProfile, Skipped } from '../core/results.js';
import type { LiveResult } from '../live/result.js';
import { MIN_TRIAL_FRAMES, MIN_TRIAL_MS } from '../live/sweep.js';
import { accuracyColumnsOn, benchColumns, liveColumns, parityColumns, type Column } from './columns.js';
import { DETECTABLE_CAP } from '../metrics/detectable.js';
import type { Comparison, ComparisonRow } from './compare.js';
import { comparisonColumns } from './comparison-columns.js';
import { renderTable, type TableOptions } from './export.js';
import { fmt, pct, rooflineVerdict } from './format.js';
import {
  byMachine,
  emulatedRunLines,
  machinesLine,
  machinesOf,
  measurementCaveats,
  processesText,
  resultName,
  rowName,
  timedResults,
} from './machines.js';
import type { AccuracyReport, BenchReport, LiveReport, ParityReport, Report } from './schema.js';

/** A profiling run in one line: the op types that take most of the node time, and the slowest node. */
function profileLine(r: BenchResult, p: OpProfile, machines: number): string {
  const name = rowName(r, machines);
  if (!p.available) return `profile ${name}: none (${p.source})`;
  const ops = p.byOp
    .slice(0, 5)
    .map((o) => `${o.op} ${pct(o.share, 0)} (${o.msPerFrame.toFixed(2)} ms)`)
    .join(', ');
  const top = p.topNodes[0];
  return `profile ${name} (${p.source}, separate untimed run of ${p.frames} frames, ${p.totalMsPerFrame.toFixed(2)} ms of nodes per frame): ${ops}${top ? `; slowest node ${top.node} (${top.op}) ${top.msPerFrame.toFixed(2)} ms` : ''}`;
}

/** The probe's peak for the arithmetic the row does not run in, for scale. */
function otherPeak(x: NonNullable<BenchResult['roofline']>): string {
  return x.dtype === 'int8' ? `fp32 ${x.probe.fp32GmacPerS.toFixed(1)}` : `int8 ${x.probe.int8GmacPerS.toFixed(1)}`;
}

/** Achieved GMAC/s beside the runtime's probed peak, one line per row that has it. */
function rooflineLine(r: BenchResult, machines = 1): string[] {
  const x = r.roofline;
  if (!x) return [];
  const achieved = `${x.achievedGmacPerS.toFixed(2)} GMAC/s at p50 = ${rooflineVerdict(x)}`;
  return [`roofline ${rowName(r, machines)}: ${achieved} (probe: ${x.probe.op}; ${otherPeak(x)})`];
}

/** Native TFLite rows: what the delegate took and what stayed on built-in kernels. */
function kernelsLine(r: BenchResult, machines = 1): string[] {
  const k = r.runtime.kernels;
  if (!k) return [];
  const delegate = k.delegate
    ? `${k.delegate} (${k.delegateFlags.join('+')}) took ${k.delegatedNodes}/${k.nodes} nodes in ${k.partitions} partitions`
    : `no delegate: all ${k.nodes} nodes on built-in kernels`;
  const left = k.builtinOps.map((o) => `${o.op}×${o.nodes}`).join(' ');
  const builtin = k.delegate && left ? `; built-in: ${left} (${pct(k.builtinMacShare)} of MACs)` : '';
  return [`kernels ${rowName(r, machines)}: TFLite ${k.tfliteVersion}, ${delegate}${builtin}`];
}

/** The source page's figures, once per model, under the table instead of in four columns of every row. */
function referenceLines(models: readonly ModelInfo[], opts: TableOptions): string[] {
  const seen = new Set<string>();
  return models.flatMap((m) => {
    const r = m.reference;
    if (!r || seen.has(m.id)) return [];
    seen.add(m.id);
    const parts = [
      r.sizeMB === null ? null : `${r.sizeMB} MB`,
      r.top1 === null ? null : `${r.top1}% top-1`,
      r.pixel4Ms === null ? null : `Pixel 4 ${r.pixel4Ms} ms`,
      r.pixel3Ms === null ? null : `Pixel 3 ${r.pixel3Ms} ms`,
      r.paperFloatStreamTop1 === null ? null : `paper float stream top-1 ${r.paperFloatStreamTop1}%`,
    ].filter((x) => x !== null);
    const note = m.note ? [`note ${m.id}: ${m.note}`] : [];
    if (opts.wide) return note;
    return [
      ...note,
      `reference ${m.id} (source page, int8, 1 CPU thread, phones; not this machine): ${parts.join(', ')}`,
    ];
  });
}

/** Skipped and failed pairs go under the table, one line per model and reason, so long reasons do not stretch columns. */
export function notRunLines(skipped: readonly Skipped[], failed: readonly Failed[]): string[] {
  const groups = new Map<string, { head: string; why: string; backends: string[] }>();
  const add = (head: string, why: string, backend: string) => {
    const key = `${head}\u0000${why}`;
    const g = groups.get(key) ?? { head, why, backends: [] };
    g.backends.push(backend);
    groups.set(key, g);
  };
  for (const s of skipped) add(`skipped ${s.model}`, s.reason, s.backend);
  for (const f of failed) add(`failed ${f.model}`, f.error, f.backend);
  return [...groups.values()].map((g) => `${g.head} (${g.backends.join(', ')}): ${g.why}`);
}

const lines = (...parts: (string | string[])[]) => parts.flat().join('\n');

/** A table and the lines that explain it; CSV gets the table alone, so it stays machine-readable. */
const withNotes = (opts: TableOptions, table: string, ...notes: (string | string[])[]) =>
  opts.format === 'csv' ? table : lines(table, ...notes);

export function benchTable(report: BenchReport, opts: TableOptions = {}): string {
  const c = report.config;
  const procs = `, ${processesText(report.results)}`;
  const rows = byMachine(report.results);
  const machines = machinesOf(rows).length;
  return withNotes(
    opts,
    renderTable(benchColumns(c.percentiles, machines), rows, opts),
    machinesLine(rows),
    measurementCaveats(rows),
    notRunLines(report.skipped, report.failed),
    timedResults(rows).flatMap((r) => r.warnings.map((w) => `warning ${rowName(r, machines)}: ${w}`)),
    timedResults(rows).flatMap((r) => (r.profile ? [profileLine(r, r.profile, machines)] : [])),
    rows.flatMap((r) => kernelsLine(r, machines)),
    timedResults(rows).flatMap((r) => rooflineLine(r, machines)),
    `${c.threads} thread(s), ${c.frames} frames x ${c.repeats} repeat(s) after ${c.warmup} warm-up, input ${c.input}${procs}. ×RT = frame period / p50; ovh = p50(step loop) / p50(bare runtime loop).`,
    referenceLines(
      report.results.map((r) => r.model),
      opts,
    ),
  );
}

export function accuracyTable(report: AccuracyReport, opts: TableOptions = {}): string {
  const misses = report.runs.flatMap((r) =>
    r.clips
      .filter((c) => !c.correct1)
      .map((c) => {
        const got =
          c.status === 'error'
            ? `error: ${c.error}`
            : c.top5
                .slice(0, 3)
                .map((p) => `${p.label} ${pct(p.prob)}`)
                .join(', ');
        return `  ${r.backend}: ${c.file} (${c.label}) -> ${got}`;
      }),
  );
  return withNotes(
    opts,
    renderTable(accuracyColumnsOn(Boolean(report.environment.emulated)), report.runs, opts),
    emulatedRunLines(report.environment),
    notRunLines(report.skipped, report.failed),
    misses.length ? ['wrong or failed clips:', ...misses] : [],
    report.agreement.map(
      (a) =>
        `agreement ${a.backends.join(' vs ')}: final top-1 ${pct(a.clipTop1)} of clips, per-frame top-1 ${pct(a.frameTop1)}`,
    ),
    (report.decoding ?? []).map(
      (d) =>
        `decoding ${d.model}: ${d.clips} clip(s) decoded once for ${d.backends.length} backend(s)${d.fromCache ? `, ${d.fromCache} read from the frame cache` : ''}; wall ${(d.wallMs / 1000).toFixed(1)} s = ${fmt(d.wallMs / d.inferenceMs)} x inference ${(d.inferenceMs / 1000).toFixed(1)} s; waited ${(d.decodeWaitMs / 1000).toFixed(1)} s for frames (${pct(d.decodeWaitMs / d.wallMs)} of wall)`,
    ),
    report.config.dataset.missingClips
      ? `${report.config.dataset.missingClips} listed clip(s) were not found and are not counted (--allow-missing-clips).`
      : [],
    `* reference top-1 is on the full Kinetics-600 validation set (~28k clips); ours is on ${report.config.dataset.clips} clips of ${report.config.dataset.name}: a different measurement with a wide interval. wait = time the model waited on the decoder.`,
    referenceLines(
      report.runs.map((r) => r.model),
      opts,
    ),
  );
}

export function parityTable(report: ParityReport, opts: TableOptions = {}): string {
  const min = report.config.minAgreement;
  const bad = report.pairs.flatMap((p) =>
    p.clips
      .filter((c) => !c.match)
      .map((c) => `${p.backend}: ${c.file} ${c.error ?? `final top-1 ${c.finalTop1[0]} vs ${c.finalTop1[1]}`}`),
  );
  return withNotes(
    opts,
    renderTable(parityColumns(min), report.pairs, opts),
    emulatedRunLines(report.environment),
    notRunLines(report.skipped, report.failed),
    bad,
    `parity ${report.passed ? 'passed' : 'FAILED'} (every clip's final top-1 must match; per-frame top-1 agreement >= ${pct(min)})`,
  );
}

/** What a live config asked for, in words; shared by the table and the page. */
export function liveConfigLine(report: LiveReport): string {
  const c = report.config;
  const rate =
    c.fps === 'auto'
      ? "delivery rate swept (--fps auto) up from each model's fps"
      : c.fps === null
        ? "delivered at each model's fps (real time)"
        : `delivered at ${c.fps} fps`;
  const duration =
    c.fps === 'auto'
      ? `trials of at least ${MIN_TRIAL_MS / 1000} s and ${MIN_TRIAL_FRAMES} frames, the clip decoded before the sweep and cycled`
      : `${c.durationS === null ? (c.loop ? 'a minute' : 'the clip once') : `${c.durationS} s`} per run${c.loop ? ' (looped)' : ''}`;
  return `${c.input}: ${rate}, policy ${c.policy}, ${duration}, ${c.runs} run(s) per pair (each a fresh stream from zero state in one process), ${c.threads} thread(s), ${c.warmup} warm-up frames.`;
}

/** The top-1 of a run over time, as stretches of one label: when it settles is what a viewer sees. */
export function top1Stretches(r: LiveResult, run = 0, max = 8): string[] {
  const f = r.runs[run]?.frames;
  if (!f) return [];
  const out: string[] = [];
  for (let i = 0; i < f.top1.length;) {
    let j = i;
    let probs = 0;
    while (j < f.top1.length && f.top1[j] === f.top1[i]) probs += f.top1Prob[j++]!;
    out.push(
      `${fmt(f.captureMs[i]! / 1000, 1)} s ${r.labels[f.top1[i]!] ?? `class_${f.top1[i]}`} (${pct(probs / (j - i), 0)})`,
    );
    i = j;
  }
  return out.length > max ? [...out.slice(0, max - 1), `… ${out.length - max} more`, out[out.length - 1]!] : out;
}

export function liveTable(report: LiveReport, opts: TableOptions = {}): string {
  const sweeps = report.results.flatMap((r) =>
    r.runs.flatMap((run, i) =>
      run.sweep
        ? [
            `max sustainable fps ${r.model.id} ${r.backend}${r.runs.length > 1 ? ` run ${i + 1}` : ''}: ${run.maxSustainableFps === null ? `none (not even ${r.modelFps} fps)` : `${fmt(run.maxSustainableFps, 1)} (${fmt(run.maxSustainableFps / r.modelFps, 1)}x the ${r.modelFps} fps the model was trained for)`}; tried ${run.sweep.map((p) => `${fmt(p.fps, 1)} ${p.sustained ? 'ok' : p.dropped ? `${p.dropped} dropped` : 'late'}`).join(', ')}`,
          ]
        : [],
    ),
  );
  return withNotes(
    opts,
    renderTable(liveColumns(report.config.fps === 'auto'), report.results, opts),
    report.interrupted ? 'INTERRUPTED: stopped by a signal; the figures cover what ran before it.' : [],
    notRunLines(report.skipped, report.failed),
    report.results.flatMap((r) => r.warnings.map((w) => `warning ${r.model.id} ${r.backend}: ${w}`)),
    sweeps,
    report.results.map((r) => `top-1 over time ${r.model.id} ${r.backend}: ${top1Stretches(r).join(' -> ')}`),
    liveConfigLine(report),
    "e2e = capture to logits ready (ms); jitter = std of the intervals between outputs (ms); CPU = this process's CPU time / wall time (100% = one core; ffmpeg not included); figures are medians over runs.",
  );
}

export function reportTable(report: Report, opts: TableOptions = {}): string {
  switch (report.kind) {
    case 'bench':
      return benchTable(report, opts);
    case 'accuracy':
      return accuracyTable(report, opts);
    case 'parity':
      return parityTable(report, opts);
    case 'live':
      return liveTable(report, opts);
  }
}

/** A comparison as a table with its verdict lines; md for pull requests and job summaries. */
export function comparisonTable(result: Comparison, opts: TableOptions = {}): string {
  const md = opts.format === 'md';
  const ratio = result.geomeanP50Ratio;
  const verdict = result.regressions ? `${result.regressions} regression(s)` : 'no regression';
  const machines = comparedMachines(result.rows);
  return lines(
    renderTable(comparisonColumnsOn(machines), result.rows, opts),
    md ? '' : [],
    result.mismatches.map((w) => `${md ? '- ' : ''}settings differ: ${w}`),
    result.warnings.map((w) => `${md ? '- ' : ''}warning: ${w}`),
    ratio === null
      ? []
      : `geometric mean of new/old p50 over ${result.rows.filter((r) => r.metric === 'p50 ms' && r.change !== null).length} pair(s): ${ratio.toFixed(3)}`,
    detectableLine(result.rows, md, machines),
    md ? `**${verdict}**` : verdict,
  );
}

/** How many machines the compared rows name (an across-machines pair, "old → new", counts as one). */
const comparedMachines = (rows: readonly ComparisonRow[]): number =>
  new Set(rows.flatMap((r) => (r.machine === undefined ? [] : [r.machine]))).size;

/** The machine column is wide (exports only) unless the rows come from several machines: then it names each row's. */
function comparisonColumnsOn(machines: number): Column<ComparisonRow>[] {
  return comparisonColumns.map((c) => (c.id === 'machine' ? { ...c, wide: machines < 2 } : c));
}

/** What the run could have seen: per latency row, the smallest slow-down its test catches 80 % of the time. */
function detectableLine(rows: readonly ComparisonRow[], md: boolean, machines: number): string[] {
  const tested = rows.filter((r) => r.detectable !== undefined);
  if (tested.length === 0) return [];
  const name = (r: ComparisonRow) => resultName({ backend: r.backend, machine: r.machine ?? '' }, machines);
  const each = tested.map(
    (r) => `${r.model} ${name(r)} ${r.metric.replace(/ ms$/, '')} ${detectableText(r.detectable!)}`,
  );
  return [
    `${md ? '- ' : ''}smallest slow-down this run could detect (80 % power at its alpha; resampled from the observed spread, separate from --threshold and --min-effect): ${each.join(', ')}`,
  ];
}

function detectableText(d: number | null): string {
  if (d === null) return 'none (too few processes to test)';
  return d >= DETECTABLE_CAP ? 'over +200%' : `+${(d * 100).toFixed(1)}%`;
}
