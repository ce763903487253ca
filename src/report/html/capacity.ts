import type { LiveResult } from '../../live/result.js';
import { capacityColumns } from '../columns.js';
import type { LiveReport } from '../schema.js';
import { CAPACITY_LEGEND } from '../table.js';
import { chart, seriesColor, slug } from './charts.js';
import {
  columnTable,
  detailsList,
  esc,
  notRunDetails,
  plural,
  runHeading,
  section,
  type Html,
  type PageContext,
  type Section,
} from './page.js';

function p99Chart(ctx: PageContext, report: LiveReport, rows: readonly LiveResult[], id: string): Promise<Html> {
  const nameOf = (r: LiveResult) => ctx.nameOf({ backend: r.backend, machine: ctx.machineOf(report) });
  const points = rows.flatMap((r) =>
    (r.capacity?.steps ?? []).map((s) => ({
      series: `${r.model.id} ${nameOf(r)}`,
      streams: s.streams,
      p99: s.p99EstimateMs ?? s.e2eMs?.p99 ?? null,
      pass: s.pass ? 'pass' : 'fail',
    })),
  );
  const periodMs = 1000 / (rows[0]?.capacity?.fps ?? 5);
  const labels = points.map((p) => p.series);
  return chart(
    {
      width: 520,
      height: 260,
      layer: [
        {
          data: { values: points },
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'streams', type: 'quantitative', title: 'streams' },
            y: { field: 'p99', type: 'quantitative', title: 'p99 end-to-end, ms (early-stopping estimate)' },
            color: seriesColor(ctx, labels),
            shape: { field: 'pass', type: 'nominal', title: 'step' },
          },
        },
        {
          data: { values: [{ period: periodMs }] },
          mark: { type: 'rule', strokeDash: [4, 4] },
          encoding: { y: { field: 'period', type: 'quantitative' } },
        },
      ],
    },
    {
      id,
      description: `p99 end-to-end latency against the number of streams, with the ${periodMs} ms frame period`,
      caption:
        `p99 end-to-end against streams; the dashed line is the frame period (${esc(periodMs)} ms): ` +
        'a step passes at or under it with no frame dropped.',
    },
  );
}

async function capacityHtml(ctx: PageContext, report: LiveReport, many: boolean): Promise<Html> {
  const rows = report.results.flatMap((r) => (r.capacity ? [{ ...r, capacity: r.capacity }] : []));
  const warnings = report.results.flatMap((r) => r.warnings.map((w) => `${r.model.id} ${r.backend}: ${w}`));
  const c = report.config;
  return [
    runHeading(ctx, report, many),
    `<p>${esc(`${c.input}: ${c.streams} stream(s), ${c.phase ?? 'spread'} phases, policy ${c.policy}.`)}</p>`,
    columnTable(capacityColumns(), rows),
    `<p class="note">${esc(CAPACITY_LEGEND)}</p>`,
    rows.length ? await p99Chart(ctx, report, rows, `capacity-${slug(ctx.runName(report))}`) : '',
    notRunDetails(report.skipped, report.failed),
    detailsList(plural(warnings.length, 'warning'), warnings, 'warnings'),
  ].join('\n');
}

/**
 * `live --streams`: how many paced streams one process served, and how the p99 end-to-end grew with N. Every
 * step of a search is a point (a confirmation run at the same N is another point there), drawn against the
 * frame period the steps were judged by.
 */
export const capacitySection: Section = async (ctx) => {
  const reports = ctx.reports.filter((r): r is LiveReport => r.kind === 'live' && r.config.streams !== undefined);
  if (reports.length === 0) return null;
  const parts = await Promise.all(reports.map((r) => capacityHtml(ctx, r, reports.length > 1)));
  return section('capacity', 'Streams per core', parts.join('\n'));
};
