import type { DriftResult } from '../../core/results.js';
import { driftColumns, stateName, trendText } from '../columns.js';
import { fmt, pct, roundSignificant } from '../format.js';
import type { DriftReport } from '../schema.js';
import { DRIFT_LEGEND, driftLines } from '../table.js';
import { chart, PLOT, seriesColor, slug } from './charts.js';
import { MAX_FRAME_BINS } from './downsample.js';
import {
  columnTable,
  esc,
  notRunDetails,
  plainTable,
  runHeading,
  section,
  type Html,
  type PageContext,
  type Section,
} from './page.js';

/** Every k-th frame index, so a long stream embeds at most MAX_FRAME_BINS points per series (and its last frame). */
function frameIndices(n: number): number[] {
  const k = Math.max(1, Math.ceil(n / MAX_FRAME_BINS));
  const picked = Array.from({ length: Math.ceil(n / k) }, (_, i) => i * k);
  return picked[picked.length - 1] === n - 1 || n === 0 ? picked : [...picked, n - 1];
}

/** The dashed rule where the fill-up ends: error before it is the buffers filling, not error carried. */
function fillUpRule(r: DriftResult): Record<string, unknown> {
  return {
    data: { values: [{ frame: r.fillUp }] },
    mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
    encoding: { x: { field: 'frame', type: 'quantitative' } },
  };
}

const UNIT_TITLE: Record<string, string> = {
  step: 'quantization steps',
  count: 'counts',
  'reference-rms': "x the reference's RMS",
};

/** Each state group's RMS error (its states averaged) against the frame, mean over streams. */
function groupsChart(ctx: PageContext, r: DriftResult, id: string): Promise<Html> {
  const frames = frameIndices(r.framesPerStream);
  const label = (g: DriftResult['groups'][number]) =>
    g.unit === 'step' ? g.name : `${g.name} (${UNIT_TITLE[g.unit]})`;
  const points = r.groups.flatMap((g) =>
    frames.map((t) => ({ series: label(g), frame: t, error: roundSignificant(g.perFrame[t] ?? 0, 4) })),
  );
  return chart(
    {
      ...PLOT,
      width: 520,
      layer: [
        {
          data: { values: points },
          mark: { type: 'line' },
          encoding: {
            x: { field: 'frame', type: 'quantitative', title: 'frame of the stream' },
            y: { field: 'error', type: 'quantitative', title: 'RMS error, quantization steps' },
            color: seriesColor(
              ctx,
              points.map((p) => p.series),
              { title: 'state group' },
            ),
          },
        },
        fillUpRule(r),
      ],
    },
    {
      id,
      description: `RMS error of each state group against the frame, ${r.model.id} against its reference`,
      caption:
        `Each state group's RMS error against the reference's states (its states averaged; mean over ` +
        `${esc(r.streams.length)} streams); the dashed line ends the fill-up. Rounding alone gives ` +
        `${esc(fmt(1 / Math.sqrt(12), 2))} of a step (1/√12).`,
    },
  );
}

/** Share of streams whose top-1 is the reference's, carried and fed the reference's states, against frames seen. */
function agreementChart(ctx: PageContext, r: DriftResult, id: string): Promise<Html> {
  const frames = frameIndices(r.framesPerStream);
  const series = [
    { name: 'own states carried', values: r.logits.perFrame.top1Agreement },
    ...(r.counterfactual
      ? [{ name: "fed the reference's states", values: r.counterfactual.perFrame.top1Agreement }]
      : []),
  ];
  const points = series.flatMap((s) =>
    frames.map((t) => ({ series: s.name, seen: t + 1, agreement: roundSignificant(s.values[t] ?? 0, 4) })),
  );
  return chart(
    {
      ...PLOT,
      data: { values: points },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'seen', type: 'quantitative', title: 'frames seen' },
        y: {
          field: 'agreement',
          type: 'quantitative',
          title: 'top-1 agreement with the reference',
          axis: { format: '%' },
        },
        color: seriesColor(
          ctx,
          points.map((p) => p.series),
          { title: 'quantized model' },
        ),
      },
    },
    {
      id,
      description: `top-1 agreement with the reference against frames seen, ${r.model.id}`,
      caption:
        "Share of streams whose top-1 is the reference's after each frame: the quantized model carrying its own " +
        "states, and fed the reference's states at every frame (what is left is the frame's own rounding).",
    },
  );
}

