import type {
  Agreement,
  BenchResult,
  Decoding,
  DriftResult,
  DriftState,
  DriftTrend,
  Failed,
  ModelInfo,
  OpProfile,
  Skipped,
} from '../core/results.js';
import type { LiveResult, LiveRun, SweepPoint } from '../live/result.js';
import { MIN_TRIAL_MS } from '../live/sweep.js';
import { minFrames } from '../metrics/early-stopping.js';
import {
  accuracyColumnsOn,
  benchColumns,
  capacityColumns,
  driftColumns,
  liveColumns,
  parityColumns,
  stateName,
  trendText,
  type Column,
} from './columns.js';
import { DETECTABLE_CAP } from '../metrics/detectable.js';
import type { Comparison, ComparisonRow } from './compare.js';
import { comparisonColumns } from './comparison-columns.js';
import { renderTable, type TableOptions } from './export.js';
import { fmt, gmacs, p50Ratio, pct, rooflineVerdict, seconds, signedChange, slope } from './format.js';
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
import type {
  AccuracyReport,
  BenchReport,
  DriftReport,
  LiveConfig,
  LiveReport,
  ParityReport,
  Report,
} from './schema.js';

/** A profiling run in one line: the op types that take most of the node time, and the slowest node. */
function profileLine(r: BenchResult, p: OpProfile, machines: number): string {
  const name = rowName(r, machines);
  if (!p.available) return `profile ${name}: none (${p.source})`;
  const ops = p.byOp
    .slice(0, 5)
    .map((o) => `${o.op} ${pct(o.share, 0)} (${fmt(o.msPerFrame, 2)} ms)`)
    .join(', ');
  const top = p.topNodes[0];
  const perFrame = `${fmt(p.totalMsPerFrame, 2)} ms of nodes per frame`;
  const run = `${p.source}, separate untimed run of ${p.frames} frames, ${perFrame}`;
  const slowest = top ? `; slowest node ${top.node} (${top.op}) ${fmt(top.msPerFrame, 2)} ms` : '';
  return `profile ${name} (${run}): ${ops}${slowest}`;
}

/** The probe's peak for the arithmetic the row does not run in, for scale. */
function otherPeak(x: NonNullable<BenchResult['roofline']>): string {
  return x.dtype === 'int8' ? `fp32 ${gmacs(x.probe.fp32GmacPerS)}` : `int8 ${gmacs(x.probe.int8GmacPerS)}`;
}

/** Achieved GMAC/s beside the runtime's probed peak, one line per row that has it. */
function rooflineLine(r: BenchResult, machines = 1): string[] {
  const x = r.roofline;
  if (!x) return [];
  const achieved = `${gmacs(x.achievedGmacPerS, 2)} GMAC/s at p50 = ${rooflineVerdict(x)}`;
  return [`roofline ${rowName(r, machines)}: ${achieved} (probe: ${x.probe.op}; ${otherPeak(x)})`];
}

/** Native TFLite rows: what the delegate took and what stayed on built-in kernels. */
function kernelsLine(r: BenchResult, machines = 1): string[] {
  const k = r.runtime.kernels;
  if (!k) return [];
  const took = `${k.delegatedNodes}/${k.nodes} nodes in ${k.partitions} partitions`;
  const delegate = k.delegate
    ? `${k.delegate} (${k.delegateFlags.join('+')}) took ${took}`
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

/**
 * Skipped and failed pairs go under the table, one line per model and reason, so long reasons do not
 * stretch columns.
 */
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

/** The settings under a bench table, and what its derived columns mean. */
function benchSettingsLine(report: BenchReport): string {
  const c = report.config;
  const run = `${c.threads} thread(s), ${c.frames} frames x ${c.repeats} repeat(s) after ${c.warmup} warm-up`;
  const legend = '×RT = frame period / p50; ovh = p50(step loop) / p50(bare runtime loop).';
  return `${run}, input ${c.input}, ${processesText(report.results)}. ${legend}`;
}

export function benchTable(report: BenchReport, opts: TableOptions = {}): string {
  const c = report.config;
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
    benchSettingsLine(report),
    referenceLines(
      report.results.map((r) => r.model),
      opts,
    ),
  );
}

