import fs from 'node:fs';
import os from 'node:os';
import type { Browser } from 'playwright-core';
import type { PageFacts } from '../backends/backend.js';
import { findBackend, getBackend } from '../backends/index.js';
import { packageVersion } from '../backends/package-info.js';
import type { BenchResult, Machine, Overhead } from '../core/results.js';
import { latencyStats, median } from '../metrics/stats.js';
import { measurementWarnings } from '../metrics/warnings.js';
import { modelInfo } from '../models/info.js';
import { graphMacs } from '../models/inspect.js';
import { convertCached } from '../convert/cache.js';
import { stateCodes } from '../convert/int8-states.js';
import { graphPrecision } from '../convert/tflite-to-onnx.js';
import { PRECISION_LABEL } from '../backends/onnx-session.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { builtFile } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import {
  PAGE_RUNTIMES,
  type PageBenchRequest,
  type PageBenchResult,
  type PageEnvironment,
  type PageOnnx,
  type PageParityResult,
  type PageRuntime,
} from './protocol.js';
import { startPageServer, type PageServer } from './server.js';

export const TARGETS = ['node', 'chromium'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * Headless, and nothing that phones home: on this machine's closed network Chromium's background
 * services would only fail their look-ups, many at a time.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Debian's package; never a browser build downloaded by a tool. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** How Debian and Ubuntu install it. */
const CHROMIUM_PACKAGES = [
  'Debian: apt-get install chromium',
  'Ubuntu: snap install chromium, then CHROMIUM_PATH=/snap/bin/chromium',
].join('; ');

/**
 * Browser rows get their own backend name, so a report (and compare, merge) can hold node and chromium rows
 * of one runtime.
 */
export const browserBackendName = (runtime: string) => `${runtime}@chromium`;

/** A page runtime's facts, as its backend states them. */
const factsOf = (runtime: PageRuntime) => getBackend(runtime).facts;
const isOnnx = (runtime: PageRuntime) => factsOf(runtime).family === 'onnx';

/** How the page runs a runtime: its backend says, as it says it has a browser build. */
function pageFacts(runtime: PageRuntime): PageFacts {
  const { browser } = factsOf(runtime);
  if (!('page' in browser)) throw new Error(`${runtime} has no page facts`);
  return browser.page;
}

/** The npm package a page runtime comes from. */
export const packageOf = (runtime: PageRuntime): string => factsOf(runtime).runtime;

export function checkBrowserRuntime(name: string, threads: number): PageRuntime {
  const runtime = PAGE_RUNTIMES.find((r) => r === name);
  const browser = findBackend(name)?.facts.browser;
  if (browser && 'instead' in browser)
    throw new UserError(`backend ${name} is ${browser.because}; in chromium use ${browser.instead}`);
  if (!runtime)
    throw new UserError(
      `backend ${name} has no browser build wired up here; --target chromium runs ${PAGE_RUNTIMES.join(', ')}`,
    );
  if (threads > os.availableParallelism())
    throw new UserError(`--threads ${threads} is more than this ${os.availableParallelism()}-core machine has`);
  return runtime;
}

export function enforcement(runtime: PageRuntime, threads: number): string {
  return pageFacts(runtime).enforcement(threads);
}

/** The bytes the page loads for a runtime: the .tflite, or for onnxruntime-web the graph converted as in Node. */
export function pageModel(
  model: ResolvedModel,
  runtime: PageRuntime,
  cache: boolean,
): { bytes: Uint8Array; onnx?: PageOnnx; note: string } {
  if (!isOnnx(runtime)) return { bytes: model.bytes, note: '' };
  const p = graphPrecision(model.graph, factsOf(runtime).precision);
  const converted = convertCached(model, p, cache);
  return {
    bytes: converted.bytes,
    onnx: {
      precision: p,
      stateCodes: [...stateCodes(p, model.graph, model.signature)].map(([n, c]) => [
        n,
        { scale: c.scale, zeroPoint: c.zeroPoint },
      ]),
    },
    note: `, converted by movinet-bench to ${PRECISION_LABEL[p]}${converted.cached ? ' (cached)' : ''}`,
  };
}

/** The page script: the compiled page entry and the runtimes it imports, bundled for the browser. */
async function bundlePage(): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = builtFile('browser', 'page', 'main.js');
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // onnxruntime-web then fetches its glue and .wasm from the server instead of inlining the glue.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** Peak RSS of the largest Chromium process under this one (the page's renderer), from /proc. */
function chromiumPeakRssMB(): number {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // The process ended while being read.
    }
  }
  let peak = 0;
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    stack.push(...(children.get(pid) ?? []));
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      // As above.
    }
  }
  return peak;
}

