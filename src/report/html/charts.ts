import type { TopLevelSpec } from 'vega-lite';
import { esc, PALETTE, type Html, type PageContext } from './page.js';

/**
 * Charts are Vega-Lite specs, compiled and drawn to SVG here in Node, so the
 * page needs no script to show them. Each spec is embedded beside its SVG as
 * inert JSON: paste it into any Vega-Lite tool to reuse or restyle the chart.
 */

/** Default plot size; with the legend beside it, two charts fit side by side in the page's width. */
export const PLOT = { width: 400, height: 220 };

const CONFIG = {
  font: 'system-ui, "DejaVu Sans", sans-serif',
  background: 'white',
  view: { stroke: '#d0d0d0' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: '#333',
    labelColor: '#444',
    gridColor: '#ececec',
    domainColor: '#888',
    tickColor: '#888',
  },
  legend: { orient: 'right', labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 240 },
  line: { strokeWidth: 1.6 },
} as const;

/** Vega numbers clip paths from 1 in every SVG; on one page the ids must be unique or charts clip each other. */
function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

const isColorLegend = (l: { fill?: string; stroke?: string }) => l.fill === 'color' || l.stroke === 'color';

/** JSON inside a script element must not contain `</script` or `<!--`; escaping every `<` rules both out. */
function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** A Vega-Lite spec without its config, which every chart of the page shares. */
export type ChartSpec = Record<string, unknown>;

export interface ChartOptions {
  /** Unique on the page; also names the embedded spec. */
  id: string;
  /** For screen readers; becomes the SVG's aria-label. */
  description: string;
  caption: Html;
}

/** A figure: the SVG drawn from the spec, its caption, and the spec itself as data. */
export async function chart(spec: ChartSpec, opts: ChartOptions): Promise<Html> {
  // Loaded on the first chart: every other command (and every CLI start) is spared their load time.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const full = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: opts.description,
    ...spec,
    config: CONFIG,
  };
  // Vega-Lite's spec types are a deep union that plain data-built layers cannot name; compile validates instead.
  const vg = compile(full as unknown as TopLevelSpec).spec;
  // Legends follow layer order; the series (color) legend reads first whatever layer draws underneath.
  vg.legends?.sort((a, b) => Number(isColorLegend(b)) - Number(isColorLegend(a)));
  const view = new View(parse(vg), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const id = esc(opts.id);
  return `<figure class="chart" id="${id}">${scopeIds(svg, opts.id)}
<figcaption>${opts.caption}</figcaption>
<script type="application/json" class="vega-lite-spec" data-chart="${id}">${inertJson(full)}</script></figure>`;
}

/**
 * The page's colors for these series only, so a legend lists what its chart draws. A series the page has no
 * color for (one that joins a result to a run, say) takes a color no other series of this chart has: one shared
 * gray would draw different series as one.
 */
export function colorScale(ctx: PageContext, labels: Iterable<string>): { domain: string[]; range: string[] } {
  const present = new Set(labels);
  const domain = ctx.colors.domain.filter((d) => present.has(d));
  const extra = [...present].filter((d) => !ctx.colors.domain.includes(d));
  const range = domain.map((d) => ctx.colors.range[ctx.colors.domain.indexOf(d)]!);
  const free = PALETTE.filter((c) => !range.includes(c));
  const spare = free.length ? free : PALETTE;
  return { domain: [...domain, ...extra], range: [...range, ...extra.map((_, i) => spare[i % spare.length]!)] };
}

/**
 * The color channel of a chart whose series are results, keyed by their page names (`nameOf`). Labels are never
 * cut: a name ends in what tells two series apart (its run, its machine), which a cut label would drop.
 */
export function seriesColor(
  ctx: PageContext,
  labels: Iterable<string>,
  opts: { title?: string; legend?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    field: 'series',
    type: 'nominal',
    title: opts.title ?? ctx.seriesTitle,
    scale: colorScale(ctx, labels),
    legend: { labelLimit: 0, ...opts.legend },
  };
}

/** A DOM-safe id fragment from free text such as a model id. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-');
}
