import { combineProcesses } from '../bench/combine.js';
import type { AccuracyRun, BenchResult, ClipResult } from '../core/results.js';
import { agreement, completeRun } from '../metrics/accuracy.js';
import { UserError } from '../util/errors.js';
import { machineLabel } from './machines.js';
import type { AccuracyReport, BenchReport, Report, Shard } from './schema.js';

/** Items once each, by value (the same skipped entry from two shards is one entry). */
const distinct = <T>(items: T[]): T[] => [...new Map(items.map((x) => [JSON.stringify(x), x])).values()];

const pairKey = (run: AccuracyRun) => `${run.model.id} on ${run.backend}`;

function accuracyOnly(reports: readonly Report[], files: readonly string[]): AccuracyReport[] {
  return reports.map((r, i) => {
    if (r.kind !== 'accuracy') throw new UserError(`${files[i]} is a ${r.kind} report; merge takes accuracy reports`);
    return r;
  });
}

/** Sharded inputs: one split, every index exactly once, and (where recorded) the whole dataset covered. */
function checkShards(acc: readonly AccuracyReport[], files: readonly string[]): void {
  const shards = acc.map((r) => r.config.shard);
  if (shards.every((s) => s === null)) return;
  const i = shards.findIndex((s) => s === null);
  if (i >= 0)
    throw new UserError(`${files[i]} is a whole run, the others are shards: merging them would count clips twice`);
  const first = shards[0]!;
  const seen = new Map<number, string>();
  for (const [k, s] of shards.entries()) {
    if (s!.count !== first.count)
      throw new UserError(`${files[k]} is shard ${s!.index}/${s!.count}, ${files[0]} is of /${first.count}`);
    const twice = seen.get(s!.index);
    if (twice) throw new UserError(`${files[k]} and ${twice} are both shard ${s!.index}/${s!.count}`);
    seen.set(s!.index, files[k]!);
  }
  const missing = [...Array(first.count).keys()].filter((k) => !seen.has(k));
  if (missing.length) {
    const named = missing.map((k) => {
      const task = expectedTask(first, k);
      return task ? `${k} (${task})` : String(k);
    });
    throw new UserError(`only ${seen.size} of ${first.count} shards given; missing shard ${named.join(', ')}`);
  }
}

/** The engine task that should have written shard `index`, from a sibling shard's record of its own. */
function expectedTask(sibling: Shard, index: number): string | null {
  if (sibling.scheme === 'k8s-indexed-job') return `kubernetes indexed job, completion index ${index}`;
  if (sibling.scheme !== 'slurm-array') return null;
  const job = /slurm job (\S+),/.exec(sibling.task ?? '')?.[1];
  return job ? `slurm job ${job}, array task ${index}` : `slurm array task ${index}`;
}

/**
 * Combines accuracy reports of one configuration into the report a single run
 * would have written: the shards of one `--shard i/n` split, or whole runs
 * over disjoint clip sets. Nothing is ever counted twice: a clip that appears
 * in two inputs for the same (model, backend) is refused, and so is a split
 * that does not cover its dataset. Clips are put back in path order and every
 * summary is recomputed from them.
 */