function agreementLine(a: Agreement): string {
  const same = `final top-1 ${pct(a.clipTop1)} of clips, per-frame top-1 ${pct(a.frameTop1)}`;
  return `agreement ${a.backends.join(' vs ')}: ${same}`;
}

/** How a model's clips were decoded for its backends, and how long inference waited on the decoder. */
function decodingLine(d: Decoding): string {
  const cached = d.fromCache ? `, ${d.fromCache} read from the frame cache` : '';
  const decoded = `${d.clips} clip(s) decoded once for ${d.backends.length} backend(s)${cached}`;
  const wall = `wall ${seconds(d.wallMs)} = ${fmt(d.wallMs / d.inferenceMs)} x inference ${seconds(d.inferenceMs)}`;
  const waited = `waited ${seconds(d.decodeWaitMs)} for frames (${pct(d.decodeWaitMs / d.wallMs)} of wall)`;
  return `decoding ${d.model}: ${decoded}; ${wall}; ${waited}`;
}

/** `accuracy --batch N`: how the clips were stepped, since every step time is then a share of a call. */
function batchLine(batch: number | undefined): string[] {
  if (batch === undefined) return [];
  return [`batched: ${batch} clips at a time through one batched session; p50 ms = a frame's share of its call.`];
}

/** Why our top-1 and the source page's are not one measurement. */
function accuracyFootnote(report: AccuracyReport): string {
  const d = report.config.dataset;
  const theirs = '* reference top-1 is on the full Kinetics-600 validation set (~28k clips)';
  const ours = `ours is on ${d.clips} clips of ${d.name}: a different measurement with a wide interval`;
  return `${theirs}; ${ours}. wait = time the model waited on the decoder.`;
}

export function accuracyTable(report: AccuracyReport, opts: TableOptions = {}): string {
  const missingClips = report.config.dataset.missingClips;
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
    report.agreement.map(agreementLine),
    (report.decoding ?? []).map(decodingLine),
    missingClips ? `${missingClips} listed clip(s) were not found and are not counted (--allow-missing-clips).` : [],
    batchLine(report.config.batch),
    accuracyFootnote(report),
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
  const verdict = report.passed ? 'passed' : 'FAILED';
  const rule = `every clip's final top-1 must match; per-frame top-1 agreement >= ${pct(min)}`;
  return withNotes(
    opts,
    renderTable(parityColumns(min), report.pairs, opts),
    emulatedRunLines(report.environment),
    notRunLines(report.skipped, report.failed),
    bad,
    `parity ${verdict} (${rule})`,
  );
}

/** What a live config asked for, in words; shared by the table and the page. */
export function liveConfigLine(report: LiveReport): string {
  const c = report.config;
  const pace = `${c.input}: ${deliveryRate(c)}, policy ${c.policy}, ${liveDuration(c)}`;
  const runs = `${c.runs} run(s) per pair (each a fresh stream from zero state in one process)`;
  return `${pace}, ${runs}, ${c.threads} thread(s), ${c.warmup} warm-up frames.`;
}

function deliveryRate(c: LiveConfig): string {
  if (c.fps === 'auto') return 'delivery rate swept (--fps auto) from a rate chosen by a few unpaced steps';
  if (c.fps === null) return "delivered at each model's fps (real time)";
  return `delivered at ${c.fps} fps`;
}

/** How long each run streams: a sweep's trials, else a duration, a minute of looping, or the clip once. */
function liveDuration(c: LiveConfig): string {
  if (c.fps === 'auto') {
    const trials = `trials of at least ${MIN_TRIAL_MS / 1000} s and ${minFrames()} frames`;
    const rule = 'sustained = no drop and the early-stopping p99 estimate (99 % confidence) within one period';
    return `${trials}, the clip decoded before the sweep and cycled; ${rule}`;
  }
  const looped = c.loop ? ' (looped)' : '';
  return `${streamLength(c)} per run${looped}`;
}

