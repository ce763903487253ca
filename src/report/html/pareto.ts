import type { Reference } from '../../core/results.js';
import { maxOr } from '../../metrics/stats.js';
import { round } from '../format.js';
import { machineLabel } from '../machines.js';
import { chart, seriesColor } from './charts.js';
import type { AccuracyReport } from '../schema.js';
import { esc, plural, section, type BenchEntry, type Section } from './page.js';

interface Measured {
  series: string;
  model: string;
  p50: number;
  p50Low: number;
  p50High: number;
  top1: number;
  top1Low: number;
  top1High: number;
}

interface Published {
  model: string;
  source: string;
  ms: number;
  top1: number;
}

const PHONES = [
  ['Pixel 4 (source page)', (r: Reference) => r.pixel4Ms],
  ['Pixel 3 (source page)', (r: Reference) => r.pixel3Ms],
] as const;

/** Points no other point beats on both latency and top-1, fastest first. */
function frontier(points: readonly Measured[]): Measured[] {
  const sorted = [...points].sort((a, b) => a.p50 - b.p50 || b.top1 - a.top1);
  const out: Measured[] = [];
  for (const p of sorted) if (out.every((q) => p.top1 > q.top1)) out.push(p);
  return out;
}

const PUBLISHED_NOTE = [
  "Open marks are the source page's figures: int8 on phones (1 CPU thread),",
  'top-1 on the <b>full Kinetics-600 validation set</b>.',
  'Different clips and different hardware: compare the trade-off, not the points.',
].join(' ');

/** Accuracy against latency, per (model, backend) with both, beside the source page's phone figures. */
export const paretoSection: Section = async (ctx) => {
  const measured: Measured[] = [];
  const clipCounts = new Set<string>();
  const machines = new Set(ctx.benchEntries.map((e) => machineLabel(e.result)));
  // A point is a bench result's latency beside an accuracy run's top-1: the bench result's machine names it.
  const seriesOf = (e: BenchEntry, acc: AccuracyReport) =>
    ctx.nameOf({
      ...e.key,
      runs: [...(e.key.runs ?? []), ...(ctx.accuracy.length > 1 ? [`accuracy ${ctx.runName(acc)}`] : [])],
    });
  for (const acc of ctx.accuracy)
    for (const run of acc.runs) {
      if (run.summary.evaluated === 0) continue;
      for (const e of ctx.benchEntries) {
        if (e.result.model.id !== run.model.id || e.result.backend !== run.backend) continue;
        const ci = e.result.processMedianCI ?? {
          low: e.result.stats.medianCI95[0],
          high: e.result.stats.medianCI95[1],
        };
        const top1 = run.summary.top1;
        measured.push({
          series: seriesOf(e, acc),
          model: run.model.id,
          p50: round(e.result.stats.p50, 3),
          p50Low: round(ci.low, 3),
          p50High: round(ci.high, 3),
          top1: round(top1.value, 5),
          top1Low: round(top1.low, 5),
          top1High: round(top1.high, 5),
        });
        clipCounts.add(`${run.summary.evaluated} clips of ${acc.config.dataset.name}`);
      }
    }
  if (measured.length === 0) return null;
  const models = [...new Set(measured.map((m) => m.model))];
  const published: Published[] = [];
  for (const model of models) {
    const ref = [
      ...ctx.benchEntries.map((e) => e.result.model),
      ...ctx.accuracy.flatMap((a) => a.runs.map((r) => r.model)),
    ].find((m) => m.id === model)?.reference;
    if (!ref || ref.top1 === null) continue;
    for (const [source, ms] of PHONES) {
      const v = ms(ref);
      if (v !== null) published.push({ model, source, ms: v, top1: ref.top1 / 100 });
    }
  }
  // Room beyond the slowest point, so a mark on the domain's edge is not cut in half.
  const xMax = maxOr([...measured.map((m) => m.p50High), ...published.map((p) => p.ms)], 1) * 1.08;
  const x = { type: 'quantitative', title: 'p50 latency per frame (ms)', scale: { zero: true, domainMax: xMax } };
  const y = {
    type: 'quantitative',
    title: 'top-1 accuracy (% of clips)',
    scale: { zero: false },
    axis: { format: '%' },
  };
  const color = seriesColor(
    ctx,
    measured.map((m) => m.series),
    { title: 'measured here' },
  );
  const best = frontier(measured);
  const layers: unknown[] = [];
  if (best.length > 1)
    layers.push({
      data: { name: 'frontier' },
      mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [5, 4], strokeWidth: 1 },
      encoding: { x: { ...x, field: 'p50' }, y: { ...y, field: 'top1' }, order: { field: 'p50' } },
    });
  layers.push(
    {
      data: { name: 'measured' },
      mark: { type: 'rule', strokeWidth: 1.2 },
      encoding: { x: { ...x, field: 'p50' }, y: { ...y, field: 'top1Low' }, y2: { field: 'top1High' }, color },
    },
    {
      data: { name: 'measured' },
      mark: { type: 'rule', strokeWidth: 1.2 },
      encoding: { y: { ...y, field: 'top1' }, x: { ...x, field: 'p50Low' }, x2: { field: 'p50High' }, color },
    },
    {
      data: { name: 'measured' },
      mark: { type: 'point', filled: true, size: 70, opacity: 1 },
      encoding: { x: { ...x, field: 'p50' }, y: { ...y, field: 'top1' }, color },
    },
  );
  if (published.length)
    layers.push({
      data: { name: 'published' },
      mark: { type: 'point', filled: false, size: 90, strokeWidth: 1.6, color: '#333' },
      encoding: {
        x: { ...x, field: 'ms' },
        y: { ...y, field: 'top1' },
        shape: {
          field: 'source',
          type: 'nominal',
          title: 'published',
          scale: { domain: PHONES.map((p) => p[0]), range: ['square', 'triangle-up'] },
        },
      },
    });
  if (models.length > 1)
    for (const [name, xf, yf] of [
      ['measured', 'p50', 'top1'],
      ['published', 'ms', 'top1'],
    ] as const)
      layers.push({
        data: { name },
        mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 10, color: '#555' },
        encoding: { x: { ...x, field: xf }, y: { ...y, field: yf }, text: { field: 'model' } },
      });
  const spec = {
    width: 520,
    height: 300,
    datasets: { measured, published, frontier: best },
    layer: layers,
  };
  const threads = [...new Set(ctx.bench.map((b) => b.config.threads))].join('/');
  const cpu = [...machines].join(', ') || 'this machine';
  const p50 = `p50 from <code>bench</code> on ${esc(cpu)}, ${esc(threads)} thread(s)`;
  const top1 = `top-1 on <b>${esc([...clipCounts].join(', '))}</b> only (vertical bar: Wilson 95% interval)`;
  const figure = await chart(spec, {
    id: 'accuracy-vs-latency',
    description: 'Top-1 accuracy against p50 latency per model and backend, with the source page figures',
    caption: [
      `<b>Accuracy against latency</b>: up and to the left is better.`,
      `Filled dots are measured here: ${p50} (horizontal bar: the p50 interval), ${top1}.`,
      published.length ? PUBLISHED_NOTE : '',
      best.length > 1
        ? `Dashed: the ${plural(best.length, 'point')} measured here that no other beats on both axes.`
        : '',
    ]
      .filter(Boolean)
      .join(' '),
  });
  return section('pareto', 'Accuracy against latency', figure);
};
