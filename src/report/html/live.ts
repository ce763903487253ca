import type { LiveResult, LiveRun } from '../../live/result.js';
import { liveColumns } from '../columns.js';
import { fmt, round, seconds } from '../format.js';
import type { LiveReport } from '../schema.js';
import { liveConfigLine, top1Stretches } from '../table.js';
import { chart, PLOT, slug } from './charts.js';
import { frameBins, MAX_FRAME_BINS } from './downsample.js';
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

/**
 * Live runs: the table, then per (model, backend) the end-to-end latency of
 * every frame against its capture time with drops marked, the top-1 over
 * time, and for `--fps auto` the sweep. Runs are told apart by color; a
 * dropped frame is a red tick on the time axis.
 */

/** Runs are series of one result, not backends, so they get their own colors; red is kept for drops. */
const RUN_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac'];
const DROP_COLOR = '#d62728';
/** Most runs drawn in one timeline; the caption says when there are more. */
const MAX_RUNS_DRAWN = RUN_COLORS.length;
/** Labels of the top-1 chart beyond these many (the most frequent) are drawn as 'other'. */
const MAX_LABELS = 8;
/** The budget line is drawn when it is within this factor of the slowest frame. */
const BUDGET_SHOWN_WITHIN = 4;

const runName = (r: LiveResult, i: number) => (r.runs.length > 1 ? `run ${i + 1}` : 'end-to-end');

interface Point {
  series: string;
  t: number;
  ms: number;
  lo?: number;
  hi?: number;
}

/** Every frame when few, else bins of consecutive frames (median line, min–max band), so spikes stay visible. */
function latencyPoints(series: string, run: LiveRun): { points: Point[]; binned: number } {
  const f = run.frames;
  const k = Math.max(1, Math.ceil(f.e2eMs.length / MAX_FRAME_BINS));
  if (k === 1)
    return {
      points: f.e2eMs.map((ms, i) => ({ series, t: round(f.captureMs[i]! / 1000, 4), ms: round(ms, 3) })),
      binned: 1,
    };
  const points = frameBins(f.e2eMs, k).map((b) => ({
    series,
    t: round(f.captureMs[Math.round(b.frame)]! / 1000, 4),
    ms: round(b.median, 3),
    lo: round(b.min, 3),
    hi: round(b.max, 3),
  }));
  return { points, binned: k };
}