function streamLength(c: LiveConfig): string {
  if (c.durationS !== null) return `${c.durationS} s`;
  return c.loop ? 'a minute' : 'the clip once';
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
    const label = r.labels[f.top1[i]!] ?? `class_${f.top1[i]}`;
    out.push(`${seconds(f.captureMs[i]!)} ${label} (${pct(probs / (j - i), 0)})`);
    i = j;
  }
  return out.length > max ? [...out.slice(0, max - 1), `… ${out.length - max} more`, out[out.length - 1]!] : out;
}

/** Whether a sweep trial held its rate, and if not, how it failed. */
function trialOutcome(p: SweepPoint): string {
  if (p.sustained) return 'ok';
  return p.dropped ? `${p.dropped} dropped` : 'late';
}

function maxSustainedText(r: LiveResult, max: number | null): string {
  if (max === null) return `none (not even ${r.modelFps} fps)`;
  return `${fmt(max, 1)} (${fmt(max / r.modelFps, 1)}x the ${r.modelFps} fps the model was trained for)`;
}

/** A swept run's highest sustained rate and every rate tried on the way. */
function sweepLine(r: LiveResult, run: LiveRun, i: number, sweep: readonly SweepPoint[]): string {
  const which = r.runs.length > 1 ? ` run ${i + 1}` : '';
  const max = maxSustainedText(r, run.maxSustainableFps);
  const tried = sweep.map((p) => `${fmt(p.fps, 1)} ${trialOutcome(p)}`).join(', ');
  return `max sustainable fps ${r.model.id} ${r.backend}${which}: ${max}; tried ${tried}`;
}

/** What the live table's columns mean. */
const LIVE_LEGEND = `${[
  'e2e = capture to logits ready (ms)',
  'jitter = std of the intervals between outputs (ms)',
  "CPU = this process's CPU time / wall time (100% = one core; ffmpeg not included)",
  'figures are medians over runs',
].join('; ')}.`;

/** What the capacity table's columns mean. */
export const CAPACITY_LEGEND = `${[
  'streams = the most that kept up (--streams auto: confirmed in repeated runs), or N and how many runs passed',
  'naive = frame period / ms per frame',
  'p99 est = early-stopping estimate of p99 end-to-end at 99 % confidence (ms)',
  "ms/frame = step() with the stream states moved in and out (batched: a frame's share of its call)",
  'schedule = streams stepped one by one, or those waiting together in one call of a batched session (states = slots)',
  'with decode = streams left if decoding shared the core',
].join('; ')}.`;

/** Each search step of a capacity row, in order, for the reader who wants to see how N was found. */
function capacitySteps(r: LiveResult): string[] {
  const steps = r.capacity?.steps ?? [];
  const one = (s: (typeof steps)[number]) => `${s.search} ${s.streams}: ${s.pass ? 'pass' : `fail (${s.why})`}`;
  return steps.length ? [`steps ${r.model.id} ${r.backend}: ${steps.map(one).join(', ')}`] : [];
}

function capacityTable(report: LiveReport, opts: TableOptions): string {
  const rows = report.results.flatMap((r) => (r.capacity ? [{ ...r, capacity: r.capacity }] : []));
  return withNotes(
    opts,
    renderTable(capacityColumns(), rows, opts),
    report.interrupted ? 'INTERRUPTED: stopped by a signal; the figures cover what ran before it.' : [],
    notRunLines(report.skipped, report.failed),
    report.results.flatMap((r) => r.warnings.map((w) => `warning ${r.model.id} ${r.backend}: ${w}`)),
    report.results.flatMap(capacitySteps),
    `${report.config.input}: ${report.config.streams} stream(s), ` +
      `${report.config.phase ?? 'spread'} phases, policy ${report.config.policy}.`,
    CAPACITY_LEGEND,
  );
}

export function liveTable(report: LiveReport, opts: TableOptions = {}): string {
  if (report.config.streams !== undefined) return capacityTable(report, opts);
  const sweeps = report.results.flatMap((r) =>
    r.runs.flatMap((run, i) => (run.sweep ? [sweepLine(r, run, i, run.sweep)] : [])),
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
    LIVE_LEGEND,
  );
}

