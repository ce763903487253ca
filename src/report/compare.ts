import { mannWhitneyP } from '../bench/stats.js';
import { UserError } from '../util/errors.js';
import type { Report } from './schema.js';

export interface CompareOptions {
  /** Relative p50 increase that counts as a regression (0.05 = 5%). */
  threshold: number;
  /** Significance level for the Mann-Whitney test on the raw samples. */
  alpha: number;
  /** Clip-level top-1 drop (fraction) tolerated in accuracy reports. */
  top1Tolerance: number;
}

export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'missing' | 'new';

export interface ComparisonRow {
  model: string;
  backend: string;
  metric: string;
  old: number | null;
  new: number | null;
  change: number | null;
  pValue: number | null;
  verdict: Verdict;
  note?: string;
}

export interface Comparison {
  kind: Report['kind'];
  rows: ComparisonRow[];
  warnings: string[];
  regressions: number;
}

function envWarnings(a: Report, b: Report): string[] {
  const w: string[] = [];
  if (a.environment.cpuModel !== b.environment.cpuModel) w.push(`CPU differs: ${a.environment.cpuModel} vs ${b.environment.cpuModel}`);
  if (a.environment.node !== b.environment.node) w.push(`Node differs: ${a.environment.node} vs ${b.environment.node}`);
  for (const [pkg, v] of Object.entries(b.environment.packages)) {
    if (a.environment.packages[pkg] !== v) w.push(`${pkg} differs: ${a.environment.packages[pkg] ?? 'absent'} vs ${v}`);
  }
  return w;
}

/**
 * Old against new, per (model, backend). A latency regression needs both a
 * p50 increase beyond the threshold and a significant Mann-Whitney test on the
 * raw samples, so run-to-run noise does not fail CI; a pair that disappeared
 * counts as a regression too.
 */
export function compareReports(a: Report, b: Report, opts: CompareOptions): Comparison {
  if (a.kind !== b.kind) throw new UserError(`cannot compare a ${a.kind} report with a ${b.kind} report`);
  const warnings = envWarnings(a, b);
  const rows: ComparisonRow[] = [];
  if (a.kind === 'bench' && b.kind === 'bench') {
    for (const o of a.results) {
      const n = b.results.find((r) => r.model.id === o.model.id && r.backend === o.backend);
      if (!n) {
        rows.push({ model: o.model.id, backend: o.backend, metric: 'p50 ms', old: o.stats.p50, new: null, change: null, pValue: null, verdict: 'missing', note: b.skipped.find((s) => s.backend === o.backend && (s.model === o.model.id || o.model.id.startsWith(s.model)))?.reason });
        continue;
      }
      if (n.model.sha256 !== o.model.sha256) warnings.push(`${o.model.id}: model file changed (sha256 ${o.model.sha256.slice(0, 12)}… → ${n.model.sha256.slice(0, 12)}…)`);
      const p = mannWhitneyP(o.samplesMs, n.samplesMs);
      for (const metric of ['p50', 'p90'] as const) {
        const change = n.stats[metric] / o.stats[metric] - 1;
        const significant = p < opts.alpha;
        const verdict: Verdict = significant && change > opts.threshold ? 'regression' : significant && change < -opts.threshold ? 'improvement' : 'unchanged';
        // p90 is reported for context; only p50 decides, as it is what the test speaks about.
        rows.push({ model: o.model.id, backend: o.backend, metric: `${metric} ms`, old: o.stats[metric], new: n.stats[metric], change, pValue: p, verdict: metric === 'p50' ? verdict : verdict === 'regression' ? 'unchanged' : verdict, note: metric === 'p90' && verdict === 'regression' ? 'p90 up (informational)' : undefined });
      }
    }
    for (const n of b.results) if (!a.results.some((r) => r.model.id === n.model.id && r.backend === n.backend)) rows.push({ model: n.model.id, backend: n.backend, metric: 'p50 ms', old: null, new: n.stats.p50, change: null, pValue: null, verdict: 'new' });
  } else if (a.kind === 'accuracy' && b.kind === 'accuracy') {
    if (a.config.dataset.name !== b.config.dataset.name || a.config.dataset.clips !== b.config.dataset.clips) warnings.push(`datasets differ: ${a.config.dataset.name} (${a.config.dataset.clips}) vs ${b.config.dataset.name} (${b.config.dataset.clips})`);
    for (const o of a.runs) {
      const n = b.runs.find((r) => r.model.id === o.model.id && r.backend === o.backend);
      if (!n) {
        rows.push({ model: o.model.id, backend: o.backend, metric: 'top-1', old: o.summary.top1.value, new: null, change: null, pValue: null, verdict: 'missing' });
        continue;
      }
      const change = n.summary.top1.value - o.summary.top1.value;
      const verdict: Verdict = change < -opts.top1Tolerance - 1e-12 ? 'regression' : change > 1e-12 ? 'improvement' : 'unchanged';
      const flipped = o.clips.filter((c) => c.correct1 && n.clips.find((x) => x.file === c.file)?.correct1 === false).map((c) => c.file);
      rows.push({ model: o.model.id, backend: o.backend, metric: 'top-1', old: o.summary.top1.value, new: n.summary.top1.value, change, pValue: null, verdict, note: flipped.length ? `now wrong: ${flipped.join(', ')}` : undefined });
      rows.push({ model: o.model.id, backend: o.backend, metric: 'top-5', old: o.summary.top5.value, new: n.summary.top5.value, change: n.summary.top5.value - o.summary.top5.value, pValue: null, verdict: 'unchanged' });
    }
  }
  if (a.kind === 'parity' && b.kind === 'parity') {
    for (const o of a.pairs) {
      const n = b.pairs.find((p) => p.model.id === o.model.id && p.backend === o.backend && p.reference === o.reference);
      const okNew = n ? n.clipsMatching === n.clips.length && n.frameTop1Agreement >= b.config.minAgreement : false;
      rows.push({ model: o.model.id, backend: `${o.backend} vs ${o.reference}`, metric: 'frame top-1 agreement', old: o.frameTop1Agreement, new: n?.frameTop1Agreement ?? null, change: n ? n.frameTop1Agreement - o.frameTop1Agreement : null, pValue: null, verdict: !n ? 'missing' : okNew ? 'unchanged' : 'regression' });
    }
  }
  return { kind: a.kind, rows, warnings, regressions: rows.filter((r) => r.verdict === 'regression' || r.verdict === 'missing').length };
}
