import { accuracyColumnsOn, benchColumns, parityColumns } from '../columns.js';
import type { Machine } from '../../core/results.js';
import { fmt, pct, round } from '../format.js';
import {
  emulatedRunLines,
  machineLabel,
  machinesOf,
  measurementCaveats,
  processesText,
  rowName,
  timedResults,
} from '../machines.js';
import type { AccuracyReport, BenchReport, ParityReport } from '../schema.js';
import { chart, PLOT, seriesColor, slug } from './charts.js';
import {
  columnTable,
  detailsList,
  esc,
  notRunDetails,
  plainTable,
  plural,
  runHeading,
  section,
  type Html,
  type PageContext,
  type Section,
} from './page.js';

/** The machines behind the rows, beside the source page's phones: machines too, but quoted, not measured. */
function machinesTable(machines: readonly Machine[]): Html {
  const measured = machines.map((m) => [m.label, m.cpuModel, String(m.cpuCores), m.os, m.node, 'measured here']);
  const quoted = ['Pixel 4', 'Pixel 3'].map((p) => [
    p,
    '(phone)',
    '–',
    'Android',
    '–',
    'quoted from the source page, not measured',
  ]);
  return plainTable(
    [
      { header: 'machine', text: true },
      { header: 'CPU', text: true },
      { header: 'cores' },
      { header: 'OS', text: true },
      { header: 'Node', text: true },
      { header: 'figures', text: true },
    ],
    [...measured, ...quoted],
  );
}

/** Page notes, one paragraph per line. */
const caveatNotes = (lines: readonly string[]): Html =>
  lines.map((line) => `<p class="note caveat">${esc(line)}</p>`).join('\n');

const SOURCE_FIGURES = "the source page's figures (int8, 1 CPU thread, TFLite benchmark tool, on phones)";
/** What the bench table's derived columns mean, and whose figures the reference columns are. */
const BENCH_LEGEND = [
  'p50 CI: over processes when there are several, else over frames.',
  '×RT = frame period / p50.',
  'ovh = p50 of the step loop / p50 of the bare runtime loop.',
  `The ref and Pixel columns are ${SOURCE_FIGURES}, not measured here.`,
].join(' ');

function benchTables(ctx: PageContext, r: BenchReport, many: boolean): Html {
  const c = r.config;
  const warnings = timedResults(r.results).flatMap((x) =>
    x.warnings.map((w) => `${rowName(x, ctx.machines.length)}: ${w}`),
  );
  // Each machine's runtime is its own: the same backend may be another build there.
  const runtimes = r.results.map((x) => {
    const rt = x.runtime;
    const name = ctx.nameOf({ backend: x.backend, machine: machineLabel(x) });
    return `${name}: ${rt.package} ${rt.version} (${rt.build}); threads: ${rt.threads.enforcement}`;
  });
  const machines = machinesOf(r.results);
  // One table per machine: rows of two machines are never pooled, and never read as one.
  const tables = machines.map((m) => {
    const rows = r.results.filter((x) => machineLabel(x) === m.label);
    const heading = machines.length > 1 ? `<h4>${esc(m.label)}</h4>` : '';
    return `${heading}${columnTable(benchColumns(c.percentiles), rows)}`;
  });
  const passes = `${esc(c.frames)} frames × ${esc(c.repeats)} repeat(s) after ${esc(c.warmup)} warm-up frames`;
  return [
    runHeading(ctx, r, many),
    `<p>${esc(c.threads)} thread(s); ${passes}, ${esc(processesText(r.results))}; input ${esc(c.input)}.</p>`,
    machinesTable(machines),
    ...tables,
    caveatNotes(measurementCaveats(r.results)),
    `<p class="note">${BENCH_LEGEND}</p>`,
    notRunDetails(r.skipped, r.failed),
    detailsList(plural(warnings.length, 'measurement warning'), warnings, 'warnings'),
    detailsList(plural(runtimes.length, 'runtime'), runtimes),
  ].join('\n');
}

export const benchTablesSection: Section = (ctx) =>
  ctx.bench.length
    ? section(
        'latency-tables',
        'Latency tables',
        ctx.bench.map((r) => benchTables(ctx, r, ctx.bench.length > 1)).join('\n'),
      )
    : null;

function accuracyTables(ctx: PageContext, r: AccuracyReport, many: boolean): Html {
  const c = r.config;
  const wrong = r.runs.flatMap((x) =>
    x.clips
      .filter((clip) => !clip.correct1)
      .map((clip) => [
        x.model.id,
        x.backend,
        clip.file,
        clip.label,
        clip.status === 'error'
          ? `error: ${clip.error ?? 'unknown'}`
          : clip.top5.map((p) => `${p.label} ${pct(p.prob)}`).join(', '),
      ]),
  );
  const agreement = r.agreement.map((a) => [a.model, a.backends.join(' vs '), pct(a.clipTop1), pct(a.frameTop1)]);
  const missing = c.dataset.missingClips
    ? ` ${plural(c.dataset.missingClips, 'listed clip')} not found and not counted.`
    : '';
  const shard = c.shard ? ` (shard ${c.shard.index}/${c.shard.count})` : '';
  const clips = `${esc(c.dataset.clips)} clips of ${esc(c.dataset.name)}${shard}, ${esc(c.resize)}, ${esc(c.fps)} fps`;
  const theirs = "* The source page's and the paper's top-1 are on the full Kinetics-600 validation set";
  const ours = `ours is on ${esc(c.dataset.clips)} clips, with a wide interval: compare intervals, not points`;
  const latency = 'Latency here is measured while decoding runs on the other core; use the bench figures.';
  return [
    runHeading(ctx, r, many),
    `<p>${clips}; a clip's prediction is its final frame's logits.${esc(missing)}</p>`,
    columnTable(accuracyColumnsOn(Boolean(r.environment.emulated)), r.runs),
    caveatNotes(emulatedRunLines(r.environment)),
    `<p class="note">${theirs}; ${ours}. ${latency}</p>`,
    notRunDetails(r.skipped, r.failed),
    agreement.length
      ? plainTable(
          [
            { header: 'model', text: true },
            { header: 'backends', text: true },
            { header: 'same final top-1' },
            { header: 'same per-frame top-1' },
          ],
          agreement,
        )
      : '',
    wrong.length
      ? `<details class="warnings"><summary>${esc(plural(wrong.length, 'wrong or failed clip'))}</summary>${plainTable(
          [
            { header: 'model', text: true },
            { header: 'backend', text: true },
            { header: 'clip', text: true },
            { header: 'label', text: true },
            { header: 'predicted top-5', text: true, wrap: true },
          ],
          wrong,
        )}</details>`
      : '<p>Every clip right at top-1.</p>',
  ].join('\n');
}