/** How the reference was established as the same network as the quantized model. */
function sameNetworkLine(r: DriftResult): string {
  const ref = r.reference;
  if (ref.kind === 'dequantized')
    return `reference: ${r.model.id}'s own graph with float activations (weights dequantized) on ${ref.backend}`;
  const n = ref.sameNetwork;
  const how =
    n.how === 'same-file'
      ? 'the same file'
      : `${pct(n.within)} of ${n.values} filter values in ${n.tensors} filters agree within a quantization step`;
  return `reference: ${ref.model.id} on ${ref.backend}, the same network (${how})`;
}

/** A state's error in its unit, mean after the fill-up then at the last frame, and its own trend. */
function stateFigure(s: DriftState): string {
  const unit = s.unit === 'step' ? '' : s.unit === 'count' ? ' counts' : ' x ref RMS';
  const figures = `${fmt(s.mean, 3)} -> ${fmt(s.final, 3)}${unit}`;
  return `${stateName(s.name)} ${figures} (bias ${fmt(s.bias, 3)}, ${s.trend.verdict})`;
}

/** What inside the frame adds the error, or why it was not read. */
function insideLines(r: DriftResult): string[] {
  const x = r.inside;
  if (x.note !== null) return [`inside a frame: not read: ${x.note}`];
  const where = `stream ${x.stream}, frame(s) ${x.frames.join(', ')}, ${x.tensors} tensors`;
  const ops = x.byOp
    .slice(0, 5)
    .map((o) => `${o.op} ${fmt(o.added, 3)} (${o.nodes} nodes)`)
    .join(', ');
  const nodes = x.top
    .slice(0, 5)
    .map((t) => `#${t.opIndex} ${t.op} '${t.name}' +${fmt(t.added, 3)} -> ${fmt(t.relativeRms, 3)}`)
    .join('; ');
  return [
    `inside a frame (${where}), relative error added per op type: ${ops}`,
    `  nodes adding most (op, tensor, added -> relative RMS error): ${nodes}`,
  ];
}

/**
 * A trend of a figure where higher is better (agreement, cosine), per 100 frames, which reads better than a change
 * per frame: agreement in points, a cosine as a plain signed number.
 */
function movement(t: DriftTrend, kind: 'points' | 'value'): string {
  const per100 = (v: number) => (kind === 'points' ? signedChange(v * 100, 'points') : slope(v * 100, 2));
  const verdict = t.verdict === 'shrinks' ? 'falls' : t.verdict === 'grows' ? 'rises' : 'steady';
  const interval = `${pct(t.level, 0)}: ${per100(t.low)} to ${per100(t.high)}`;
  return `${verdict} ${per100(t.slopePerFrame)} per 100 frames (${interval})`;
}

/** The reference's top-1 margin where the fitted frames start and at the last frame. */
function marginText(r: DriftResult): string {
  const m = r.logits.perFrame.referenceMargin;
  const [from, to] = [m[r.fillUp], m[m.length - 1]];
  return `${fmt(from, 2)} at frame ${r.fillUp} -> ${fmt(to, 2)} at frame ${m.length - 1} (logits, mean over streams)`;
}

