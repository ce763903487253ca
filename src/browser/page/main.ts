import type {
  PageBenchRequest,
  PageBenchResult,
  PageEnvironment,
  PageOverheadBlock,
  PageParityRequest,
  PageParityResult,
} from '../protocol.js';
import type { Session } from '../../backends/backend.js';
import { StreamStepper } from '../../stream/stream.js';
import { loadSession } from './runtimes.js';

/**
 * The page's half of `bench --target chromium`: the same run as benchOne in
 * src/bench/run.ts (load, first inference, warm-up, repeats from zero state
 * with states carried, alternating overhead blocks), with the same stepper
 * and sessions as Node (bundled from src/stream and src/backends). Statistics
 * are left to Node, so both targets share them.
 */

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

async function fetchFrames(count: number, size: number): Promise<Float32Array[]> {
  const buf = await fetchBytes('/frames');
  if (buf.byteLength !== count * size * 4)
    throw new Error(`/frames has ${buf.byteLength} bytes, not ${count * size * 4}`);
  return Array.from({ length: count }, (_, i) => new Float32Array(buf, i * size * 4, size));
}

const frameAt = (frames: readonly Float32Array[], i: number) => frames[i % frames.length]!;

async function timedPass(
  session: Session,
  frames: readonly Float32Array[],
  count: number,
): Promise<{ times: number[]; last: Float32Array | null }> {
  const stepper = new StreamStepper(session);
  const times: number[] = [];
  let last: Float32Array | null = null;
  try {
    for (let i = 0; i < count; i++) {
      const r = await stepper.step(frameAt(frames, i));
      times.push(r.ms);
      last = r.logits;
    }
  } finally {
    stepper.close();
  }
  return { times, last };
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function timerResolution(): number {
  let smallest = Infinity;
  for (let i = 0; i < 2000; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    smallest = Math.min(smallest, b - a);
  }
  return smallest;
}

interface GpuNavigator {
  userAgent: string;
  gpu?: {
    requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
  };
}
interface Gl {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null;
  getParameter(p: number): unknown;
  RENDERER: number;
}
interface Canvas {
  getContext(kind: 'webgl2'): Gl | null;
}

/** What GPU paths exist here, said as they are: no adapter, or a software renderer. */
async function environment(): Promise<PageEnvironment> {
  const g = globalThis as unknown as {
    navigator: GpuNavigator;
    crossOriginIsolated: boolean;
    OffscreenCanvas?: new (w: number, h: number) => Canvas;
  };
  let webgpu = 'no navigator.gpu (WebGPU not exposed)';
  if (g.navigator.gpu) {
    try {
      const adapter = await g.navigator.gpu.requestAdapter();
      const info = adapter?.info;
      webgpu = adapter
        ? `adapter ${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || '(no info)'}`
        : 'no adapter';
    } catch (e) {
      webgpu = `no adapter (${String(e)})`;
    }
  }
  let webgl2 = 'no WebGL2 context';
  let webgl2Software = false;
  const gl = g.OffscreenCanvas ? new g.OffscreenCanvas(1, 1).getContext('webgl2') : null;
  if (gl) {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    webgl2Software = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
    webgl2 = `${webgl2Software ? 'software renderer' : 'renderer'} ${renderer}`;
  }
  return {
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    timerResolutionMs: timerResolution(),
    webgpu,
    webgl2,
    webgl2Software,
    userAgent: g.navigator.userAgent,
  };
}

async function bench(req: PageBenchRequest): Promise<PageBenchResult> {
  const env = await environment();
  const size = req.signature.image.shape.reduce((a, b) => a * b, 1);
  const [bytes, frames] = await Promise.all([fetchBytes('/model'), fetchFrames(req.frameCount, size)]);
  const t0 = performance.now();
  const session = await loadSession(req.runtime, bytes, req.signature, req.threads, req.onnx);
  const loadMs = performance.now() - t0;
  try {
    const warm = new StreamStepper(session);
    const firstInferenceMs = (await warm.step(frameAt(frames, 0))).ms;
    for (let i = 1; i <= req.warmup; i++) await warm.step(frameAt(frames, i));
    warm.close();

    const passes: number[][] = [];
    let lastTop1 = -1;
    for (let r = 0; r < req.repeats; r++) {
      const pass = await timedPass(session, frames, req.frames);
      passes.push(pass.times);
      if (r === 0 && pass.last) lastTop1 = argmax(pass.last);
    }
    const overheadBlocks: PageOverheadBlock[] = [];
    if (req.overhead) {
      const block = Math.max(10, Math.floor(req.frames / 12));
      for (let done = 0; done < req.frames; done += block) {
        const bare = await session.bareLoop(frames, block);
        const stepped = (await timedPass(session, frames, block)).times;
        overheadBlocks.push({ bare, stepped });
      }
    }
    return { loadMs, firstInferenceMs, passes, overheadBlocks, environment: env, lastTop1 };
  } finally {
    session.dispose();
  }
}

async function parity(req: PageParityRequest): Promise<PageParityResult> {
  const size = req.signature.image.shape.reduce((a, b) => a * b, 1);
  const [bytes, frames] = await Promise.all([fetchBytes('/model'), fetchFrames(req.frameCount, size)]);
  const session = await loadSession(req.runtime, bytes, req.signature, req.threads, req.onnx);
  const logits: number[] = [];
  let classes = 0;
  const stepper = new StreamStepper(session);
  try {
    for (const frame of frames) {
      const out = await stepper.step(frame);
      classes = out.logits.length;
      for (const v of out.logits) logits.push(v);
    }
  } finally {
    stepper.close();
    session.dispose();
  }
  return { logits, classes };
}

/** A session kept open across calls, stepped one frame at a time from Node (parity lockstep, not timed). */
let open: { session: Session; stepper: StreamStepper | null; size: number } | null = null;

async function openSession(req: PageParityRequest): Promise<void> {
  const bytes = await fetchBytes('/model');
  const session = await loadSession(req.runtime, bytes, req.signature, req.threads, req.onnx);
  open = { session, stepper: null, size: req.signature.image.shape.reduce((a, b) => a * b, 1) };
}

async function stepFrame(fresh: boolean): Promise<number[]> {
  if (!open) throw new Error('no open session');
  if (fresh || !open.stepper) {
    open.stepper?.close();
    open.stepper = new StreamStepper(open.session);
  }
  const [frame] = await fetchFrames(1, open.size);
  return Array.from((await open.stepper.step(frame!)).logits);
}

function closeSession(): void {
  open?.stepper?.close();
  open?.session.dispose();
  open = null;
}

(globalThis as unknown as { movinetBench: unknown }).movinetBench = {
  bench,
  parity,
  openSession,
  stepFrame,
  closeSession,
};
