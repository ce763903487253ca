import type { AccuracyRun } from '../core/results.js';
import { agreement, completeRun } from '../metrics/accuracy.js';
import { UserError } from '../util/errors.js';
import type { AccuracyReport, Report } from './schema.js';

/**
 * Combines shard reports of one accuracy configuration into the report a
 * single run would have written: clips are pooled per (model, backend), put
 * back in path order, and every summary is recomputed from them.
 */
export function mergeAccuracyReports(reports: Report[], files: string[]): AccuracyReport {
  const acc = reports.map((r, i) => {
    if (r.kind !== 'accuracy')
      throw new UserError(`${files[i]} is a ${r.kind} report; merge takes accuracy shard reports`);
    return r;
  });
  const first = acc[0]!;
  // Shards differ only in which clips they hold.
  const key = (r: AccuracyReport) =>
    JSON.stringify({ ...r.config, shard: null, dataset: { ...r.config.dataset, clips: 0 } });
  for (const [i, r] of acc.entries()) {
    if (key(r) !== key(first))
      throw new UserError(
        `${files[i]} was run with another configuration than ${files[0]} (dataset, models, backends, resize or fps differ)`,
      );
  }
  const shards = acc.map((r) => r.config.shard);
  if (shards.every((s) => s !== null)) {
    const count = shards[0]!.count;
    const seen = new Set(shards.map((s) => s!.index));
    if (shards.some((s) => s!.count !== count) || seen.size !== shards.length)
      throw new UserError('shard reports overlap or come from different --shard splits');
    if (seen.size !== count)
      throw new UserError(
        `only ${seen.size} of ${count} shards given; missing ${[...Array(count).keys()].filter((i) => !seen.has(i)).join(', ')}`,
      );
  }
  const byPair = new Map<string, AccuracyRun[]>();
  for (const r of acc)
    for (const run of r.runs)
      byPair.set(`${run.model.id}\u0000${run.backend}`, [
        ...(byPair.get(`${run.model.id}\u0000${run.backend}`) ?? []),
        run,
      ]);
  const runs = [...byPair.values()].map((parts) => {
    const clips = parts.flatMap((p) => p.clips).sort((a, b) => a.file.localeCompare(b.file));
    return completeRun(
      parts[0]!.model,
      parts[0]!.backend,
      parts[0]!.runtime,
      clips,
      parts.reduce((a, p) => a + p.wallMs, 0),
    );
  });
  const distinct = <T>(items: T[]) =>
    items.filter((s, i, all) => all.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
  return {
    ...first,
    createdAt: new Date().toISOString(),
    command: `movinet-bench reports merge ${files.join(' ')}`,
    config: {
      ...first.config,
      shard: null,
      dataset: { ...first.config.dataset, clips: runs[0]?.clips.length ?? first.config.dataset.clips },
    },
    runs,
    skipped: distinct(acc.flatMap((r) => r.skipped)),
    failed: distinct(acc.flatMap((r) => r.failed)),
    agreement: agreement(runs),
  };
}
