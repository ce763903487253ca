import Table from 'cli-table3';
import type { Failed, Skipped } from '../core/results.js';
import { accuracyColumns, benchColumns, parityColumns, type Column } from './columns.js';
import type { Comparison } from './compare.js';
import { pct, pValue } from './format.js';
import type { AccuracyReport, BenchReport, ParityReport, Report } from './schema.js';

export function terminalTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    style: { head: [], border: [] },
    colAligns: columns.map((c) => (c.text ? 'left' : 'right')),
  });
  for (const row of rows) table.push(columns.map((c) => c.cell(row)));
  return table.toString();
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

export function benchTable(report: BenchReport): string {
  return lines(
    terminalTable(benchColumns, report.results),
    notRunLines(report.skipped, report.failed),
    report.results.flatMap((r) => r.warnings.map((w) => `warning ${r.model.id} ${r.backend}: ${w}`)),
    'ref / Pixel columns: the source page (int8, 1 CPU thread, TFLite benchmark tool on phones), not this machine. ovh = p50(step loop) / p50(bare runtime loop).',
  );
}

export function accuracyTable(report: AccuracyReport): string {
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
  return lines(
    terminalTable(accuracyColumns, report.runs),
    notRunLines(report.skipped, report.failed),
    misses.length ? ['wrong or failed clips:', ...misses] : [],
    report.agreement.map(
      (a) =>
        `agreement ${a.backends.join(' vs ')}: final top-1 ${pct(a.clipTop1)} of clips, per-frame top-1 ${pct(a.frameTop1)}`,
    ),
    report.config.dataset.missingClips
      ? `${report.config.dataset.missingClips} listed clip(s) were not found and are not counted (--allow-missing-clips).`
      : [],
    `* reference top-1 is on the full Kinetics-600 validation set (~28k clips); ours is on ${report.config.dataset.clips} clips of ${report.config.dataset.name}: a different measurement with a wide interval. wait = time the model waited on the decoder.`,
  );
}

export function parityTable(report: ParityReport): string {
  const min = report.config.minAgreement;
  const bad = report.pairs.flatMap((p) =>
    p.clips
      .filter((c) => !c.match)
      .map((c) => `${p.backend}: ${c.file} ${c.error ?? `final top-1 ${c.finalTop1[0]} vs ${c.finalTop1[1]}`}`),
  );
  return lines(
    terminalTable(parityColumns(min), report.pairs),
    notRunLines(report.skipped, report.failed),
    bad,
    `parity ${report.passed ? 'passed' : 'FAILED'} (every clip's final top-1 must match; per-frame top-1 agreement >= ${pct(min)})`,
  );
}

export function reportTable(report: Report): string {
  switch (report.kind) {
    case 'bench':
      return benchTable(report);
    case 'accuracy':
      return accuracyTable(report);
    case 'parity':
      return parityTable(report);
  }
}

export function comparisonTable(result: Comparison): string {
  const table = new Table({
    head: ['model', 'backend', 'metric', 'old', 'new', 'change', 'p', 'verdict', 'note'],
    style: { head: [], border: [] },
  });
  for (const r of result.rows) {
    const change =
      r.change === null
        ? '–'
        : r.changeKind === 'points'
          ? `${(r.change * 100).toFixed(1)} pt`
          : `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%`;
    table.push([r.model, r.backend, r.metric, ...r.shown, change, pValue(r.pValue), r.verdict, r.note ?? '']);
  }
  return lines(
    table.toString(),
    result.warnings.map((w) => `warning: ${w}`),
    result.regressions ? `${result.regressions} regression(s)` : 'no regression',
  );
}