/** Top-1 if every clip had stopped after t seconds, per model across the accuracy reports. */
function timeSeenChart(ctx: PageContext, model: string): Promise<Html> | null {
  const runs = ctx.accuracy.flatMap((a) =>
    a.runs
      .filter((x) => x.model.id === model && x.summary.top1ByFramesSeen.length)
      .map((run) => ({ a, run, series: ctx.accuracyName(a, run.backend) })),
  );
  if (runs.length === 0) return null;
  const longest = Math.max(...runs.map((x) => x.run.summary.top1ByFramesSeen.length));
  const step = Math.max(1, Math.ceil(longest / 400));
  const rows = runs.flatMap(({ a, run, series }) =>
    run.summary.top1ByFramesSeen.flatMap((top1, i) =>
      i % step === 0 || i === run.summary.top1ByFramesSeen.length - 1
        ? [{ series, seconds: round((i + 1) / a.config.fps, 3), top1: round(top1, 5) }]
        : [],
    ),
  );
  const spec = {
    ...PLOT,
    data: { values: rows },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'video seen (s)', scale: { zero: true } },
      y: {
        field: 'top1',
        type: 'quantitative',
        title: 'top-1 accuracy (% of clips)',
        scale: { domain: [0, 1] },
        axis: { format: '%' },
      },
      color: seriesColor(
        ctx,
        runs.map((x) => x.series),
      ),
    },
  };
  const title = `<b>Top-1 if every clip had stopped after t seconds, ${esc(model)}</b>`;
  const sampled = step > 1 ? `; every ${step}th frame drawn` : '';
  return chart(spec, {
    id: `top1-seen-${slug(model)}`,
    description: `Top-1 of ${model} against seconds of video seen`,
    caption: `${title} (a shorter clip keeps its last prediction)${sampled}.`,
  });
}

export const accuracySection: Section = async (ctx) => {
  if (ctx.accuracy.length === 0) return null;
  const tables = ctx.accuracy.map((r) => accuracyTables(ctx, r, ctx.accuracy.length > 1));
  const charts = (await Promise.all(ctx.models.map((m) => timeSeenChart(ctx, m)))).filter((x) => x !== null);
  return section(
    'accuracy',
    'Accuracy',
    `${tables.join('\n')}\n${charts.length ? `<div class="charts">${charts.join('')}</div>` : ''}`,
  );
};

function parityTables(ctx: PageContext, r: ParityReport, many: boolean): Html {
  const c = r.config;
  const clips = r.pairs.flatMap((p) =>
    p.clips.map((clip) => [
      p.model.id,
      `${p.backend} vs ${p.reference}`,
      clip.file,
      String(clip.frames),
      pct(clip.frameTop1Agreement, 2),
      fmt(clip.maxAbsLogitDiff, 3),
      fmt(clip.maxAbsProbDiff, 4),
      clip.match ? 'yes' : (clip.error ?? 'NO'),
    ]),
  );
  const bad = r.pairs.flatMap((p) =>
    p.clips
      .filter((clip) => !clip.match)
      .map(
        (clip) =>
          `${p.backend}: ${clip.file} ${clip.error ?? `final top-1 ${clip.finalTop1[0]} vs ${clip.finalTop1[1]}`}`,
      ),
  );
  const verdict = `<b class="${r.passed ? 'good' : 'bad'}">${r.passed ? 'passed' : 'FAILED'}</b>`;
  const top1 = "every clip's final top-1 must match the reference's";
  const agreement = `per-frame top-1 agreement must be at least ${esc(pct(c.minAgreement, 2))}`;
  return [
    runHeading(ctx, r, many),
    `<p>${verdict}: ${esc(c.dataset.clips)} clips of ${esc(c.dataset.name)}; ${top1} and ${agreement}.</p>`,
    columnTable(parityColumns(c.minAgreement), r.pairs),
    caveatNotes(emulatedRunLines(r.environment)),
    notRunDetails(r.skipped, r.failed),
    bad.length ? `<ul class="bad">${bad.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>` : '',
    clips.length
      ? `<details><summary>${esc(plural(clips.length, 'clip'))}, one row per clip and pair</summary>${plainTable(
          [
            { header: 'model', text: true },
            { header: 'backend', text: true },
            { header: 'clip', text: true },
            { header: 'frames' },
            { header: 'frame top-1 agreement' },
            { header: 'max |Δlogit|' },
            { header: 'max |Δprob|' },
            { header: 'final top-1 matches', text: true },
          ],
          clips,
        )}</details>`
      : '',
  ].join('\n');
}

export const paritySection: Section = (ctx) =>
  ctx.parity.length
    ? section('parity', 'Parity', ctx.parity.map((r) => parityTables(ctx, r, ctx.parity.length > 1)).join('\n'))
    : null;