/** A Node bench's options, less profiling (bench/ is a sibling layer, so they are restated here). */
export interface BrowserBenchOptions {
  threads: number;
  cache?: boolean;
  frames: number;
  warmup: number;
  repeats: number;
  percentiles: number[];
  input: string;
  overhead: boolean;
  progress: Progress;
  machine: Machine;
}

export interface OpenPage {
  evaluate<R>(script: string, arg: unknown): Promise<R>;
  /** Package files this page fetched so far. */
  served(): string[];
  setFrames(frames: readonly Float32Array[]): void;
  close(): Promise<void>;
}

/** One headless Chromium and its page server, shared by every pair of a run; each pair gets a fresh page. */
export class ChromiumTarget {
  private constructor(
    private readonly browser: Browser,
    private readonly server: PageServer,
    readonly browserVersion: string,
  ) {}

  static async launch(): Promise<ChromiumTarget> {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      const install = `install it (${CHROMIUM_PACKAGES}) or set CHROMIUM_PATH to a Chromium or Chrome binary`;
      throw new UserError(`Chromium not found at ${CHROMIUM_PATH}; --target chromium needs it: ${install}`);
    }
    const server = await startPageServer(await bundlePage());
    try {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
      return new ChromiumTarget(browser, server, `Chromium ${browser.version()}`);
    } catch (e) {
      await server.close();
      throw e;
    }
  }

  /** A fresh page on the server, its runtime's assets chosen for `threads`; only loopback requests leave it. */
  async openPage(bytes: Uint8Array, runtime: PageRuntime, threads: number): Promise<OpenPage> {
    this.server.setModel(bytes);
    // One thread: the pthread build is never loaded, as in Node (tfjs-tflite asks for it whenever
    // SharedArrayBuffer exists).
    this.server.setRewrite(threads === 1 ? (pageFacts(runtime).singleThreadFile ?? null) : null);
    const first = this.server.served.length;
    const context = await this.browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await context.route(/.*/, (route) =>
        route.request().url().startsWith(this.server.url) ? route.continue() : route.abort(),
      );
      await page.goto(this.server.url);
      return {
        evaluate: async <R>(script: string, arg: unknown): Promise<R> => {
          try {
            return (await page.evaluate(`(${script})(${JSON.stringify(arg)})`)) as R;
          } catch (e) {
            throw new Error(
              `in Chromium: ${(e as Error).message.split('\n')[0]}${errors.length ? ` (${errors.join('; ')})` : ''}`,
              { cause: e },
            );
          }
        },
        served: () => this.server.served.slice(first),
        setFrames: (frames) => this.server.setFrames(frames),
        close: () => context.close(),
      };
    } catch (e) {
      await context.close();
      throw e;
    }
  }

  private async inPage<T>(
    bytes: Uint8Array,
    runtime: PageRuntime,
    frames: readonly Float32Array[],
    threads: number,
    fn: (evaluate: OpenPage['evaluate']) => Promise<T>,
  ): Promise<{ value: T; served: string[]; peakRssMB: number }> {
    const page = await this.openPage(bytes, runtime, threads);
    try {
      page.setFrames(frames);
      const value = await fn(page.evaluate);
      return { value, served: page.served(), peakRssMB: chromiumPeakRssMB() };
    } finally {
      await page.close();
    }
  }

  async bench(
    model: ResolvedModel,
    backendName: string,
    frames: readonly Float32Array[],
    opts: BrowserBenchOptions,
  ): Promise<BenchResult> {
    const runtime = checkBrowserRuntime(backendName, opts.threads);
    const loaded = pageModel(model, runtime, opts.cache ?? true);
    const req: PageBenchRequest = {
      runtime,
      threads: opts.threads,
      signature: model.signature,
      ...(loaded.onnx ? { onnx: loaded.onnx } : {}),
      frameCount: frames.length,
      frames: opts.frames,
      warmup: opts.warmup,
      repeats: opts.repeats,
      overhead: opts.overhead,
    };
    const name = browserBackendName(backendName);
    opts.progress.start(1, `${model.id} ${name}`);
    const {
      value: r,
      served,
      peakRssMB,
    } = await this.inPage(loaded.bytes, runtime, frames, opts.threads, (evaluate) =>
      evaluate<PageBenchResult>('(req) => movinetBench.bench(req)', req),
    );
    opts.progress.stop();
    const build = loadedBuild(runtime, served, opts.threads) + loaded.note;
    const samples = r.passes.flat();
    const repeatP50Ms = r.passes.map((p) => median(p)!);
    const stats = latencyStats(samples, opts.percentiles);
    const overhead: Overhead | null = r.overheadBlocks.length
      ? {
          bareP50Ms: median(r.overheadBlocks.flatMap((b) => b.bare))!,
          ratio: median(r.overheadBlocks.map((b) => median(b.stepped)! / median(b.bare)!))!,
        }
      : null;
    const flops = model.spec?.flopsPerFrame ?? 2 * graphMacs(model.graph);
    const env = r.environment;
    return {
      model: modelInfo(model),
      backend: name,
      runtime: {
        backend: name,
        package: packageOf(runtime),
        version: packageVersion(packageOf(runtime)),
        build,
        threads: { requested: opts.threads, enforcement: enforcement(runtime, opts.threads) },
        target: 'chromium',
        browser: this.browserVersion,
        crossOriginIsolated: env.crossOriginIsolated,
        // Rounded to the microsecond: the raw float jitters between runs, and merges compare runtimes.
        timerResolutionMs: Math.round(env.timerResolutionMs * 1000) / 1000,
        gpu: gpuSummary(env),
      },
      machine: opts.machine,
      input: opts.input,
      loadMs: r.loadMs,
      firstInferenceMs: r.firstInferenceMs,
      warmupFrames: opts.warmup,
      samplesMs: samples,
      processes: [
        {
          id: `${os.hostname()}:${process.pid}:chromium:${Math.round(performance.timeOrigin + performance.now())}`,
          samples: samples.length,
          loadMs: r.loadMs,
          firstInferenceMs: r.firstInferenceMs,
          peakRssMB,
          p50Ms: stats.p50,
          p90Ms: stats.p90,
          percentiles: stats.percentiles,
          overheadRatio: overhead?.ratio ?? null,
        },
      ],
      processMedianCI: null,
      repeatP50Ms,
      stats,
      fps: 1000 / stats.mean,
      realtimeFactor: 1000 / model.fps / stats.p50,
      gflopsPerSecond: flops / (stats.p50 / 1000) / 1e9,
      peakRssMB,
      overhead,
      warnings: [
        ...measurementWarnings(stats, repeatP50Ms, overhead),
        ...(env.crossOriginIsolated
          ? []
          : [`page not cross-origin isolated: performance.now() resolution ${env.timerResolutionMs} ms`]),
      ],
    };
  }

  /** Logits of every frame of one stream, computed in the page: for browser-vs-node parity. */
  async logits(
    model: ResolvedModel,
    backendName: string,
    frames: readonly Float32Array[],
    threads: number,
  ): Promise<{ logits: Float32Array[]; build: string }> {
    const runtime = checkBrowserRuntime(backendName, threads);
    const loaded = pageModel(model, runtime, true);
    const req = {
      runtime,
      threads,
      signature: model.signature,
      frameCount: frames.length,
      ...(loaded.onnx ? { onnx: loaded.onnx } : {}),
    };
    const { value, served } = await this.inPage(loaded.bytes, runtime, frames, threads, (evaluate) =>
      evaluate<PageParityResult>('(req) => movinetBench.parity(req)', req),
    );
    const all = Float32Array.from(value.logits);
    const logits = Array.from({ length: frames.length }, (_, i) =>
      all.subarray(i * value.classes, (i + 1) * value.classes),
    );
    return { logits, build: loadedBuild(runtime, served, threads) + loaded.note };
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.close();
  }
}

