import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Backend } from '../backends/backend.js';
import { slowedBackend } from '../backends/slowed.js';
import { combineProcesses } from '../bench/combine.js';
import { benchOne, type BenchOptions } from '../bench/run.js';
import { probeFor, probePeak, roofline, type PeakProbe, type PeakRuntime } from '../bench/roofline.js';
import { nativePrecision } from '../convert/tflite-to-onnx.js';
import { graphMacs } from '../models/inspect.js';
import { browserBackendName, ChromiumTarget, checkBrowserRuntime, type Target } from '../browser/chromium.js';
import type { BenchResult, Failed } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import { readReport, validateReport, type BenchReport } from '../report/schema.js';
import { removeQuietly } from '../util/atomic-write.js';
import { runChild, signalExitCode } from '../util/child.js';
import { isOffline } from '../util/download.js';
import { UserError } from '../util/errors.js';
import { benchFrames } from '../video/frames.js';
import { probeVideo } from '../video/probe.js';
import { benchArgv } from './bench-args.js';
import { reportHeader } from './environment.js';
import { thisMachine } from './machine.js';
import { runPairs } from './plan.js';
import { resolveRequested } from './requested.js';

/** Frames of a video held in memory for a latency run; a longer run cycles them (states keep evolving). */
const MAX_DECODED_FRAMES = 600;

export interface BenchRequest extends Omit<BenchOptions, 'machine'> {
  /** The label the results' machine gets (`--machine`); this machine's facts are read here, once. */
  machine?: string;
  models: string[];
  backends: string[];
  /** Processes per pair; above 1 each is a fresh `bench` child of `cli`. */
  processes: number;
  cli: string;
  /** Where step() runs: this Node process (default) or a page of headless Chromium. */
  target?: Target;
  /** Probe each runtime's peak after the timed runs and put the achieved rate beside it (node target). */
  roofline?: boolean;
  /** `ab`'s self-test only: every step slowed by this fraction (backends/slowed.ts). */
  selfTestSlowdown?: number;
}

/** The arguments that make a child process measure exactly this pair once. */
function childArgs(req: BenchRequest, model: ResolvedModel, backend: Backend, out: string, profile: boolean): string[] {
  return benchArgv(req.cli, {
    offline: isOffline(),
    models: [model.spec?.id ?? model.path],
    backends: [backend.name],
    threads: req.threads,
    frames: req.frames,
    warmup: req.warmup,
    repeats: req.repeats,
    processes: 1,
    input: req.input,
    percentiles: req.percentiles,
    out,
    machine: req.machine,
    json: true,
    noCache: req.cache === false,
    profile,
    noOverhead: !req.overhead,
    noRoofline: true,
    selfTestSlowdown: req.selfTestSlowdown,
    target: req.target === 'chromium' ? 'chromium' : undefined,
  });
}

/**
 * Every pair measured in `processes` separate processes, interleaved (process
 * k of every pair before process k + 1 of any), so slow drift of the machine
 * spreads over all pairs instead of landing on one.
 */
async function benchInProcesses(
  models: readonly ResolvedModel[],
  backends: readonly Backend[],
  req: BenchRequest,
): Promise<{ results: BenchResult[]; failed: Failed[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'movinet-bench-processes-'));
  const parts = new Map<string, BenchResult[]>();
  const failed = new Map<string, Failed>();
  const pairs = models.flatMap((model) =>
    backends.map((backend) => ({ model, backend, key: `${model.sha256}\u0000${backend.name}` })),
  );
  req.progress.start(req.processes * pairs.length, `${req.processes} processes`);
  try {
    for (let k = 0; k < req.processes; k++) {
      for (const [i, { model, backend, key }] of pairs.entries()) {
        if (failed.has(key)) continue;
        const out = path.join(dir, `${k}-${i}.json`);
        const r = await runChild(
          process.execPath,
          childArgs(req, model, backend, out, Boolean(req.profile) && k === 0),
          {
            stdout: 'ignore',
            stderr: 'pipe',
          },
        );
        if (r.signal) throw new UserError(`bench stopped by ${r.signal}`, signalExitCode(r.signal));
        const report = fs.existsSync(out) ? readReport(out) : null;
        const result = report?.kind === 'bench' ? report.results[0] : undefined;
        if (r.code !== 0 || !result) {
          const why =
            r.stderr
              .trim()
              .split('\n')
              .pop()
              ?.replace(/^movinet-bench: (error: )?/, '') ?? `exit ${r.code}`;
          failed.set(key, {
            model: model.id,
            backend: backend.name,
            error: `process ${k + 1} of ${req.processes}: ${why}`,
          });
          continue;
        }
        parts.set(key, [...(parts.get(key) ?? []), result]);
        req.progress.update(k * pairs.length + i + 1);
      }
    }
  } finally {
    req.progress.stop();
    for (const f of fs.readdirSync(dir)) removeQuietly(path.join(dir, f));
    fs.rmdirSync(dir);
  }
  const results = pairs.flatMap(({ key }) => {
    const p = parts.get(key);
    return p && !failed.has(key) ? [combineProcesses(p, req.percentiles)] : [];
  });
  return { results, failed: [...failed.values()] };
}

