/**
 * The power of the `ab` gate, estimated from measured A/A runs (scripts/ab-power.sh makes them):
 * for each mode, condition, backend and metric, the per-pair log ratios of the A/A run are drawn with
 * replacement in the gate's number of pairs, shifted by a seeded slow-down, and judged as the gate
 * judges (Wilcoxon signed-rank p < alpha and median change > threshold). The ratios are centred on their
 * median first, as in src/metrics/detectable.ts: both modes balance their sides by design (order or
 * CPUs alternate), so a 20-pair sample's offset is chance, which left in would bias every estimate by
 * it. The offset is printed beside (a mode with a real bias would show one in every condition), as is
 * each A/A run's own verdict, the spread of the ratios and the real seeded runs that confirm the estimate.
 * An A/A run that failed (its exit recorded in meta.json, or no reports), or one --expect names that is not
 * there, is refused: no estimate is printed with a condition silently missing. Usage, after `npm run build`:
 *   node dist/scripts/ab-power.js <dir> [--pairs 10,20] [--threshold 2] [--threshold-p90 5] [--alpha 0.01]
 *     [--expect interleaved-quiet,duet-cpu] [--json]
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
    expect: { type: 'string' },
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
  /** The run's exit code (meta.json of older runs has none for A/A runs). */
  exit?: number;
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

interface PowerRow {
  mode: string;
  condition: string;
  load: number;
  seconds: number;
  backend: string;
  metric: string;
  pairs: number;
  medianRatio: number;
  iqrPct: number;
  sdPct: number;
  aaFlagged: [boolean, boolean];
  /** By pairs, then by seeded effect: the fraction of resampled runs the gate flags. */
  power: Record<number, Record<number, number>>;
}

interface ConfirmRow {
  mode: string;
  condition: string;
  effect: number;
  run: string;
  backend: string;
  metric: string;
  change: number | null;
  p: number | null;
  verdict: string;
  exit: number | undefined;
  seconds: number;
}

const rows: PowerRow[] = [];
const confirms: ConfirmRow[] = [];
/** A/A runs that failed, by folder, and the mode-condition of each A/A run that did not. */
const failedAA: string[] = [];
const measuredAA = new Set<string>();
for (const name of fs.readdirSync(dir).sort()) {
  const run = path.join(dir, name);
  const metaFile = path.join(run, 'meta.json');
  if (!fs.existsSync(metaFile)) continue;
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta & { effect?: number; exit?: number };
  if (meta.effect !== undefined) {
    const file = path.join(run, 'comparison.json');
    // A run that crashed left no comparison: listed as such, never skipped.
    const c: Comparison | null = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Comparison) : null;
    const judged = c?.rows ?? [{ backend: '(run failed)', metric: '–', change: null, pValue: null, verdict: 'none' }];
    for (const r of judged)
      confirms.push({
        mode: meta.mode,
        condition: meta.condition,
        effect: meta.effect,
        run: name,
        backend: r.backend,
        metric: r.metric.split(' ')[0] ?? r.metric,
        change: r.change,
        p: r.pValue,
        verdict: r.verdict,
        exit: meta.exit,
        seconds: meta.seconds,
      });
    continue;
  }
  if (meta.exit !== undefined && meta.exit !== 0) {
    failedAA.push(`${name} (exit ${meta.exit})`);
    continue;
  }
  if (!fs.existsSync(path.join(run, 'baseline.json')) || !fs.existsSync(path.join(run, 'candidate.json'))) {
    failedAA.push(`${name} (no reports)`);
    continue;
  }
  measuredAA.add(`${meta.mode}-${meta.condition}`);
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
        load: meta.loadBefore[0] ?? 0,
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

const missing = (values.expect ?? '').split(',').filter((c) => c && !measuredAA.has(c));
const refusals = [
  ...(failedAA.length ? [`A/A run(s) failed: ${failedAA.join(', ')}`] : []),
  ...(missing.length ? [`no A/A run of ${missing.join(', ')}`] : []),
];
if (refusals.length) {
  console.error(`ab-power: refused (${refusals.join('; ')}): power is not estimated with a condition missing`);
  process.exit(1);
}

const pct = (v: number) => `${Math.round(v * 100)}%`;
const signedPct = (v: number | null, digits = 1) => (v === null ? '–' : `${(v * 100).toFixed(digits)}%`);
const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => `|${' --- |'.repeat(n)}`;

function powerTable(): string[] {
  const head = PAIRS.flatMap((n) => EFFECTS.map((e) => `${n}p ${e ? `+${e * 100}%` : 'A/A'}`));
  const fixed = [
    'mode',
    'condition',
    'load',
    'backend',
    'metric',
    'ratio IQR',
    'A/A offset',
    'A/A run flagged (all / 10 pairs)',
  ];
  const cells = (r: PowerRow) => [
    r.mode,
    r.condition,
    r.load.toFixed(1),
    r.backend,
    r.metric,
    `${r.iqrPct.toFixed(1)}%`,
    signedPct(r.medianRatio - 1),
    r.aaFlagged.map((f) => (f ? 'yes' : 'no')).join(' / '),
    ...PAIRS.flatMap((n) => EFFECTS.map((e) => pct(r.power[n]![e]!))),
  ];
  return [line([...fixed, ...head]), rule(fixed.length + head.length), ...rows.map((r) => line(cells(r)))];
}

function confirmTable(): string[] {
  const head = ['mode', 'condition', 'seeded', 'run', 'backend', 'metric', 'change', 'p', 'verdict', 'exit', 's'];
  const cells = (c: ConfirmRow) => [
    c.mode,
    c.condition,
    `+${c.effect * 100}%`,
    c.run,
    c.backend,
    c.metric,
    signedPct(c.change),
    c.p === null ? '–' : c.p.toPrecision(2),
    c.verdict,
    String(c.exit),
    c.seconds,
  ];
  return [line(head), rule(head.length), ...confirms.map((c) => line(cells(c)))];
}

if (values.json) {
  console.log(JSON.stringify({ threshold: THRESHOLD, alpha: ALPHA, draws: DRAWS, rows, confirms }, null, 1));
} else {
  const gate = `Wilcoxon p < ${ALPHA} and median change > ${THRESHOLD.p50! * 100}% on p50, ${THRESHOLD.p90! * 100}% on p90`;
  if (rows.length)
    console.log([`Power by resampling (${DRAWS} draws; regression = ${gate}):`, '', ...powerTable()].join('\n'));
  if (confirms.length) console.log(['', 'Real seeded runs:', '', ...confirmTable()].join('\n'));
}
