import {
  environmentMachine,
  machineLabel,
  machinesOf,
  resultName,
  sameMachine,
  timedResults,
  type ResultKey,
} from '../machines.js';
import type { BenchResult, Failed, Skipped } from '../../core/results.js';
import type { Column } from '../columns.js';
import type { AccuracyReport, BenchReport, ParityReport, Report } from '../schema.js';
import { notRunLines } from '../table.js';

/** HTML text, already escaped. */
export type Html = string;

/** One bench result with the name it carries in every chart and legend of the page. */
export interface BenchEntry {
  report: BenchReport;
  result: BenchResult;
  /** Its backend and machine, and its run when the same (model, backend, machine) comes from several bench reports. */
  key: ResultKey;
  /** `nameOf(key)`: the series it is in every chart, and its name in every list. */
  label: string;
}

/** Everything a section may read; built once per page, so every section sees the same names and colors. */
export interface PageContext {
  reports: readonly Report[];
  bench: readonly BenchReport[];
  accuracy: readonly AccuracyReport[];
  parity: readonly ParityReport[];
  baseline: Report | undefined;
  /** Model ids in the order first met, so every section lists models alike. */
  models: readonly string[];
  /** Bench rows whose time can be read: every machine but an emulated one. */
  benchEntries: readonly BenchEntry[];
  /** One color per series label (backend), the same in every chart. */
  colors: { domain: string[]; range: string[] };
  /** "run 2" for the second report given, for labels that must tell runs apart. */
  runName(report: Report): string;
  /** Every machine the reports hold, by label: each bench result's, and the one each other report ran on. */
  machines: readonly string[];
  /** The machine a report ran on; a merged report of several machines gives their labels. */
  machineOf(report: Report): string;
  /** A result's name on this page (`resultName`): it names the machine only when the page holds several. */
  nameOf(key: ResultKey): string;
  /**
   * An accuracy run's name: its backend, its report when several are given, its machine when the page
   * holds several.
   */
  accuracyName(report: AccuracyReport, backend: string): string;
  /** The title of a legend whose entries are `nameOf` names. */
  seriesTitle: string;
}

/**
 * A part of the page: returns its HTML, or null when the reports have nothing
 * for it. Sections only read the context and never each other, so adding one
 * touches nothing else.
 */
export type Section = (ctx: PageContext) => Html | null | Promise<Html | null>;

export const esc = (s: string | number): Html => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Tableau 10: distinct at small sizes and for the common color deficiencies. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

export function buildContext(reports: readonly Report[], baseline: Report | undefined): PageContext {
  const bench = reports.filter((r): r is BenchReport => r.kind === 'bench');
  const accuracy = reports.filter((r): r is AccuracyReport => r.kind === 'accuracy');
  const parity = reports.filter((r): r is ParityReport => r.kind === 'parity');
  const runName = (r: Report) => `run ${reports.indexOf(r) + 1}`;
  const { machines, machineOf } = pageMachines(reports, bench);
  const nameOf = (key: ResultKey) => resultName(key, machines.length);
  // Charts and the summary read time; an emulated machine's rows have none worth reading (its tables say n/m).
  const pairs = bench.flatMap((report) => timedResults(report.results).map((result) => ({ report, result })));
  const seen = (r: BenchResult) =>
    pairs.filter((p) => p.result.model.id === r.model.id && p.result.backend === r.backend && sameMachine(p.result, r))
      .length;
  const benchEntries = pairs.map(({ report, result }) => {
    const key = {
      backend: result.backend,
      machine: machineLabel(result),
      runs: seen(result) > 1 ? [runName(report)] : [],
    };
    return { report, result, key, label: nameOf(key) };
  });
  const models = unique([
    ...benchEntries.map((e) => e.result.model.id),
    ...accuracy.flatMap((r) => r.runs.map((x) => x.model.id)),
    ...parity.flatMap((r) => r.pairs.map((x) => x.model.id)),
    // Last, so a model that was asked for but never ran still gets its line in the summary.
    ...reports.flatMap((r) => [...r.skipped, ...r.failed].map((x) => x.model)),
  ]);
  const accuracyName = (r: AccuracyReport, backend: string) =>
    nameOf({ backend, machine: machineOf(r), runs: accuracy.length > 1 ? [runName(r)] : [] });
  const domain = unique([
    ...benchEntries.map((e) => e.label),
    ...accuracy.flatMap((r) => r.runs.map((x) => x.backend)),
    ...parity.flatMap((r) => r.pairs.flatMap((x) => [x.reference, x.backend])),
  ]);
  const range = domain.map((_, i) => PALETTE[i % PALETTE.length]!);
  return {
    reports,
    bench,
    accuracy,
    parity,
    baseline,
    models,
    benchEntries,
    colors: { domain, range },
    runName,
    machines,
    machineOf,
    nameOf,
    accuracyName,
    seriesTitle: machines.length > 1 ? 'backend @ machine' : 'backend',
  };
}

/**
 * The machines of the page. Bench results carry their own; the other kinds record only their environment, which
 * `environmentMachine` matches to a bench machine where it can.
 */
