import { extent } from '../../metrics/stats.js';
import { round } from '../format.js';
import { chart, PLOT, seriesColor, slug } from './charts.js';
import { binSize, cdfPoints, frameBins, MAX_CDF_POINTS, runBoundaries, type Boundary } from './downsample.js';
import { esc, section, type BenchEntry, type Html, type PageContext, type Section } from './page.js';

/** More boundary lines than this turn the chart gray; repeat boundaries are then left out (and the caption says so). */
const MAX_BOUNDARIES = 80;

/** Log scale: the body (a few ms) and a tail ten times longer both stay readable. */
function xMs(rows: readonly { ms: number }[]) {
  const xs = rows.map((r) => r.ms).filter((v) => v > 0);
  const [lo, hi] = xs.length ? extent(xs) : [0.1, 10];
  // A nice log domain would round out to whole decades, leaving most of the plot empty.
  const domain = [lo * 0.9, hi * 1.1];
  return {
    field: 'ms',
    type: 'quantitative',
    title: 'latency per frame (ms, log scale)',
    scale: { type: 'log', domain, nice: false },
  };
}
const Y_FRACTION = {
  field: 'p',
  type: 'quantitative',
  title: 'frames at or below (%)',
  scale: { domain: [0, 1] },
  axis: { format: '%' },
} as const;

function cdfChart(ctx: PageContext, model: string, entries: readonly BenchEntry[]): Promise<Html> {
  const rows = entries.flatMap((e) =>
    cdfPoints(e.result.samplesMs).map((pt) => ({ series: e.label, ms: round(pt.ms, 3), p: round(pt.p, 5) })),
  );
  const largest = Math.max(...entries.map((e) => e.result.samplesMs.length));
  const spec = {
    ...PLOT,
    datasets: {
      cdf: rows,
      levels: [
        { p: 0.5, level: 'p50' },
        { p: 0.9, level: 'p90' },
      ],
    },
    layer: [
      {
        data: { name: 'levels' },
        mark: { type: 'rule', color: '#aaa', strokeDash: [3, 3], strokeWidth: 1 },
        encoding: { y: Y_FRACTION },
      },
      {
        data: { name: 'levels' },
        mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 3, dy: -2, color: '#888', fontSize: 10 },
        encoding: { x: { value: 0 }, y: Y_FRACTION, text: { field: 'level' } },
      },
      {
        data: { name: 'cdf' },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: xMs(rows),
          y: Y_FRACTION,
          color: seriesColor(
            ctx,
            entries.map((e) => e.label),
          ),
        },
      },
    ],
  };
  const tail = 'evenly spaced, plus p99, p99.5, p99.9 and p99.99';
  const quantiles = `each line is drawn through at most ${MAX_CDF_POINTS} quantiles of its samples (${tail})`;
  const drawn = largest <= MAX_CDF_POINTS ? 'every measured frame is a step' : quantiles;
  const what = 'the share of measured frames (warm-up excluded) at or below each latency';
  const reading = 'further left is faster, a long flat top is a long tail';
  const title = `<b>Latency distribution, ${esc(model)}</b>`;
  return chart(spec, {
    id: `cdf-${slug(model)}`,
    description: `Latency distribution of ${model} per backend`,
    caption: `${title}: ${what}; ${reading}. All processes and repeats pooled; ${esc(drawn)}.`,
  });
}

function boundariesOf(entries: readonly BenchEntry[]): { shown: Boundary[]; repeatsOmitted: boolean } {
  const byFrame = new Map<number, Boundary>();
  for (const e of entries)
    for (const b of runBoundaries(e.result, e.report.config.frames)) {
      if (byFrame.get(b.frame)?.kind !== 'process') byFrame.set(b.frame, b);
    }
  const all = [...byFrame.values()].sort((a, b) => a.frame - b.frame);
  if (all.length <= MAX_BOUNDARIES) return { shown: all, repeatsOmitted: false };
  return { shown: all.filter((b) => b.kind === 'process').slice(0, MAX_BOUNDARIES), repeatsOmitted: true };
}

function framesChart(ctx: PageContext, model: string, entries: readonly BenchEntry[]): Promise<Html> {
  const k = binSize(Math.max(...entries.map((e) => e.result.samplesMs.length)));
  const bins = entries.flatMap((e) =>
    frameBins(e.result.samplesMs, k).map((b) => ({
      series: e.label,
      frame: b.frame,
      min: round(b.min, 3),
      median: round(b.median, 3),
      max: round(b.max, 3),
    })),
  );
  const { shown, repeatsOmitted } = boundariesOf(entries);
  const x = { field: 'frame', type: 'quantitative', title: 'measured frame, in run order', scale: { nice: false } };
  const y = { type: 'quantitative', title: 'latency per frame (ms)', scale: { zero: true } };
  const color = seriesColor(
    ctx,
    entries.map((e) => e.label),
    // The band's faint fill would otherwise be the legend's symbol.
    { legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2 } },
  );
  const kinds = [...new Set(shown.map((b) => b.kind))];
  const layers: unknown[] = [];
  if (k > 1)
    layers.push({
      data: { name: 'bins' },
      mark: { type: 'area', opacity: 0.22 },
      encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color },
    });
  layers.push({
    data: { name: 'bins' },
    mark: { type: 'line', strokeWidth: k > 1 ? 1.4 : 1 },
    encoding: { x, y: { ...y, field: 'median' }, color },
  });
  if (shown.length)
    layers.unshift({
      data: { name: 'boundaries' },
      mark: { type: 'rule', color: '#9a9a9a', strokeWidth: 1 },
      encoding: {
        x,
        strokeDash: {
          field: 'kind',
          type: 'nominal',
          title: 'boundary',
          scale: { domain: kinds, range: kinds.map((kd) => (kd === 'process' ? [1, 0] : [4, 3])) },
        },
      },
    });
  const spec = { ...PLOT, datasets: { bins, boundaries: shown }, layer: layers };
  const binnedText = `Each point is the median of ${k} consecutive frames (line) with their min–max (band)`;
  const drawn = k === 1 ? 'Every measured frame is a point.' : `${binnedText}, so spikes stay visible.`;
  const lines = [
    kinds.includes('process') ? 'solid lines: a new process (its own load and warm-up)' : '',
    kinds.includes('repeat') ? 'dashed: a new repeat (states reset to zero)' : '',
  ].filter(Boolean);
  const boundaries = lines.length ? ` Vertical lines: ${esc(lines.join('; '))}.` : '';
  const omitted = repeatsOmitted ? ' Repeat boundaries are too many to draw and are left out.' : '';
  const title = `<b>Per-frame latency in run order, ${esc(model)}</b>`;
  return chart(spec, {
    id: `frames-${slug(model)}`,
    description: `Per-frame latency of ${model} in run order per backend`,
    caption: `${title}: processes one after another, repeats within each. ${esc(drawn)}${boundaries}${omitted}`,
  });
}

/** Per model, one CDF and one per-frame chart over every bench result given, on shared axes. */
export const latencyChartsSection: Section = async (ctx) => {
  if (ctx.benchEntries.length === 0) return null;
  const parts: Html[] = [];
  for (const model of ctx.models) {
    const entries = ctx.benchEntries.filter((e) => e.result.model.id === model);
    if (entries.length === 0) continue;
    const [cdf, frames] = await Promise.all([cdfChart(ctx, model, entries), framesChart(ctx, model, entries)]);
    parts.push(`<h3>${esc(model)}</h3><div class="charts">${cdf}${frames}</div>`);
  }
  return section('latency-charts', 'Latency per frame', parts.join('\n'));
};