/** A tick per dropped frame, or per time bin holding drops when there are too many to draw. */
function dropTicks(run: LiveRun, wallS: number): { t: number; count: number }[] {
  const times = run.droppedCaptureMs.map((ms) => ms / 1000);
  if (times.length <= MAX_FRAME_BINS) return times.map((t) => ({ t: round(t, 4), count: 1 }));
  const width = Math.max(wallS, 1e-3) / MAX_FRAME_BINS;
  const bins = new Map<number, number>();
  for (const t of times) {
    const b = Math.floor(t / width);
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  return [...bins].map(([b, count]) => ({ t: round((b + 0.5) * width, 4), count }));
}

/** How the timeline marks drops: one tick per frame, or per time bin when they are too many to draw. */
function dropsNote(ticks: number, dropped: number): string {
  if (ticks === 0) return 'no frame dropped';
  if (ticks < dropped) return `${dropped} dropped frames, ticked per time bin`;
  return `${plural(dropped, 'dropped frame')}, one tick each`;
}

function timelineChart(r: LiveResult, name: string, id: string): Promise<Html> {
  const runs = r.runs.slice(0, MAX_RUNS_DRAWN);
  const drawn = runs.map((run, i) => latencyPoints(runName(r, i), run));
  const points = drawn.flatMap((d) => d.points);
  const binned = Math.max(...drawn.map((d) => d.binned));
  const wallS = Math.max(...runs.map((x) => x.wallMs / 1000));
  const drops = runs.flatMap((run) => dropTicks(run, wallS).map((d) => ({ ...d, series: 'dropped frame', ms: 0 })));
  const periods = [...new Set(runs.map((x) => round(1000 / x.deliveryFps, 3)))].map((ms) => ({ ms }));
  const highest = Math.max(...points.map((p) => p.hi ?? p.ms));
  // A budget far above every frame would flatten them all against the axis; the caption gives it instead.
  const budgetDrawn = periods.some((p) => p.ms <= BUDGET_SHOWN_WITHIN * highest);
  const series = runs.map((_, i) => runName(r, i));
  const domain = [...series, ...(drops.length ? ['dropped frame'] : [])];
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain, range: [...series.map((_, i) => RUN_COLORS[i]!), DROP_COLOR] },
  };
  const x = { field: 't', type: 'quantitative', title: 'capture time (s from the run start)', scale: { nice: false } };
  const y = { field: 'ms', type: 'quantitative', title: 'end-to-end latency (ms)', scale: { zero: true } };
  const layers: unknown[] = budgetDrawn
    ? [{ data: { name: 'period' }, mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { y } }]
    : [];
  if (binned > 1)
    layers.push({
      data: { name: 'frames' },
      mark: { type: 'area', opacity: 0.2 },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
    });
  layers.push({
    data: { name: 'frames' },
    mark: { type: 'line', point: binned === 1 && points.length <= 200, strokeWidth: 1.2 },
    encoding: { x, y, color },
  });
  if (drops.length)
    layers.push({
      data: { name: 'drops' },
      mark: { type: 'tick', orient: 'vertical', thickness: 1, size: 12 },
      encoding: { x, y, color },
    });
  const spec = { ...PLOT, datasets: { frames: points, drops, period: periods }, layer: layers };
  const dropped = r.runs.reduce((n, x) => n + x.dropped, 0);
  const budget = periods.map((p) => `${fmt(p.ms, 1)} ms`).join(', ');
  const notes = [
    binned > 1
      ? `each point is the median of ${binned} consecutive frames, with their min–max as a band`
      : 'every processed frame is a point',
    dropsNote(drops.length, dropped),
    budgetDrawn
      ? 'the dashed line is one frame period (the budget)'
      : `one frame period (the budget, ${budget}) is far above every frame`,
    r.runs.length > MAX_RUNS_DRAWN ? `the first ${MAX_RUNS_DRAWN} of ${r.runs.length} runs drawn` : '',
  ].filter(Boolean);
  const title = `<b>Latency per frame, ${esc(r.model.id)} ${esc(name)}</b>`;
  return chart(spec, {
    id: `live-timeline-${id}`,
    description: `End-to-end latency per frame of ${r.model.id} on ${name} against capture time, with drops`,
    caption: `${title}: capture to logits ready, against the frame's capture time; ${esc(notes.join('; '))}.`,
  });
}

function top1Chart(r: LiveResult, name: string, id: string): Promise<Html> | null {
  const f = r.runs[0]?.frames;
  if (!f || f.top1.length === 0) return null;
  const counts = new Map<number, number>();
  for (const c of f.top1) counts.set(c, (counts.get(c) ?? 0) + 1);
  const kept = new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_LABELS)
      .map(([c]) => c),
  );
  const labelOf = (c: number) => r.labels[c] ?? `class_${c}`;
  const className = (c: number) => (kept.has(c) ? labelOf(c) : 'other');
  const k = Math.max(1, Math.ceil(f.top1.length / MAX_FRAME_BINS));
  const rows = f.top1.flatMap((c, i) =>
    i % k === 0 ? [{ t: round(f.captureMs[i]! / 1000, 4), p: round(f.top1Prob[i]!, 4), label: className(c) }] : [],
  );
  const spec = {
    width: PLOT.width,
    height: 120,
    data: { values: rows },
    mark: { type: 'point', filled: true, size: 18 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'capture time (s from the run start)', scale: { nice: false } },
      y: {
        field: 'p',
        type: 'quantitative',
        title: 'top-1 probability',
        scale: { domain: [0, 1] },
        axis: { format: '%' },
      },
      color: { field: 'label', type: 'nominal', title: 'top-1' },
    },
  };
  const settled = r.runs[0]!.settled;
  const which = r.runs.length > 1 ? ', run 1' : '';
  const settles = settled ? `; settles on ${esc(labelOf(settled.top1))} at ${esc(seconds(settled.atMs))}` : '';
  const sampled = k > 1 ? `; every ${k}th frame drawn` : '';
  const title = `<b>Top-1 over time, ${esc(r.model.id)} ${esc(name)}${which}</b>`;
  return chart(spec, {
    id: `live-top1-${id}`,
    description: `Top-1 class over time of ${r.model.id} on ${name}`,
    caption: `${title}: the class shown after each frame and its probability${settles}${sampled}.`,
  });
}

