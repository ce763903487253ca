import type { BenchResult } from '../core/results.js';
import { latencyStats, maxOr, median, medianInterval } from '../metrics/stats.js';
import { measurementWarnings, runtimeWarnings } from '../metrics/warnings.js';
import { UserError } from '../util/errors.js';

/**
 * One result from the results of several processes that measured the same
 * (model, backend): samples and repeats concatenated in process order,
 * statistics recomputed over all frames, and the median's interval taken over
 * the processes. A process that appears twice is refused: nothing is counted twice.
 */
export function combineProcesses(parts: readonly BenchResult[], percentiles: readonly number[]): BenchResult {
  const first = parts[0];
  if (!first) throw new Error('internal: no results to combine');
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.model.sha256 !== first.model.sha256 || p.backend !== first.backend) {
      throw new UserError(`cannot combine ${p.model.id} on ${p.backend} with ${first.model.id} on ${first.backend}`);
    }
    for (const proc of p.processes) {
      if (seen.has(proc.id))
        throw new UserError(`process ${proc.id} of ${first.model.id} on ${first.backend} is given twice`);
      seen.add(proc.id);
    }
  }
  if (parts.length === 1) return first;
  const samplesMs = parts.flatMap((p) => p.samplesMs);
  const processes = parts.flatMap((p) => p.processes);
  const repeatP50Ms = parts.flatMap((p) => p.repeatP50Ms);
  const stats = latencyStats(samplesMs, percentiles);
  // The processes ran the same runtime; one whose process held something else (telemetry, extra threads)
  // stands for all.
  const runtime = parts.find((p) => runtimeWarnings(p.runtime).length > 0)?.runtime ?? first.runtime;
  const overheads = parts.map((p) => p.overhead);
  const overhead = overheads.every((o) => o !== null)
    ? { bareP50Ms: median(overheads.map((o) => o!.bareP50Ms))!, ratio: median(overheads.map((o) => o!.ratio))! }
    : null;
  // The frame period and FLOPs per frame are facts of the model, recovered from any one part.
  const framePeriodMs = first.realtimeFactor * first.stats.p50;
  const flops = first.gflopsPerSecond === null ? null : first.gflopsPerSecond * first.stats.p50;
  return {
    ...first,
    runtime,
    loadMs: median(processes.map((p) => p.loadMs))!,
    firstInferenceMs: median(processes.map((p) => p.firstInferenceMs))!,
    samplesMs,
    processes,
    processMedianCI: medianInterval(processes.map((p) => p.p50Ms)),
    repeatP50Ms,
    stats,
    fps: 1000 / stats.mean,
    realtimeFactor: framePeriodMs / stats.p50,
    gflopsPerSecond: flops === null ? null : flops / stats.p50,
    peakRssMB: maxOr(
      processes.map((p) => p.peakRssMB),
      0,
    ),
    overhead,
    warnings: [...measurementWarnings(stats, repeatP50Ms, overhead), ...runtimeWarnings(runtime)],
    gc: parts.every((p) => p.gc)
      ? parts.reduce(
          (sum, p) => ({
            major: sum.major + p.gc!.major,
            minor: sum.minor + p.gc!.minor,
            pauseMs: sum.pauseMs + p.gc!.pauseMs,
          }),
          { major: 0, minor: 0, pauseMs: 0 },
        )
      : undefined,
    // One process profiles (profiling is separate from timing); its profile stands for the pair.
    profile: parts.find((p) => p.profile)?.profile,
  };
}
