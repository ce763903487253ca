import { fmt, round } from '../format.js';
import { chart, PLOT, seriesColor, slug } from './charts.js';
import { esc, plainTable, section, type Html, type PageContext, type Section } from './page.js';

/** Op types drawn per backend; the rest are summed as "other" so the bars stay readable. */
const SHOWN_OPS = 8;
const SHOWN_TYPES = `${SHOWN_OPS} largest types, the rest as "other"`;
const PROFILE_SOURCE = "from each runtime's profiler in a separate, untimed run";

/**
 * Where each runtime's step time goes, from its own profiler (`bench
 * --profile`): time per operator type per frame as bars, and the slowest
 * nodes. Profiles come from separate, untimed runs; runtimes without a
 * profiler say so.
 */
export const profileSection: Section = async (ctx: PageContext): Promise<Html | null> => {
  const entries = ctx.benchEntries.filter((e) => e.result.profile);
  if (entries.length === 0) return null;
  const parts: Html[] = [];
  for (const model of ctx.models) {
    const mine = entries.filter((e) => e.result.model.id === model);
    const available = mine.filter((e) => e.result.profile!.available);
    if (mine.length === 0) continue;
    const rows = available.flatMap((e) => {
      const p = e.result.profile!;
      const top = p.byOp.slice(0, SHOWN_OPS);
      const rest = p.byOp.slice(SHOWN_OPS).reduce((s, o) => s + o.msPerFrame, 0);
      return [
        ...top.map((o) => ({ series: e.label, op: o.op, ms: round(o.msPerFrame, 4) })),
        ...(rest > 0 ? [{ series: e.label, op: 'other', ms: round(rest, 4) }] : []),
      ];
    });
    if (rows.length) {
      const spec = {
        ...PLOT,
        data: { values: rows },
        mark: 'bar',
        encoding: {
          y: { field: 'op', type: 'nominal', title: 'operator type', sort: '-x' },
          x: { field: 'ms', type: 'quantitative', title: 'node time per frame (ms)' },
          yOffset: { field: 'series' },
          color: seriesColor(
            ctx,
            available.map((e) => e.label),
          ),
        },
      };
      parts.push(
        await chart(spec, {
          id: `profile-${slug(model)}`,
          description: `time per operator type per frame, ${model}`,
          caption: `${esc(model)}: node time per frame by operator type, ${PROFILE_SOURCE} (${SHOWN_TYPES}).`,
        }),
      );
    }
    for (const e of mine) {
      const p = e.result.profile!;
      if (!p.available) {
        parts.push(`<p class="note">${esc(e.label)}: no profile (${esc(p.source)}).</p>`);
        continue;
      }
      const perFrame = `${fmt(p.totalMsPerFrame, 2)} ms of node time per frame`;
      const head = `${e.label}: ${p.source}, ${p.frames} frames, ${perFrame}`;
      const top = plainTable(
        [{ header: 'node', text: true, wrap: true }, { header: 'op', text: true }, { header: 'ms per frame' }],
        p.topNodes.map((n) => [n.node, n.op, fmt(n.msPerFrame, 3)]),
      );
      parts.push(`<details><summary>${esc(head)}: the ${p.topNodes.length} slowest nodes</summary>${top}</details>`);
    }
  }
  return section('profile', 'Where the time goes (per-op profiles)', parts.join('\n'));
};