/** Every live state, the most error first; the pass-through ones named under it. */
function statesTable(r: DriftResult): Html {
  const rows = r.states.map((s) => [
    stateName(s.name),
    s.group,
    s.unit === 'step' ? `step ${fmt(s.unitValue, 4)}` : UNIT_TITLE[s.unit]!,
    fmt(s.mean, 3),
    fmt(s.bias, 3),
    fmt(s.final, 3),
    fmt(s.max, 3),
    s.relativeRms === null ? '–' : pct(s.relativeRms, 2),
    trendText(s.trend),
  ]);
  const head = [
    { header: 'state', text: true },
    { header: 'group', text: true },
    { header: 'unit', text: true },
    { header: 'mean' },
    { header: 'bias' },
    { header: 'last frame' },
    { header: 'max' },
    { header: 'relative RMS' },
    { header: 'with frames', text: true, wrap: true },
  ];
  const through = r.passThrough.length
    ? `<p class="note">${esc(`${r.passThrough.length} state(s) pass through unchanged and are not measured: `)}` +
      `${esc(r.passThrough.map(stateName).join(', '))}</p>`
    : '';
  return plainTable(head, rows) + through;
}

/** What each op type adds inside the frame. */
function insideTable(r: DriftResult): Html {
  const x = r.inside;
  if (x.note !== null) return `<p class="note">${esc(`Inside a frame: not read: ${x.note}`)}</p>`;
  const rows = x.byOp.map((o) => [o.op, String(o.nodes), fmt(o.added, 4), fmt(o.maxRelativeRms, 4)]);
  const where = `stream ${x.stream}, frame(s) ${x.frames.join(', ')}, ${x.tensors} tensors compared`;
  return (
    `<h4>${esc(`Inside a frame (${where})`)}</h4>` +
    plainTable(
      [
        { header: 'op', text: true },
        { header: 'nodes' },
        { header: 'relative error added' },
        { header: 'largest relative RMS' },
      ],
      rows,
    )
  );
}

async function resultHtml(ctx: PageContext, report: DriftReport, r: DriftResult, i: number): Promise<Html> {
  const id = `drift-${slug(ctx.runName(report))}-${i}`;
  const lines = driftLines(r).map((l) => `<li>${esc(l.trim())}</li>`);
  return [
    `<h3>${esc(`${r.model.id} ${r.backend} against ${r.reference.model.id} ${r.reference.backend}`)}</h3>`,
    `<ul>${lines.slice(1).join('')}</ul>`,
    `<div class="charts">${await groupsChart(ctx, r, `${id}-states`)}${await agreementChart(ctx, r, `${id}-top1`)}`,
    '</div>',
    statesTable(r),
    insideTable(r),
  ].join('\n');
}

async function driftHtml(ctx: PageContext, report: DriftReport, many: boolean): Promise<Html> {
  const parts = await Promise.all(report.results.map((r, i) => resultHtml(ctx, report, r, i)));
  return [
    runHeading(ctx, report, many),
    columnTable(driftColumns, report.results),
    `<p class="note">${esc(DRIFT_LEGEND)}</p>`,
    notRunDetails(report.skipped, report.failed),
    ...parts,
  ].join('\n');
}

/**
 * `drift`: where a quantized stream model parts from its float reference. Per result, the state groups' error
 * against the frame and the top-1 agreement against frames seen (carried, and fed the reference's states), the
 * states ranked, and what each op type adds inside a frame.
 */
export const driftSection: Section = async (ctx) => {
  const reports = ctx.reports.filter((r): r is DriftReport => r.kind === 'drift');
  if (reports.length === 0) return null;
  const parts = await Promise.all(reports.map((r) => driftHtml(ctx, r, reports.length > 1)));
  return section('drift', 'Drift: where the quantized model parts from its reference', parts.join('\n'));
};
