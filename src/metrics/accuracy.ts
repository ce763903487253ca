import type {
  AccuracyRun,
  AccuracySummary,
  Agreement,
  ClipResult,
  Interval,
  ModelInfo,
  Runtime,
} from '../core/results.js';
import { latencyStats, maxOr, median } from './stats.js';

/** Wilson score interval: honest on small samples and at 0% or 100%, unlike the normal approximation. */
export function wilson(successes: number, n: number, z = 1.959964): Interval {
  if (n === 0) return { value: 0, low: 0, high: 1 };
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const center = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { value: p, low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** Seconds of video until the top-1 becomes and stays correct: the start of the final correct run. */
export function timeToCorrect(top1ByFrame: readonly number[], label: number, fps: number): number | null {
  if (top1ByFrame.length === 0 || top1ByFrame[top1ByFrame.length - 1] !== label) return null;
  let first = top1ByFrame.length - 1;
  while (first > 0 && top1ByFrame[first - 1] === label) first--;
  return (first + 1) / fps;
}

/** Everything derives from the per-clip results, so merged shards summarise exactly as one run. */
export function summarize(clips: readonly ClipResult[]): AccuracySummary {
  const ok = clips.filter((c) => c.status === 'ok');
  const correct1 = ok.filter((c) => c.correct1).length;
  const correct5 = ok.filter((c) => c.correct5).length;
  const longest = maxOr(
    ok.map((c) => c.top1ByFrame.length),
    0,
  );
  const top1ByFramesSeen = Array.from({ length: longest }, (_, k) => {
    const hits = ok.filter((c) => c.top1ByFrame[Math.min(k, c.top1ByFrame.length - 1)] === c.labelIndex).length;
    return ok.length ? hits / ok.length : 0;
  });
  const classes = new Map<string, { clips: number; correct1: number }>();
  for (const c of ok) {
    const e = classes.get(c.label) ?? { clips: 0, correct1: 0 };
    e.clips++;
    if (c.correct1) e.correct1++;
    classes.set(c.label, e);
  }
  return {
    clips: clips.length,
    evaluated: ok.length,
    errors: clips.length - ok.length,
    correct1,
    correct5,
    top1: wilson(correct1, ok.length),
    top5: wilson(correct5, ok.length),
    medianTimeToCorrectS: median(ok.map((c) => c.timeToCorrectS).filter((t): t is number => t !== null)),
    top1ByFramesSeen,
    perClass: [...classes].sort((a, b) => a[0].localeCompare(b[0])).map(([label, e]) => ({ label, ...e })),
  };
}

export function runLatency(clips: readonly ClipResult[]): AccuracyRun['latency'] {
  const samples = clips.flatMap((c) => c.stepMs);
  return samples.length ? latencyStats(samples) : null;
}

/**
 * For each model, each pair of backends: share of clips with the same final top-1, and of frames with the same
 * top-1.
 */
export function agreement(runs: readonly AccuracyRun[]): Agreement[] {
  const out: Agreement[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i]!;
      const b = runs[j]!;
      if (a.model.id !== b.model.id) continue;
      let clips = 0,
        same = 0,
        frames = 0,
        sameFrames = 0;
      for (const ca of a.clips) {
        const cb = b.clips.find((c) => c.file === ca.file);
        if (!cb || ca.status !== 'ok' || cb.status !== 'ok') continue;
        clips++;
        if (ca.top5[0]?.index === cb.top5[0]?.index) same++;
        const n = Math.min(ca.top1ByFrame.length, cb.top1ByFrame.length);
        for (let k = 0; k < n; k++) if (ca.top1ByFrame[k] === cb.top1ByFrame[k]) sameFrames++;
        frames += n;
      }
      out.push({
        model: a.model.id,
        backends: [a.backend, b.backend],
        clipTop1: clips ? same / clips : 0,
        frameTop1: frames ? sameFrames / frames : 0,
      });
    }
  }
  return out;
}

/** A run's summary, latency and totals, all derived from its clips (so merged shards equal one run). */
export function completeRun(
  model: ModelInfo,
  backend: string,
  runtime: Runtime,
  clips: ClipResult[],
  wallMs: number,
): AccuracyRun {
  return {
    model,
    backend,
    runtime,
    clips,
    summary: summarize(clips),
    latency: runLatency(clips),
    wallMs,
    inferenceMs: clips.reduce((a, c) => a + c.stepMs.reduce((x, y) => x + y, 0), 0),
    decodeWaitMs: clips.reduce((a, c) => a + c.decodeWaitMs, 0),
  };
}
