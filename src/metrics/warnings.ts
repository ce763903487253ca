import type { LatencyStats, Overhead, Runtime } from '../core/results.js';
import { extent } from './stats.js';

/** Samples below which the tail percentiles are mostly interpolation (MLPerf-style minimum). */
export const MIN_RELIABLE_SAMPLES = 100;

/** Like hyperfine's outlier warnings: tell the reader when a number should not be trusted as is. */
export function measurementWarnings(
  stats: LatencyStats,
  repeatP50Ms: readonly number[],
  overhead: Overhead | null,
): string[] {
  const w: string[] = [];
  if (stats.count < MIN_RELIABLE_SAMPLES)
    w.push(`only ${stats.count} samples: p95/p99 are unreliable below ${MIN_RELIABLE_SAMPLES}`);
  if (repeatP50Ms.length > 1) {
    const [lo, hi] = extent(repeatP50Ms);
    const spread = hi / lo - 1;
    if (spread > 0.05) w.push(`repeat p50s differ by ${(spread * 100).toFixed(0)}%: the machine was not steady`);
  }
  const p99 = stats.percentiles.p99;
  if (p99 !== undefined && p99 > 2 * stats.p50) w.push(`long tail: p99 is ${(p99 / stats.p50).toFixed(1)}x p50`);
  if (overhead && overhead.ratio > 1.02) w.push(`harness overhead ${overhead.ratio.toFixed(3)} is above 1.02`);
  return w;
}

/**
 * What ran in the measured process beside the model: the runtime's telemetry, threads its settings do not
 * account for.
 */
export function runtimeWarnings(runtime: Pick<Runtime, 'threads' | 'telemetry'>): string[] {
  const w: string[] = [];
  if (runtime.telemetry?.state === 'on')
    w.push(`onnxruntime telemetry ran in the measured process: ${runtime.telemetry.evidence}`);
  const os = runtime.threads.osThreads;
  if (os && os.started !== null && os.started > os.expected)
    w.push(`session creation started ${os.started} OS threads where its settings account for ${os.expected}`);
  return w;
}
