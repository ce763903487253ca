import { comparisonColumns } from '../comparison-columns.js';
import { compareReports, type Comparison, type ComparisonRow } from '../compare.js';
import { p50Ratio, signedChange } from '../format.js';
import type { Report } from '../schema.js';
import { columnTable, detailsList, esc, plural, section, type Html, type PageContext, type Section } from './page.js';

export interface BaselineComparison {
  report: Report;
  comparison: Comparison;
}

/** The baseline against each given report of its kind, by compare's own rules and defaults. */
export function baselineComparisons(ctx: PageContext): BaselineComparison[] {
  const base = ctx.baseline;
  if (!base) return [];
  return ctx.reports
    .filter((r) => r.kind === base.kind)
    .map((report) => ({ report, comparison: compareReports(base, report) }));
}

/** A gated row that fails a comparison: a regression, or a pair that vanished. */
export const isRegression = (r: ComparisonRow): boolean =>
  r.gates && (r.verdict === 'regression' || r.verdict === 'missing');

/** A failing row of `report`'s comparison in one line, its pair named like every result of the page. */
export function regressionLine(r: ComparisonRow, ctx: PageContext, report: Report): string {
  const change = r.change === null ? '' : ` (${signedChange(r.change, r.changeKind)})`;
  const what = r.verdict === 'missing' ? 'missing from the new report' : `${r.shown[0]} → ${r.shown[1]}${change}`;
  // Bench rows carry their machine; the other kinds' rows are of their report's.
  const name = ctx.nameOf({ backend: r.backend, machine: r.machine ?? ctx.machineOf(report) });
  return `${name} ${r.metric}: ${what}${r.note ? `; ${r.note}` : ''}`;
}

/** The full comparison table against --baseline, with the settings and environment differences. */
export const baselineSection: Section = (ctx) => {
  const all = baselineComparisons(ctx);
  const base = ctx.baseline;
  if (!base) return null;
  if (all.length === 0) {
    const given = `The baseline is a ${esc(base.kind)} report (${esc(base.createdAt)})`;
    return section(
      'baseline',
      'Against the baseline',
      `<p>${given}; no ${esc(base.kind)} report was given to compare it with.</p>`,
    );
  }
  const parts = all.map(({ report, comparison: c }) =>
    [
      all.length > 1 ? `<h3>${esc(ctx.runName(report))}: ${esc(report.command)}</h3>` : '',
      columnTable(comparisonColumns, c.rows),
      `<p>${regressionCount(c)}${geomeanNote(c)}.</p>`,
      detailsList(`${plural(c.mismatches.length, 'setting')} differ`, c.mismatches, 'warnings'),
      detailsList(`${plural(c.warnings.length, 'environment difference')}`, c.warnings, 'warnings'),
    ].join('\n'),
  );
  const baseline = `Baseline: ${esc(base.command)} (${esc(base.createdAt)}).`;
  const tested = 'Latency is tested per process (Mann-Whitney)';
  const tooFew = 'with too few processes a change is <i>inconclusive</i>, not a regression';
  const note = `<p class="note">${baseline} ${tested}; ${tooFew}.</p>`;
  return section('baseline', 'Against the baseline', `${note}\n${parts.join('\n')}`);
};

function regressionCount(c: Comparison): Html {
  if (!c.regressions) return '<span class="good">no regression</span>';
  return `<b class="bad">${esc(plural(c.regressions, 'regression'))}</b>`;
}

function geomeanNote(c: Comparison): Html {
  const ratio = c.geomeanP50Ratio;
  return ratio === null ? '' : `; geometric mean of new/old p50: ${esc(p50Ratio(ratio))}`;
}
