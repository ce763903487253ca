import { benchOne, type BenchOptions } from '../bench/run.js';
import { benchFrames } from '../video/frames.js';
import { validateReport, type BenchReport } from '../report/schema.js';
import { reportHeader } from './environment.js';
import { runPairs } from './plan.js';
import { resolveRequested } from './requested.js';

/** Frames of a video held in memory for a latency run; a longer run cycles them (states keep evolving). */
const MAX_DECODED_FRAMES = 600;

export interface BenchRequest extends BenchOptions {
  models: string[];
  backends: string[];
}

/** Every requested (model, backend) pair, measured; unavailable models and failed runs become entries of the report. */
export async function benchReport(req: BenchRequest): Promise<BenchReport> {
  const header = reportHeader();
  const { models, backends, skipped } = resolveRequested(req.models, req.backends, req.threads);
  const framesBySize = new Map<number, Float32Array[]>();
  for (const size of new Set(models.map((m) => m.signature.height))) {
    framesBySize.set(size, await benchFrames(req.input, size, Math.min(req.warmup + req.frames, MAX_DECODED_FRAMES)));
  }
  const { results, failed } = await runPairs(models, backends, req.progress, (model, backend) =>
    benchOne(model, backend, framesBySize.get(model.signature.height)!, req),
  );
  const { threads, frames, warmup, repeats, input, percentiles } = req;
  return validateReport({
    ...header,
    kind: 'bench',
    config: { models: req.models, backends: req.backends, threads, frames, warmup, repeats, input, percentiles },
    results,
    skipped,
    failed,
  }) as BenchReport;
}