/** The WASM build the page actually fetched, checked against the thread setting. */
export function loadedBuild(runtime: PageRuntime, served: readonly string[], threads: number): string {
  const { glue: pattern } = pageFacts(runtime);
  const glue = [...new Set(served.flatMap((s) => pattern.exec(s)?.[1] ?? []))];
  if (glue.length === 0) throw new Error(`${runtime}: the page loaded no WASM build (served: ${served.join(', ')})`);
  if (isOnnx(runtime)) {
    // onnxruntime-web has one pthread-capable build; each worker it starts fetches the glue again.
    const workers = served.filter((s) => /\/ort-wasm[a-z.-]*\.mjs$/.test(s)).length - 1;
    if (threads === 1 && workers > 0) throw new Error(`${runtime}: ${workers} worker(s) started for --threads 1`);
    const started = threads === 1 ? 'no worker threads' : `${workers} worker thread${workers === 1 ? '' : 's'}`;
    return `${glue.join(', ')} (${started})`;
  }
  if (threads === 1 && glue.some((g) => g.includes('threaded')))
    throw new Error(`${runtime}: a threaded build was loaded for --threads 1 (${glue.join(', ')})`);
  return glue.join(', ');
}

function gpuSummary(env: PageEnvironment): string {
  return `WebGPU: ${env.webgpu}; WebGL2: ${env.webgl2}${env.webgl2Software ? ' (software: no GPU figure)' : ''}`;
}