const SWEEP_CAPTION = [
  "each trial's p99 end-to-end latency at its delivery rate (the video sampled at the model's fps, played faster).",
  'A rate is sustained with no drop and p99 under one frame period (dashed line).',
].join(' ');

function sweepChart(r: LiveResult, name: string, id: string): Promise<Html> | null {
  const runs = r.runs.slice(0, MAX_RUNS_DRAWN).filter((x) => x.sweep?.length);
  if (runs.length === 0) return null;
  const rows = runs.flatMap((run, i) =>
    (run.sweep ?? []).flatMap((p) =>
      p.e2eP99Ms === null
        ? []
        : [
            {
              series: r.runs.length > 1 ? `run ${i + 1}` : 'p99 end-to-end',
              fps: p.fps,
              ms: round(Math.max(p.e2eP99Ms, 1e-3), 3),
              outcome: p.sustained ? 'sustained' : p.dropped ? 'frames dropped' : 'p99 over one period',
            },
          ],
    ),
  );
  const fpsValues = rows.map((x) => x.fps);
  const [lo, hi] = [Math.min(...fpsValues, r.modelFps) / 1.2, Math.max(...fpsValues) * 1.2];
  const budget = [lo, hi].map((fps) => ({ fps: round(fps, 3), ms: round(1000 / fps, 3) }));
  const maxes = runs.flatMap((x) => (x.maxSustainableFps === null ? [] : [x.maxSustainableFps]));
  const marks = [
    { fps: r.modelFps, what: `trained for ${fmt(r.modelFps, 0)} fps` },
    ...(maxes.length ? [{ fps: Math.max(...maxes), what: `max sustained ${fmt(Math.max(...maxes), 1)} fps` }] : []),
  ];
  const x = {
    field: 'fps',
    type: 'quantitative',
    title: 'delivery rate (frames per second, log scale)',
    scale: { type: 'log', domain: [lo, hi], nice: false },
  };
  const y = { field: 'ms', type: 'quantitative', title: 'p99 end-to-end (ms, log scale)', scale: { type: 'log' } };
  const seriesNames = [...new Set(rows.map((x) => x.series))];
  const spec = {
    ...PLOT,
    datasets: { points: rows, budget, marks },
    layer: [
      { data: { name: 'budget' }, mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x, y } },
      { data: { name: 'marks' }, mark: { type: 'rule', color: '#bbb' }, encoding: { x } },
      {
        data: { name: 'marks' },
        mark: {
          type: 'text',
          angle: 270,
          align: 'right',
          baseline: 'bottom',
          dy: -3,
          dx: -4,
          fontSize: 10,
          color: '#666',
        },
        encoding: { x, y: { value: 0 }, text: { field: 'what' } },
      },
      {
        data: { name: 'points' },
        mark: { type: 'line', point: false, strokeWidth: 1, opacity: 0.5 },
        encoding: {
          x,
          y,
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: seriesNames, range: RUN_COLORS } },
          order: { field: 'fps' },
        },
      },
      {
        data: { name: 'points' },
        mark: { type: 'point', filled: true, size: 45 },
        encoding: {
          x,
          y,
          shape: {
            field: 'outcome',
            type: 'nominal',
            title: 'trial',
            scale: {
              domain: ['sustained', 'frames dropped', 'p99 over one period'],
              range: ['circle', 'cross', 'triangle-up'],
            },
          },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: seriesNames, range: RUN_COLORS } },
        },
      },
    ],
  };
  const title = `<b>Max sustainable fps, ${esc(r.model.id)} ${esc(name)}</b>`;
  return chart(spec, {
    id: `live-sweep-${id}`,
    description: `Delivery rates tried by the sweep for ${r.model.id} on ${name}`,
    caption: `${title}: ${SWEEP_CAPTION}`,
  });
}

