import type { BenchResult } from '../../core/results.js';
import { percentileSorted } from '../../metrics/stats.js';

/**
 * Reductions that keep a chart's data small whatever the run length: a
 * report may hold a million samples per result, and the page embeds each
 * chart's data twice (drawn, and in its spec).
 */

export const MAX_CDF_POINTS = 200;
export const MAX_FRAME_BINS = 400;

/** The tail is where latency distributions differ; an even grid alone would draw it as one straight segment. */
const TAIL = [0.99, 0.995, 0.999, 0.9999];

export interface CdfPoint {
  ms: number;
  /** Fraction of frames at or below ms. */
  p: number;
}

/**
 * The empirical CDF: every sample when there are at most `max`, else at most `max` quantiles (an even
 * grid plus the tail).
 */
export function cdfPoints(samples: readonly number[], max = MAX_CDF_POINTS): CdfPoint[] {
  const sorted = Array.from(Float64Array.from(samples).sort());
  const n = sorted.length;
  if (n === 0) return [];
  if (n <= max) return sorted.map((ms, i) => ({ ms, p: (i + 1) / n }));
  const even = max - TAIL.length;
  const ps = [...new Set([...Array.from({ length: even }, (_, i) => i / (even - 1)), ...TAIL])].sort((a, b) => a - b);
  return ps.map((p) => ({ ms: percentileSorted(sorted, p * 100), p }));
}

export interface FrameBin {
  /** Position of the bin's middle frame, 0-based in samplesMs order. */
  frame: number;
  min: number;
  median: number;
  max: number;
}

/** Frames per bin so that the longest of the series fits in `maxBins` bins. */
export function binSize(longest: number, maxBins = MAX_FRAME_BINS): number {
  return Math.max(1, Math.ceil(longest / maxBins));
}

/** Consecutive frames `k` at a time: min, median and max of each bin, so spikes survive the reduction. */
export function frameBins(samples: readonly number[], k: number): FrameBin[] {
  const bins: FrameBin[] = [];
  for (let start = 0; start < samples.length; start += k) {
    const bin = Float64Array.from(samples.slice(start, start + k)).sort();
    const mid = bin.length >> 1;
    const median = bin.length % 2 ? bin[mid]! : (bin[mid - 1]! + bin[mid]!) / 2;
    bins.push({ frame: start + (bin.length - 1) / 2, min: bin[0]!, median, max: bin[bin.length - 1]! });
  }
  return bins;
}

export interface Boundary {
  /** Between two frames: the index of the first frame of the new block minus one half. */
  frame: number;
  kind: 'process' | 'repeat';
}

/**
 * Where a result's processes and repeats start in samplesMs: processes in run
 * order, each `processes[i].samples` frames, and within a process one repeat
 * every `framesPerRepeat` frames.
 */
export function runBoundaries(result: BenchResult, framesPerRepeat: number): Boundary[] {
  const out: Boundary[] = [];
  let start = 0;
  result.processes.forEach((proc, i) => {
    if (i > 0) out.push({ frame: start - 0.5, kind: 'process' });
    for (let r = framesPerRepeat; r < proc.samples; r += framesPerRepeat)
      out.push({ frame: start + r - 0.5, kind: 'repeat' });
    start += proc.samples;
  });
  return out;
}