/** What a drift result says in words: the verdict, the states, the counterfactual, inside the frame. */
export function driftLines(r: DriftResult): string[] {
  const t = r.logits.trend;
  const change = t.relativeChange === null ? '' : `, ${signedChange(t.relativeChange, 'relative')} across a stream`;
  const fitted = `frames ${r.fillUp}-${r.framesPerStream - 1} of ${r.streams.length} stream(s)`;
  const lines = [
    `${r.model.id} ${r.backend} vs ${r.reference.model.id} ${r.reference.backend}:`,
    `  ${sameNetworkLine(r)}`,
    `  logits error with frames: ${trendText(t)}, mean |Δlogit| ${fmt(t.mean, 4)}${change} (${fitted})`,
    `  cosine with frames: ${movement(r.logits.cosineTrend, 'value')}; the reference's top-1 margin ${marginText(r)}`,
    `  top-1 agreement with frames: ${movement(r.logits.agreementTrend, 'points')}` +
      (r.counterfactual ? `; fed the reference's states: ${movement(r.counterfactual.agreementTrend, 'points')}` : ''),
    `  states carrying most (RMS error in quantization steps, mean -> last frame; mean signed error): ` +
      (r.states
        .filter((s) => s.mean > 0)
        .slice(0, 5)
        .map(stateFigure)
        .join(', ') || "none: every state equals the reference's"),
  ];
  if (r.verdict.growingStates.length)
    lines.push(`  states whose error grows: ${r.verdict.growingStates.map(stateName).join(', ')}`);
  lines.push(
    `  ${r.passThrough.length} state(s) pass through unchanged (not measured)` +
      (r.passThrough.length ? `: ${r.passThrough.map(stateName).join(', ')}` : ''),
  );
  const c = r.counterfactual;
  if (c) {
    const agree = `top-1 agreement ${pct(c.top1Agreement)} against ${pct(c.carriedTop1Agreement)} carried`;
    const last = `last frame ${pct(c.finalTop1Agreement)} against ${pct(c.finalCarriedTop1Agreement)}`;
    const share = c.carriedShare === null ? '' : `; ${pct(c.carriedShare)} of the disagreeing frames agree when so fed`;
    const change = signedChange(c.difference, 'points');
    lines.push(`  fed the reference's states at every frame: ${agree} (${change}), ${last}${share}`);
  }
  return [...lines, ...insideLines(r).map((l) => `  ${l}`)];
}

/** What the drift table's columns mean. */
export const DRIFT_LEGEND = `${[
  'figures over the frames after the fill-up',
  'mean |Δlogit| = mean over classes and frames',
  "top-1 agree = share of frames whose top-1 is the reference's",
  "fed ref states = the same, the quantized model given the reference's states at every frame",
  'state errors are RMS in the quantization step the model stores the state with (rounding alone: 1/√12 of a step)',
  'slopes per frame with their 95 % interval over streams',
].join('; ')}.`;

export function driftTable(report: DriftReport, opts: TableOptions = {}): string {
  return withNotes(
    opts,
    renderTable(driftColumns, report.results, opts),
    emulatedRunLines(report.environment),
    notRunLines(report.skipped, report.failed),
    report.results.flatMap(driftLines),
    DRIFT_LEGEND,
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
    case 'drift':
      return driftTable(report, opts);
  }
}

/** A comparison as a table with its verdict lines; md for pull requests and job summaries. */
export function comparisonTable(result: Comparison, opts: TableOptions = {}): string {
  const md = opts.format === 'md';
  const bullet = md ? '- ' : '';
  const ratio = result.geomeanP50Ratio;
  const verdict = result.regressions ? `${result.regressions} regression(s)` : 'no regression';
  const machines = comparedMachines(result.rows);
  return lines(
    renderTable(comparisonColumnsOn(machines), result.rows, opts),
    md ? '' : [],
    result.mismatches.map((w) => `${bullet}settings differ: ${w}`),
    result.warnings.map((w) => `${bullet}warning: ${w}`),
    ratio === null ? [] : geomeanLine(result.rows, ratio),
    detectableLine(result.rows, md, machines),
    md ? `**${verdict}**` : verdict,
  );
}

function geomeanLine(rows: readonly ComparisonRow[], ratio: number): string {
  const pairs = rows.filter((r) => r.metric === 'p50 ms' && r.change !== null).length;
  return `geometric mean of new/old p50 over ${pairs} pair(s): ${p50Ratio(ratio)}`;
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
  const how = '80 % power at its alpha; resampled from the observed spread, separate from --threshold and --min-effect';
  return [`${md ? '- ' : ''}smallest slow-down this run could detect (${how}): ${each.join(', ')}`];
}

function detectableText(d: number | null): string {
  if (d === null) return 'none (too few processes to test)';
  return d >= DETECTABLE_CAP ? 'over +200%' : `+${pct(d)}`;
}