function pageMachines(
  reports: readonly Report[],
  bench: readonly BenchReport[],
): { machines: string[]; machineOf: (r: Report) => string } {
  const known = machinesOf(bench.flatMap((r) => r.results));
  const machineOf = (r: Report): string => {
    const own = r.kind === 'bench' ? machinesOf(r.results).map((m) => m.label) : [];
    return own.length ? own.join(' / ') : environmentMachine(r.environment, known);
  };
  const machines = unique([
    ...known.map((m) => m.label),
    ...reports.filter((r) => r.kind !== 'bench' || r.results.length === 0).map(machineOf),
  ]);
  return { machines, machineOf };
}

export function section(id: string, title: string, body: Html): Html {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

/**
 * What a report's tables sit under: a heading per report when several of its kind are shown (so one run reads as
 * one table), else a note; either names the report's machine when the page holds several.
 */
export function runHeading(ctx: PageContext, r: Report, many: boolean): Html {
  const on = ctx.machines.length > 1 ? ` on ${esc(ctx.machineOf(r))}` : '';
  return many
    ? `<h3>${esc(ctx.runName(r))}${on}: <code>${esc(r.command)}</code></h3>`
    : `<p class="note"><code>${esc(r.command)}</code> (${esc(r.createdAt)})${on}</p>`;
}

/** Every column of the spec (wide ones too), text left and numbers right, in a container that scrolls sideways. */
export function columnTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): Html {
  const cls = (c: Column<Row>) => (c.text ? ' class="text"' : '');
  const head = columns.map((c) => `<th scope="col"${cls(c)}>${esc(c.header)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td${cls(c)}>${esc(c.cell(r))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A table of plain cells; `wrap` names the columns whose long text may wrap. */
export function plainTable(
  head: readonly { header: string; text?: boolean; wrap?: boolean }[],
  rows: readonly (readonly string[])[],
): Html {
  const cls = (i: number) => {
    const h = head[i];
    const names = [h?.text ? 'text' : '', h?.wrap ? 'wrap' : ''].filter(Boolean);
    return names.length ? ` class="${names.join(' ')}"` : '';
  };
  const th = head.map((h, i) => `<th scope="col"${cls(i)}>${esc(h.header)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A collapsed list; the summary says how many items it holds, so a long list never pushes the page down. */
export function detailsList(summary: string, items: readonly string[], cls = ''): Html {
  if (items.length === 0) return '';
  const li = items.map((x) => `<li>${esc(x)}</li>`).join('');
  return `<details${cls ? ` class="${cls}"` : ''}><summary>${esc(summary)}</summary><ul>${li}</ul></details>`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Skipped and failed pairs of a report, grouped by model and reason. */
export function notRunDetails(skipped: readonly Skipped[], failed: readonly Failed[]): Html {
  const counts = [
    skipped.length ? `${plural(skipped.length, 'pair')} skipped` : '',
    failed.length ? `${plural(failed.length, 'pair')} failed` : '',
  ].filter(Boolean);
  return detailsList(counts.join(', '), notRunLines(skipped, failed), failed.length ? 'notrun failed' : 'notrun');
}

const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;background:#fff}
main{max-width:1240px;margin:0 auto;padding:12px 20px 48px}
h1{font-size:22px;margin:.3em 0 .1em}
h2{font-size:18px;margin:1.8em 0 .5em;padding-bottom:.2em;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:1.3em 0 .4em}
p{margin:.4em 0;max-width:75em}
.note,figcaption{color:#555;font-size:13px}
.scroll{overflow-x:auto;max-width:100%;margin:.4em 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d9d9d9;padding:3px 8px;text-align:right;white-space:nowrap;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
.text{text-align:left}
td.wrap{white-space:normal;min-width:18em;max-width:40em}
tbody tr:nth-child(even){background:#fafafa}
.verdict{padding:10px 14px;border-radius:6px;margin:.8em 0;font-size:15px}
.verdict.ok{background:#e9f5ea;border:1px solid #8cc590}
.verdict.bad{background:#fdecea;border:1px solid #e39a91}
.verdict ul{margin:.3em 0 0;padding-left:1.3em;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px 12px;min-width:0}
.card h3{margin:.3em 0 .5em}
.card dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:5px 14px;margin:0}
.card dt{color:#555}
.card dd{margin:0;overflow-wrap:anywhere}
.card ul{margin:.1em 0;padding-left:1.1em}
.bad{color:#b3261e}
.good{color:#1b6e20}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:4px 28px}
figure.chart{margin:.5em 0 1.2em;min-width:0}
figure.chart svg{display:block;max-width:100%;height:auto}
figcaption{max-width:60em;margin-top:.2em}
details{margin:.4em 0}
summary{cursor:pointer}
details.failed>summary,details.warnings>summary{color:#8a4b00}
details.failed>summary{color:#b3261e;font-weight:600}
details ul{margin:.3em 0;padding-left:1.4em}
details li{overflow-wrap:anywhere}
code{font-size:12.5px;overflow-wrap:anywhere}
`;

/** The page around the sections: self-contained (inline style, inline SVG, no executed script, no external asset). */
export async function renderPage(sections: readonly Section[], ctx: PageContext): Promise<Html> {
  const parts = await Promise.all(sections.map((s) => s(ctx)));
  const body = parts.filter((p): p is Html => p !== null && p !== '').join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>movinet-bench report</title>
<style>${STYLE}</style></head>
<body><main>
${body}
</main></body></html>
`;
}