function sweepTable(r: LiveResult, name: string): Html {
  const rows = r.runs.flatMap((run, i) =>
    (run.sweep ?? []).map((p) => [
      String(i + 1),
      fmt(p.fps, 1),
      fmt(p.speed, 1),
      `${p.processed}/${p.captured}`,
      String(p.dropped),
      fmt(p.e2eP50Ms, 2),
      fmt(p.e2eP99Ms, 2),
      fmt(1000 / p.fps, 2),
      p.sustained ? 'yes' : 'no',
    ]),
  );
  if (rows.length === 0) return '';
  const summary = `${esc(plural(rows.length, 'sweep trial'))}, ${esc(r.model.id)} ${esc(name)}`;
  return `<details><summary>${summary}</summary>${plainTable(
    [
      { header: 'run' },
      { header: 'fps' },
      { header: '×RT' },
      { header: 'processed' },
      { header: 'dropped' },
      { header: 'e2e p50 ms' },
      { header: 'e2e p99 ms' },
      { header: 'period ms' },
      { header: 'sustained', text: true },
    ],
    rows,
  )}</details>`;
}

const DROPPED = 'frames replaced by a newer one before the model could take them (policy latest)';
/** What the live table's columns mean, on the page. */
const LIVE_LEGEND = `${[
  'e2e = capture to logits ready',
  'queue = capture to the start of step()',
  'jitter = standard deviation of the intervals between outputs',
  "CPU = this process's CPU time over wall time (100% = one core; ffmpeg not included)",
  `drops = ${DROPPED}, with their share of captured frames`,
  'late = frames the decoder handed over after their capture time',
].join('; ')}. Figures are medians over runs; frames, drops and late are totals.`;

async function liveReportHtml(ctx: PageContext, report: LiveReport, many: boolean): Promise<Html> {
  // A live report records no machine per result: each is of the machine the report ran on.
  const nameOf = (r: LiveResult) => ctx.nameOf({ backend: r.backend, machine: ctx.machineOf(report) });
  const warnings = report.results.flatMap((r) => r.warnings.map((w) => `${r.model.id} ${nameOf(r)}: ${w}`));
  const perResult = await Promise.all(
    report.results.map(async (r, i) => {
      const id = `${slug(ctx.runName(report))}-${i}-${slug(r.model.id)}-${slug(r.backend)}`;
      const name = nameOf(r);
      const charts = await Promise.all([timelineChart(r, name, id), top1Chart(r, name, id), sweepChart(r, name, id)]);
      const stretches = top1Stretches(r);
      return [
        `<h4>${esc(r.model.id)} ${esc(name)}</h4>`,
        `<div class="charts">${charts.filter((c) => c !== null).join('')}</div>`,
        stretches.length ? `<p class="note">Top-1 over time: ${esc(stretches.join(' → '))}</p>` : '',
        sweepTable(r, name),
      ].join('\n');
    }),
  );
  return [
    runHeading(ctx, report, many),
    report.interrupted
      ? '<p><b class="bad">Interrupted</b>: the run was stopped by a signal; the figures cover what ran before it.</p>'
      : '',
    `<p>${esc(liveConfigLine(report))}</p>`,
    columnTable(liveColumns(report.config.fps === 'auto'), report.results),
    `<p class="note">${LIVE_LEGEND}</p>`,
    notRunDetails(report.skipped, report.failed),
    detailsList(plural(warnings.length, 'warning'), warnings, 'warnings'),
    ...perResult,
  ].join('\n');
}

/** Every live report given, in order. */
export const liveSection: Section = async (ctx) => {
  // A report of --streams has its own section (html/capacity.ts).
  const live = ctx.reports.filter((r): r is LiveReport => r.kind === 'live' && r.config.streams === undefined);
  if (live.length === 0) return null;
  const parts = await Promise.all(live.map((r) => liveReportHtml(ctx, r, live.length > 1)));
  return section('live', 'Live streams', parts.join('\n'));
};
