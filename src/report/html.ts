import { baselineSection } from './html/baseline.js';
import { capacitySection } from './html/capacity.js';
import { driftSection } from './html/drift.js';
import { latencyChartsSection } from './html/latency.js';
import { liveSection } from './html/live.js';
import { buildContext, renderPage, type Section } from './html/page.js';
import { paretoSection } from './html/pareto.js';
import { profileSection } from './html/profile.js';
import { kernelsSection } from './html/kernels.js';
import { rooflineSection } from './html/roofline.js';
import { accuracySection, benchTablesSection, paritySection } from './html/sections.js';
import { headerSection, summarySection } from './html/summary.js';
import type { Report } from './schema.js';

/**
 * The HTML summary is a list of sections, each `(ctx) => html | null` over
 * one shared context (reports split by kind, model order, one name and
 * color per result: its backend, run and, on a page of several machines,
 * machine). A new kind of content (live runs, browser runs, per-op profiles,
 * more models) is a new section in its own file and one line here; the other
 * sections do not change. Charts are Vega-Lite specs drawn to SVG in Node,
 * which is asynchronous, hence the async renderHtml. The page stays
 * self-contained: inline style and SVG, no executed script, no external asset.
 */
export const SECTIONS: readonly Section[] = [
  headerSection,
  summarySection,
  baselineSection,
  latencyChartsSection,
  paretoSection,
  benchTablesSection,
  profileSection,
  kernelsSection,
  rooflineSection,
  accuracySection,
  paritySection,
  liveSection,
  capacitySection,
  driftSection,
];

export async function renderHtml(reports: Report[], opts: { baseline?: Report } = {}): Promise<string> {
  return renderPage(SECTIONS, buildContext(reports, opts.baseline));
}
