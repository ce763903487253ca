import Table from 'cli-table3';
import type { Reference } from '../models/manifest.js';
import type { AccuracyReport, BenchReport, ParityReport, Report, Skipped } from './schema.js';

export const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function referenceCells(ref: Reference | null): string[] {
  return [fmt(ref?.sizeMB, 1), ref?.top1 != null ? `${ref.top1}%` : '–', fmt(ref?.pixel4Ms, 0), fmt(ref?.pixel3Ms, 0)];
}

/** Skipped pairs go under the table, one line per model and reason, so long reasons do not stretch columns. */
function skippedLines(skipped: Skipped[]): string {
  const groups = new Map<string, string[]>();
  for (const s of skipped) {
    const key = `${s.status} ${s.model}: ${s.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), s.backend]);
  }
  return [...groups].map(([key, backends]) => `${key.split(':')[0]} (${backends.join(', ')}):${key.slice(key.indexOf(':') + 1)}`).map((l) => `\n${l}`).join('');
}

/** Our latency beside the source page's reference figures (int8, 1 thread, TFLite benchmark tool on phones). */
export function benchTable(report: BenchReport): string {
  const head = ['model', 'backend', 'thr', 'load ms', '1st ms', 'p50 ms', 'p90 ms', 'p99 ms', 'p50 95% CI', 'fps', '×RT', 'RSS MB', 'ovh', 'ref MB', 'ref top-1', 'Pixel 4', 'Pixel 3'];
  const table = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  for (const r of report.results) {
    table.push([
      r.model.id, r.backend, r.runtime.threads.requested, fmt(r.loadMs, 0), fmt(r.firstInferenceMs, 1),
      fmt(r.stats.p50), fmt(r.stats.p90), fmt(r.stats.percentiles.p99 ?? null),
      `${fmt(r.stats.medianCI95[0])}–${fmt(r.stats.medianCI95[1])}`, fmt(r.fps, 1), fmt(r.realtimeFactor, 1), fmt(r.peakRssMB, 0),
      r.overhead ? fmt(r.overhead.ratio, 3) : '–', ...referenceCells(r.model.reference),
    ]);
  }
  const warnings = report.results.flatMap((r) => r.warnings.map((w) => `\nwarning ${r.model.id} ${r.backend}: ${w}`)).join('');
  return `${table.toString()}${skippedLines(report.skipped)}${warnings}\nPixel 4 / Pixel 3 ms and ref columns: the source page (int8, 1 CPU thread, TFLite benchmark tool on phones), not this machine. ovh = p50(step loop) / p50(bare runtime loop).`;
}

export function accuracyTable(report: AccuracyReport): string {
  const head = ['model', 'backend', 'clips', 'top-1 (95% CI)', 'top-5 (95% CI)', 'errors', 'median t→correct', 'p50 ms', 'wall / infer / wait s', 'ref top-1 int8*', 'paper float*'];
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of report.runs) {
    const s = r.summary;
    table.push([
      r.model.id, r.backend, s.evaluated,
      `${pct(s.top1.value)} (${pct(s.top1.low)}–${pct(s.top1.high)})`,
      `${pct(s.top5.value)} (${pct(s.top5.low)}–${pct(s.top5.high)})`,
      s.errors, s.medianTimeToCorrectS === null ? '–' : `${fmt(s.medianTimeToCorrectS, 1)} s`, fmt(r.latency?.p50 ?? null),
      `${fmt(r.wallMs / 1000, 1)} / ${fmt(r.inferenceMs / 1000, 1)} / ${fmt(r.decodeWaitMs / 1000, 1)}`,
      r.model.reference?.top1 != null ? `${r.model.reference.top1}%` : '–',
      r.model.reference?.paperFloatStreamTop1 != null ? `${r.model.reference.paperFloatStreamTop1}%` : '–',
    ]);
  }
  const misses = report.runs.flatMap((r) => r.clips.filter((c) => !c.correct1).map((c) =>
    `${r.backend}: ${c.file} (${c.label}) -> ${c.status === 'error' ? `error: ${c.error}` : c.top5.slice(0, 3).map((p) => `${p.label} ${pct(p.prob)}`).join(', ')}`));
  const agree = report.agreement.map((a) => `agreement ${a.backends.join(' vs ')}: final top-1 ${pct(a.clipTop1)} of clips, per-frame top-1 ${pct(a.frameTop1)}`);
  const extra = [...(misses.length ? ['wrong or failed clips:', ...misses.map((m) => `  ${m}`)] : []), ...agree].map((l) => `\n${l}`).join('');
  return `${table.toString()}${skippedLines(report.skipped)}${extra}\n* reference top-1 is on the full Kinetics-600 validation set (~28k clips); ours is on ${report.config.dataset.clips} clips of ${report.config.dataset.name}: a different measurement with a wide interval. wait = time the model waited on the decoder.`;
}

export function parityTable(report: ParityReport): string {
  const head = ['model', 'reference', 'backend', 'clips same top-1', 'frame top-1 agreement', 'max |Δlogit|', 'max |Δprob|', 'verdict'];
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const p of report.pairs) {
    const ok = p.clipsMatching === p.clips.length && p.frameTop1Agreement >= report.config.minAgreement;
    table.push([p.model.id, p.reference, p.backend, `${p.clipsMatching}/${p.clips.length}`, pct(p.frameTop1Agreement), fmt(p.maxAbsLogitDiff, 3), fmt(p.maxAbsProbDiff, 4), ok ? 'ok' : 'MISMATCH']);
  }
  const bad = report.pairs.flatMap((p) => p.clips.filter((c) => !c.match).map((c) => `${p.backend}: ${c.file} ${c.error ?? `final top-1 ${c.finalTop1[0]} vs ${c.finalTop1[1]}`}`));
  return `${table.toString()}${skippedLines(report.skipped)}${bad.map((l) => `\n${l}`).join('')}\nparity ${report.passed ? 'passed' : 'FAILED'} (every clip's final top-1 must match; per-frame top-1 agreement >= ${pct(report.config.minAgreement)})`;
}

export function reportTable(report: Report): string {
  if (report.kind === 'bench') return benchTable(report);
  if (report.kind === 'accuracy') return accuracyTable(report);
  return parityTable(report);
}