export function mergeAccuracyReports(reports: Report[], files: string[]): AccuracyReport {
  const acc = accuracyOnly(reports, files);
  const first = acc[0]!;
  const sharded = first.config.shard !== null;
  // Shards of one run share the whole configuration; whole runs may differ only in their clips.
  const key = (r: AccuracyReport) => {
    const { shard: _shard, dataset, ...rest } = r.config;
    return JSON.stringify(sharded ? { ...rest, name: dataset.name, source: dataset.source } : rest);
  };
  for (const [i, r] of acc.entries()) {
    if (key(r) !== key(first)) {
      const what = 'dataset, models, backends, resize or fps differ';
      throw new UserError(`${files[i]} was run with another configuration than ${files[0]} (${what})`);
    }
  }
  checkShards(acc, files);

  interface Pooled {
    runs: AccuracyRun[];
    clips: Map<string, { clip: ClipResult; file: string }>;
  }
  const byPair = new Map<string, Pooled>();
  for (const [i, r] of acc.entries()) {
    for (const run of r.runs) {
      const entry: Pooled = byPair.get(pairKey(run)) ?? { runs: [], clips: new Map() };
      for (const clip of run.clips) {
        const twice = entry.clips.get(clip.file);
        if (twice)
          throw new UserError(
            `clip ${clip.file} is in both ${twice.file} and ${files[i]} (${pairKey(run)}): it would be counted twice`,
          );
        entry.clips.set(clip.file, { clip, file: files[i]! });
      }
      entry.runs.push(run);
      byPair.set(pairKey(run), entry);
    }
  }
  const expected = sharded ? first.config.shard!.datasetClips : null;
  const runs = [...byPair].map(([pair, { runs: parts, clips }]) => {
    if (parts.length !== acc.length)
      throw new UserError(
        `${pair} ran in only ${parts.length} of the ${acc.length} reports; its merge would be incomplete`,
      );
    if (expected !== null && clips.size !== expected) {
      throw new UserError(`${pair}: the shards hold ${clips.size} clips but the dataset has ${expected}`);
    }
    const merged = [...clips.values()].map((c) => c.clip).sort((a, b) => a.file.localeCompare(b.file));
    const p = parts[0]!;
    return completeRun(
      p.model,
      p.backend,
      p.runtime,
      merged,
      parts.reduce((a, x) => a + x.wallMs, 0),
    );
  });
  const names = [...new Set(acc.map((r) => r.config.dataset.name))];
  return {
    ...first,
    createdAt: new Date().toISOString(),
    command: `movinet-bench reports merge ${files.join(' ')}`,
    config: {
      ...first.config,
      shard: null,
      dataset: {
        name: names.join('+'),
        source: sharded ? first.config.dataset.source : acc.map((r) => r.config.dataset.source).join(' + '),
        clips: runs[0]?.clips.length ?? 0,
        missingClips: sharded
          ? first.config.dataset.missingClips
          : acc.reduce((s, r) => s + r.config.dataset.missingClips, 0),
      },
    },
    runs,
    skipped: distinct(acc.flatMap((r) => r.skipped)),
    failed: distinct(acc.flatMap((r) => r.failed)),
    agreement: agreement(runs),
  };
}

/**
 * Combines bench reports made with the same settings (e.g. one process per
 * runtime, as `suite latency` runs them) into one: each (model, backend) pair
 * keeps every process that measured it, and a process given twice is refused.
 */
export function mergeBenchReports(reports: readonly Report[], files: readonly string[]): BenchReport {
  const bench = reports.map((r, i) => {
    if (r.kind !== 'bench')
      throw new UserError(`${files[i]} is a ${r.kind} report; it cannot be merged with bench reports`);
    return r;
  });
  const first = bench[0]!;
  const settings = (r: BenchReport) => {
    const { models: _m, backends: _b, processes: _p, ...rest } = r.config;
    return JSON.stringify(rest);
  };
  for (const [i, r] of bench.entries()) {
    if (settings(r) !== settings(first)) {
      const what = 'threads, frames, warm-up, repeats, input or percentiles';
      throw new UserError(`${files[i]} was measured with other settings than ${files[0]} (${what})`);
    }
  }
  // A row per (machine, model, backend): processes are pooled within one machine, never across two.
  const byPair = new Map<string, BenchResult[]>();
  for (const r of bench)
    for (const x of r.results) {
      const key = `${machineLabel(x)}\u0000${x.model.sha256}\u0000${x.backend}`;
      byPair.set(key, [...(byPair.get(key) ?? []), x]);
    }
  const results = [...byPair.values()].map((parts) => combineProcesses(parts, first.config.percentiles));
  const measured = new Set(results.map((r) => `${r.model.id}\u0000${r.backend}`));
  const notMeasured = <T extends { model: string; backend: string }>(x: T) =>
    !measured.has(`${x.model}\u0000${x.backend}`);
  return {
    ...first,
    createdAt: new Date().toISOString(),
    command: `movinet-bench reports merge ${files.join(' ')}`,
    config: {
      ...first.config,
      models: [...new Set(bench.flatMap((r) => r.config.models))],
      backends: [...new Set(bench.flatMap((r) => r.config.backends))],
      // The most any row has; each row's own count is its processes (the table's procs column).
      processes: Math.max(...results.map((r) => r.processes.length)),
    },
    results,
    skipped: distinct(bench.flatMap((r) => r.skipped)).filter(notMeasured),
    failed: distinct(bench.flatMap((r) => r.failed)).filter(notMeasured),
  };
}

/** Merges reports of one kind: accuracy shards or whole runs, or bench reports. */
export function mergeReports(reports: Report[], files: string[]): Report {
  const kind = reports[0]?.kind;
  if (kind === 'bench') return mergeBenchReports(reports, files);
  if (kind === 'accuracy') return mergeAccuracyReports(reports, files);
  throw new UserError(`${files[0]} is a ${kind ?? 'missing'} report; merge takes accuracy or bench reports`);
}
