/**
 * The power of the `ab` gate, estimated from measured A/A runs (scripts/ab-power.sh makes them):
 * for each mode, condition, backend and metric, the per-pair log ratios of the A/A run are drawn with
 * replacement in the gate's number of pairs, shifted by a seeded slow-down, and judged as the gate
 * judges (Wilcoxon signed-rank p < alpha and median change > threshold). The ratios are centred on their
 * median first, as in src/metrics/detectable.ts: both modes balance their sides by design (order or
 * CPUs alternate), so a 20-pair sample's offset is chance, which left in would bias every estimate by
 * it. The offset is printed beside (a mode with a real bias would show one in every condition), as is
 * each A/A run's own verdict, the spread of the ratios and the real seeded runs that confirm the estimate. Usage, after `npm run build`:
 *   node dist/scripts/ab-power.js <dir> [--pairs 10,20] [--threshold 2] [--threshold-p90 5] [--alpha 0.01] [--json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { draw, generator } from '../src/metrics/detectable.js';
import { wilcoxonSignedRankP } from '../src/metrics/hypothesis.js';
import { median, percentileSorted } from '../src/metrics/stats.js';
import type { Comparison } from '../src/report/compare.js';
import { readReport, type BenchReport } from '../src/report/schema.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: 'string', default: '10,20' },
    threshold: { type: 'string', default: '2' },
    'threshold-p90': { type: 'string' },
    alpha: { type: 'string', default: '0.01' },
    draws: { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
  },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: ab-power.js <dir> [--pairs 10,20] [--threshold 2] [--alpha 0.01]');
  process.exit(2);
}
const PAIRS = values.pairs.split(',').map(Number);
const THRESHOLD: Record<string, number> = {
  p50: Number(values.threshold) / 100,
  p90: Number(values['threshold-p90'] ?? values.threshold) / 100,
};
const ALPHA = Number(values.alpha);
const DRAWS = Number(values.draws);
const EFFECTS = [0, 0.05, 0.1];
const METRICS = [
  { name: 'p50', of: (p: BenchReport['results'][number]['processes'][number]) => p.p50Ms },
  { name: 'p90', of: (p: BenchReport['results'][number]['processes'][number]) => p.p90Ms },
];

interface Meta {
  mode: string;
  condition: string;
  seconds: number;
  loadBefore: number[];
  loadAfter: number[];
}

/** The gate's verdict on paired log ratios: significant at alpha and beyond the metric's threshold. */
const regression = (logs: readonly number[], threshold: number) =>
  wilcoxonSignedRankP(logs) < ALPHA && Math.exp(median(logs)!) - 1 > threshold;

/** Fraction of resampled runs of `n` pairs that the gate calls a regression, with `effect` added. */
function power(logRatios: readonly number[], n: number, effect: number, threshold: number): number {
  const next = generator(n * 7919 + Math.round(effect * 1000));
  let hits = 0;
  for (let k = 0; k < DRAWS; k++)
    if (
      regression(
        draw(logRatios, n, next).map((x) => x + Math.log1p(effect)),
        threshold,
      )
    )
      hits++;
  return hits / DRAWS;
}

