import { accuracyColumns, benchColumns, parityColumns, type Column } from './columns.js';
import { fmt, pct } from './format.js';
import type { AccuracyReport, BenchReport, ParityReport, Report } from './schema.js';
import { notRunLines } from './table.js';
import { extent } from '../metrics/stats.js';

/**
 * A self-contained HTML summary: no script, no external asset, charts drawn as
 * inline SVG, so it can be attached to a CI run and opened anywhere.
 */

const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

interface Series {
  name: string;
  points: [number, number][];
}

/** A plain line chart with axes and a legend. */
export function lineChart(
  series: Series[],
  opts: { xLabel: string; yLabel: string; width?: number; height?: number; yMin?: number; yMax?: number },
): string {
  const w = opts.width ?? 640;
  const h = opts.height ?? 260;
  const m = { l: 56, r: 12, t: 12, b: 40 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) return '<p>(no data)</p>';
  const [xLo, xHi] = extent(xs);
  const [x0, x1] = [xLo, xHi || 1];
  const [yLo, yHi] = extent(ys);
  const [y0, y1] = [opts.yMin ?? yLo, opts.yMax ?? yHi];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (w - m.l - m.r);
  const sy = (y: number) => h - m.b - ((y - y0) / (y1 - y0 || 1)) * (h - m.t - m.b);
  const ticks = (a: number, b: number) => Array.from({ length: 5 }, (_, i) => a + ((b - a) * i) / 4);
  const grid = [
    ...ticks(y0, y1).map(
      (y) =>
        `<line x1="${m.l}" x2="${w - m.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/><text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end">${esc(fmt(y, y1 - y0 < 5 ? 2 : 0))}</text>`,
    ),
    ...ticks(x0, x1).map(
      (x) => `<text x="${sx(x)}" y="${h - m.b + 16}" text-anchor="middle">${esc(fmt(x, x1 - x0 < 5 ? 1 : 0))}</text>`,
    ),
  ].join('');
  const lines = series
    .map(
      (s, i) =>
        `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<text x="${m.l + 8}" y="${m.t + 14 + i * 14}" fill="${COLORS[i % COLORS.length]}">${esc(s.name)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-size="11" font-family="sans-serif">${grid}<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#444"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#444"/>${lines}${legend}<text x="${(w + m.l) / 2}" y="${h - 6}" text-anchor="middle">${esc(opts.xLabel)}</text><text transform="translate(12 ${(h - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text></svg>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function columnTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cls = (c: Column<Row>) => (c.text ? ' class="text"' : '');
  const head = columns.map((c) => `<th${cls(c)}>${esc(c.header)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td${cls(c)}>${esc(c.cell(r))}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function skippedList(r: Report): string {
  const items = notRunLines(r.skipped, r.failed);
  return items.length ? `<ul class="skipped">${items.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : '';
}

function benchSection(r: BenchReport): string {
  const cdf: Series[] = r.results.map((x) => {
    const s = [...x.samplesMs].sort((a, b) => a - b);
    return { name: `${x.model.id} ${x.backend}`, points: s.map((v, i) => [v, (i + 1) / s.length] as [number, number]) };
  });
  const timeline: Series[] = r.results.map((x) => ({
    name: `${x.model.id} ${x.backend}`,
    points: x.samplesMs.map((v, i) => [i, v] as [number, number]),
  }));
  const warnings = r.results
    .flatMap((x) => x.warnings.map((w) => `<li><b>${esc(x.model.id)} ${esc(x.backend)}</b>: ${esc(w)}</li>`))
    .join('');
  const runtimes = r.results
    .map(
      (x) =>
        `<li>${esc(x.backend)}: ${esc(x.runtime.package)} ${esc(x.runtime.version)} (${esc(x.runtime.build)}); threads: ${esc(x.runtime.threads.enforcement)}</li>`,
    )
    .join('');
  return `<h2>Latency</h2>
<p>${esc(r.command)} — ${esc(r.config.frames)} frames × ${esc(r.config.repeats)} repeat(s) after ${esc(r.config.warmup)} warm-up frames, input ${esc(r.config.input)}, ${esc(r.config.threads)} thread(s).</p>
${columnTable(benchColumns(r.config.percentiles), r.results)}
<p class="note">Reference columns are the source page's figures (int8, 1 CPU thread, TFLite benchmark tool, on phones), not measured here.</p>
${skippedList(r)}
${warnings ? `<ul class="skipped">${warnings}</ul>` : ''}
<h3>Latency distribution (CDF)</h3>${lineChart(cdf, { xLabel: 'ms per frame', yLabel: 'fraction of frames', yMin: 0, yMax: 1 })}
<h3>Per-frame latency, in frame order</h3>${lineChart(timeline, { xLabel: 'frame', yLabel: 'ms', yMin: 0 })}
<ul>${runtimes}</ul>`;
}

function accuracySection(r: AccuracyReport): string {
  const curve: Series[] = r.runs.map((x) => ({
    name: `${x.model.id} ${x.backend}`,
    points: x.summary.top1ByFramesSeen.map((v, k) => [(k + 1) / r.config.fps, v] as [number, number]),
  }));
  const wrong = r.runs.flatMap((x) =>
    x.clips
      .filter((c) => !c.correct1)
      .map((c) => [
        x.model.id,
        x.backend,
        c.file,
        c.label,
        c.status === 'error' ? `error: ${c.error}` : c.top5.map((p) => `${p.label} ${pct(p.prob)}`).join(', '),
      ]),
  );
  const agree = r.agreement.map((a) => [a.model, a.backends.join(' vs '), pct(a.clipTop1), pct(a.frameTop1)]);
  return `<h2>Accuracy</h2>
<p>${esc(r.command)} — ${esc(r.config.dataset.clips)} clips of ${esc(r.config.dataset.name)}, ${esc(r.config.resize)}, ${esc(r.config.fps)} fps. Clip-level prediction = the final frame's logits.</p>
${columnTable(accuracyColumns, r.runs)}
<p class="note">* Reference figures are on the full Kinetics-600 validation set; this sample is small, so compare intervals, not points.</p>
${skippedList(r)}
<h3>Top-1 if the clip stopped after t seconds</h3>${lineChart(curve, { xLabel: 'seconds of video seen', yLabel: 'top-1', yMin: 0, yMax: 1 })}
${agree.length ? `<h3>Cross-backend agreement</h3>${table(['model', 'backends', 'same clip top-1', 'same per-frame top-1'], agree)}` : ''}
<h3>Wrong or failed clips</h3>${wrong.length ? table(['model', 'backend', 'clip', 'label', 'top-5'], wrong) : '<p>none</p>'}`;
}

function paritySection(r: ParityReport): string {
  const clips = r.pairs.flatMap((p) =>
    p.clips.map((c) => [
      p.backend,
      c.file,
      c.frames,
      pct(c.frameTop1Agreement, 2),
      fmt(c.maxAbsProbDiff, 4),
      c.match ? 'yes' : (c.error ?? 'NO'),
    ]),
  );
  return `<h2>Parity: ${r.passed ? 'passed' : 'FAILED'}</h2>
<p>${esc(r.command)} — ${esc(r.config.dataset.clips)} clips of ${esc(r.config.dataset.name)}; every clip's final top-1 must match and per-frame top-1 agreement must be at least ${pct(r.config.minAgreement, 2)}.</p>
${columnTable(parityColumns(r.config.minAgreement), r.pairs)}
${skippedList(r)}
<h3>Per clip</h3>${table(['backend', 'clip', 'frames', 'frame agreement', 'max |Δprob|', 'final top-1 matches'], clips)}`;
}

function section(r: Report): string {
  switch (r.kind) {
    case 'bench':
      return benchSection(r);
    case 'accuracy':
      return accuracySection(r);
    case 'parity':
      return paritySection(r);
  }
}

export function renderHtml(reports: Report[], _opts: { baseline?: Report } = {}): string {
  const env = reports[0]?.environment;
  const body = reports.map(section).join('\n');
  const envLine = env
    ? `${env.cpuModel}, ${env.cpuCores} cores, ${env.os}, Node ${env.node}, ffmpeg ${env.ffmpeg}, commit ${env.gitCommit ?? 'unknown'}`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>movinet-bench report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f4f4f4}.text{text-align:left}.note{color:#555}.skipped{color:#8a4b00}</style></head>
<body><h1>movinet-bench</h1><p class="note">${esc(envLine)}</p>${body}</body></html>\n`;
}