/** Every requested (model, backend) pair, measured; unavailable models and failed runs become entries of the report. */
export async function benchReport(req: BenchRequest): Promise<BenchReport> {
  const machine = thisMachine(req.machine);
  const chromium = req.target === 'chromium';
  // Node's thread limits come from its shims; the browser's threaded builds are checked per runtime instead.
  const requested = await resolveRequested(req.models, req.backends, chromium ? 1 : req.threads);
  const { models, skipped } = requested;
  const slowdown = req.selfTestSlowdown ?? 0;
  const backends = slowdown > 0 ? requested.backends.map((b) => slowedBackend(b, slowdown)) : requested.backends;
  if (chromium) for (const b of backends) checkBrowserRuntime(b.name, req.threads);
  const header = reportHeader();
  let outcome: { results: BenchResult[]; failed: Failed[] };
  if (req.processes > 1) {
    // Children decode the video themselves; a bad file is refused once, here, before any of them starts.
    if (req.input !== 'synthetic') probeVideo(req.input);
    outcome = await benchInProcesses(models, backends, req);
  } else {
    const framesBySize = new Map<number, Float32Array[]>();
    for (const size of new Set(models.map((m) => m.signature.height))) {
      framesBySize.set(size, await benchFrames(req.input, size, Math.min(req.warmup + req.frames, MAX_DECODED_FRAMES)));
    }
    const browser = chromium ? await ChromiumTarget.launch() : null;
    try {
      outcome = await runPairs(models, backends, req.progress, (model, backend) => {
        const frames = framesBySize.get(model.signature.height)!;
        const opts = { ...req, machine };
        return browser ? browser.bench(model, backend.name, frames, opts) : benchOne(model, backend, frames, opts);
      });
    } finally {
      await browser?.close();
    }
  }
  if (req.roofline !== false && !chromium) outcome.results = await withRoofline(outcome.results, models, req);
  const target = req.target ?? 'node';
  outcome.results = outcome.results.map((r) => ({ ...r, runtime: { ...r.runtime, target } }));
  if (chromium) outcome.failed = outcome.failed.map((f) => ({ ...f, backend: browserBackendName(f.backend) }));
  const { threads, frames, warmup, repeats, processes, input, percentiles } = req;
  return validateReport({
    ...header,
    kind: 'bench',
    config: {
      models: req.models,
      backends: req.backends,
      threads,
      frames,
      warmup,
      repeats,
      processes,
      input,
      percentiles,
    },
    results: outcome.results,
    skipped,
    failed: outcome.failed,
  }) as BenchReport;
}

/**
 * Each result with its achieved GMAC/s beside its runtime's probed peak. The
 * probes run after every timed run (once per runtime), so they never share
 * the machine with a measurement; a probe that fails leaves a warning, not a
 * failed pair.
 */
async function withRoofline(
  results: BenchResult[],
  models: readonly ResolvedModel[],
  req: BenchRequest,
): Promise<BenchResult[]> {
  const peaks = new Map<PeakRuntime, Promise<PeakProbe>>();
  const out: BenchResult[] = [];
  for (const r of results) {
    const model = models.find((m) => m.sha256 === r.model.sha256);
    const probe = model && probeFor(r.backend, nativePrecision(model.graph) === 'int8');
    if (!model || !probe) {
      out.push(r);
      continue;
    }
    try {
      const macs = graphMacs(model.graph);
      if (!(macs > 0)) {
        out.push({ ...r, warnings: [...r.warnings, 'roofline: no MACs counted in this graph (no conv or dense op)'] });
        continue;
      }
      const pending = peaks.get(probe.runtime) ?? probePeak(probe.runtime, { threads: req.threads });
      peaks.set(probe.runtime, pending);
      const line = roofline(macs, r.stats.p50, probe.dtype, await pending);
      if (![line.achievedGmacPerS, line.peakGmacPerS].every((v) => Number.isFinite(v) && v > 0))
        throw new Error(`the probe gave no usable rate (${line.peakGmacPerS} GMAC/s)`);
      out.push({ ...r, roofline: line });
    } catch (e) {
      out.push({ ...r, warnings: [...r.warnings, `roofline probe failed: ${(e as Error).message.split('\n')[0]}`] });
    }
  }
  return out;
}