const rows: Record<string, unknown>[] = [];
const confirms: Record<string, unknown>[] = [];
for (const name of fs.readdirSync(dir).sort()) {
  const run = path.join(dir, name);
  const metaFile = path.join(run, 'meta.json');
  if (!fs.existsSync(metaFile)) continue;
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta & { effect?: number; exit?: number };
  if (meta.effect !== undefined) {
    const c = JSON.parse(fs.readFileSync(path.join(run, 'comparison.json'), 'utf8')) as Comparison;
    for (const r of c.rows)
      confirms.push({
        mode: meta.mode,
        condition: meta.condition,
        effect: meta.effect,
        backend: r.backend,
        metric: r.metric.split(' ')[0],
        change: r.change,
        p: r.pValue,
        verdict: r.verdict,
        exit: meta.exit,
        seconds: meta.seconds,
      });
    continue;
  }
  const base = readReport(path.join(run, 'baseline.json')) as BenchReport;
  const cand = readReport(path.join(run, 'candidate.json')) as BenchReport;
  for (const b of base.results) {
    const c = cand.results.find((x) => x.backend === b.backend && x.model.id === b.model.id);
    if (!c) continue;
    for (const m of METRICS) {
      const k = Math.min(b.processes.length, c.processes.length);
      const logs = Array.from({ length: k }, (_, i) => Math.log(m.of(c.processes[i]!) / m.of(b.processes[i]!)));
      const sorted = [...logs].sort((x, y) => x - y);
      const offset = median(logs)!;
      const centred = logs.map((x) => x - offset);
      const iqr = percentileSorted(sorted, 75) - percentileSorted(sorted, 25);
      rows.push({
        mode: meta.mode,
        condition: meta.condition,
        load: meta.loadBefore[0],
        seconds: meta.seconds,
        backend: b.backend,
        metric: m.name,
        pairs: k,
        medianRatio: Math.exp(median(logs)!),
        iqrPct: iqr * 100,
        sdPct: Math.sqrt(logs.reduce((s, x) => s + (x - logs.reduce((a, y) => a + y, 0) / k) ** 2, 0) / (k - 1)) * 100,
        // This A/A run itself, judged as the gate would: all its pairs, and its first 10.
        aaFlagged: [regression(logs, THRESHOLD[m.name]!), regression(logs.slice(0, 10), THRESHOLD[m.name]!)],
        power: Object.fromEntries(
          PAIRS.map((n) => [n, Object.fromEntries(EFFECTS.map((e) => [e, power(centred, n, e, THRESHOLD[m.name]!)]))]),
        ),
      });
    }
  }
}

if (values.json) {
  console.log(JSON.stringify({ threshold: THRESHOLD, alpha: ALPHA, draws: DRAWS, rows, confirms }, null, 1));
} else {
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  console.log(
    `Power by resampling (${DRAWS} draws; regression = Wilcoxon p < ${ALPHA} and median change > ${THRESHOLD.p50! * 100}% on p50, ${THRESHOLD.p90! * 100}% on p90):\n`,
  );
  const head = PAIRS.flatMap((n) => EFFECTS.map((e) => `${n}p ${e ? `+${e * 100}%` : 'A/A'}`));
  console.log(
    `| mode | condition | load | backend | metric | ratio IQR | A/A offset | A/A run flagged (all / 10 pairs) | ${head.join(' | ')} |`,
  );
  console.log(`|${' --- |'.repeat(8 + head.length)}`);
  for (const r of rows) {
    const p = r.power as Record<number, Record<number, number>>;
    const cells = PAIRS.flatMap((n) => EFFECTS.map((e) => pct(p[n]![e]!)));
    console.log(
      `| ${String(r.mode)} | ${String(r.condition)} | ${(r.load as number).toFixed(1)} | ${String(r.backend)} | ${String(r.metric)} | ${(r.iqrPct as number).toFixed(1)}% | ${(((r.medianRatio as number) - 1) * 100).toFixed(1)}% | ${(r.aaFlagged as boolean[]).map((f) => (f ? 'yes' : 'no')).join(' / ')} | ${cells.join(' | ')} |`,
    );
  }
  if (confirms.length) {
    console.log('\nReal seeded runs:\n');
    console.log('| mode | condition | seeded | backend | metric | change | p | verdict | exit | s |');
    console.log(`|${' --- |'.repeat(10)}`);
    for (const c of confirms)
      console.log(
        `| ${String(c.mode)} | ${String(c.condition)} | +${(c.effect as number) * 100}% | ${String(c.backend)} | ${String(c.metric)} | ${c.change === null ? '–' : `${((c.change as number) * 100).toFixed(1)}%`} | ${c.p === null ? '–' : (c.p as number).toPrecision(2)} | ${String(c.verdict)} | ${String(c.exit)} | ${String(c.seconds)} |`,
      );
  }
}
