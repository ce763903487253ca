import { allConvs, biasValues, HEAD_RANGES, type ArchCalibration, type ArchNet, type ConvParams } from './network.js';

/**
 * A float forward pass of the generated network over whole clips, layer by
 * layer (every frame of every clip through one layer before the next), with
 * the stream semantics of the exported graph: causal temporal convs over a
 * zero-initialised buffer, a cumulative average in the head. It exists for
 * the one-time calibration (scripts/calibrate-arch.ts): without gains it
 * fixes each conv's gain from the data as it goes, as a batch norm's running
 * statistics would, and it records the range of every activation the int8
 * file quantizes with a calibrated scale. Not used when a model is built.
 */

/** Activations of one layer: [clip][frame] -> NHWC values of one frame. */
type Batch = Float32Array[][];

export interface SimulationResult {
  calibration: ArchCalibration;
  /** Logits per clip and frame. */
  logits: Float32Array[][];
  /** Per ReLU6 conv: the fraction of its outputs at or above 6 (where the int8 file clamps). */
  relu6Clipped: Record<string, number>;
}

const map = (b: Batch, fn: (x: Float32Array) => Float32Array): Batch => b.map((clip) => clip.map(fn));

function samePad(size: number, k: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Σ codes · x of a CONV_2D (SAME or 1x1), before any scale. */
function convRaw(x: Float32Array, size: number, p: ConvParams, w: Float32Array): Float32Array {
  const { kernelH: k, inChannels: cin, outChannels: cout, stride } = p;
  if (k === 1 && stride === 1) {
    const positions = size * size;
    const out = new Float32Array(positions * cout);
    for (let pos = 0; pos < positions; pos++) {
      const xo = pos * cin;
      const oo = pos * cout;
      for (let o = 0; o < cout; o++) {
        const wo = o * cin;
        let acc = 0;
        for (let i = 0; i < cin; i++) acc += x[xo + i]! * w[wo + i]!;
        out[oo + o] = acc;
      }
    }
    return out;
  }
  const { out: n, before } = samePad(size, k, stride);
  const out = new Float32Array(n * n * cout);
  for (let oy = 0; oy < n; oy++)
    for (let ox = 0; ox < n; ox++)
      for (let o = 0; o < cout; o++) {
        let acc = 0;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride + ky - before;
          if (iy < 0 || iy >= size) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride + kx - before;
            if (ix < 0 || ix >= size) continue;
            const xo = (iy * size + ix) * cin;
            const wo = ((o * k + ky) * k + kx) * cin;
            for (let i = 0; i < cin; i++) acc += x[xo + i]! * w[wo + i]!;
          }
        }
        out[(oy * n + ox) * cout + o] = acc;
      }
  return out;
}

/** Σ codes · x of a spatial DEPTHWISE_CONV_2D with SAME padding. */
function depthwiseRaw(x: Float32Array, size: number, p: ConvParams, w: Float32Array): Float32Array {
  const { kernelH: k, outChannels: c, stride } = p;
  const { out: n, before } = samePad(size, k, stride);
  const out = new Float32Array(n * n * c);
  for (let oy = 0; oy < n; oy++)
    for (let ox = 0; ox < n; ox++) {
      const oo = (oy * n + ox) * c;
      for (let ky = 0; ky < k; ky++) {
        const iy = oy * stride + ky - before;
        if (iy < 0 || iy >= size) continue;
        for (let kx = 0; kx < k; kx++) {
          const ix = ox * stride + kx - before;
          if (ix < 0 || ix >= size) continue;
          const xo = (iy * size + ix) * c;
          const wo = (ky * k + kx) * c;
          for (let ch = 0; ch < c; ch++) out[oo + ch]! += x[xo + ch]! * w[wo + ch]!;
        }
      }
    }
  return out;
}

/** The (2+1)D temporal conv: frame t sees frames t-T+1 .. t of its clip, zeros before the first. */
function temporalRaw(frames: Float32Array[], p: ConvParams, w: Float32Array): Float32Array[] {
  const T = p.kernelH;
  const c = p.outChannels;
  return frames.map((_, t) => {
    const out = new Float32Array(frames[0]!.length);
    for (let k = 0; k < T; k++) {
      const src = frames[t - (T - 1) + k];
      if (!src) continue;
      const wo = k * c;
      for (let j = 0; j < out.length; j++) out[j]! += src[j]! * w[wo + (j % c)]!;
    }
    return out;
  });
}

/** AVERAGE_POOL_2D 3x3 stride 2, SAME, averaging the pixels inside the image only. */
function avgPool(x: Float32Array, size: number, c: number): Float32Array {
  const { out: n, before } = samePad(size, 3, 2);
  const out = new Float32Array(n * n * c);
  for (let oy = 0; oy < n; oy++)
    for (let ox = 0; ox < n; ox++) {
      let cnt = 0;
      const oo = (oy * n + ox) * c;
      for (let ky = 0; ky < 3; ky++) {
        const iy = oy * 2 + ky - before;
        if (iy < 0 || iy >= size) continue;
        for (let kx = 0; kx < 3; kx++) {
          const ix = ox * 2 + kx - before;
          if (ix < 0 || ix >= size) continue;
          cnt++;
          const xo = (iy * size + ix) * c;
          for (let ch = 0; ch < c; ch++) out[oo + ch]! += x[xo + ch]!;
        }
      }
      for (let ch = 0; ch < c; ch++) out[oo + ch]! /= cnt;
    }
  return out;
}

class Simulator {
  readonly gains: Record<string, number> = {};
  readonly ranges: Record<string, [number, number]> = {};
  readonly relu6Clipped: Record<string, number> = {};

  constructor(private readonly given: Record<string, number> | undefined) {}

  observe(key: string, b: Batch): void {
    let [lo, hi] = this.ranges[key] ?? [Infinity, -Infinity];
    for (const clip of b)
      for (const x of clip)
        for (let i = 0; i < x.length; i++) {
          const v = x[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
    this.ranges[key] = [lo, hi];
  }

  /** Scales raw sums to the conv's real output, fixing the gain first when calibrating. */
  finish(p: ConvParams, raw: Batch): Batch {
    const c = p.outChannels;
    let gain = this.given?.[p.key];
    if (gain === undefined) {
      if (this.given) throw new Error(`no gain for ${p.key}`);
      let sq = 0;
      let n = 0;
      for (const clip of raw)
        for (const x of clip) {
          for (let i = 0; i < x.length; i++) {
            const v = x[i]! * p.jitter[i % c]!;
            sq += v * v;
          }
          n += x.length;
        }
      const rms = Math.sqrt(sq / n);
      gain = rms > 0 ? p.target / rms : 1;
    }
    this.gains[p.key] = gain;
    const scale = Float64Array.from(p.jitter, (j) => Math.fround(gain * j));
    const bias = biasValues(p);
    let clipped = 0;
    let total = 0;
    const out = map(raw, (x) => {
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const ch = i % c;
        let v = x[i]! * scale[ch]! + bias[ch]!;
        if (p.relu6) {
          if (v >= 6) clipped++;
          v = v < 0 ? 0 : v > 6 ? 6 : v;
        }
        y[i] = v;
      }
      total += x.length;
      return y;
    });
    if (p.relu6) this.relu6Clipped[p.key] = clipped / total;
    return out;
  }

  conv(p: ConvParams, x: Batch, size: number): Batch {
    const w = Float32Array.from(p.codes);
    return this.finish(
      p,
      map(x, (f) => (p.depthwise ? depthwiseRaw(f, size, p, w) : convRaw(f, size, p, w))),
    );
  }

  temporal(p: ConvParams, x: Batch): Batch {
    const w = Float32Array.from(p.codes);
    return this.finish(
      p,
      x.map((clip) => temporalRaw(clip, p, w)),
    );
  }
}

/**
 * Runs clips of frames ([R*R*3] RGB in [0, 1], as decodeFrames gives them)
 * through the network. With `gains` it uses them (the committed calibration);
 * without, it derives them.
 */
export function simulateArch(net: ArchNet, clips: Float32Array[][], gains?: Record<string, number>): SimulationResult {
  const sim = new Simulator(gains);
  let x: Batch = clips;
  let size = net.plan.spec.resolution;
  x = sim.conv(net.stem, x, size);
  size = net.plan.stemSize;
  for (const l of net.layers) {
    const p = l.plan;
    const input = x;
    let y = sim.conv(l.expansion, input, size);
    y = sim.conv(l.spatial, y, size);
    if (l.temporal) y = sim.temporal(l.temporal, y);
    y = sim.conv(l.projection, y, p.outSize);
    sim.observe(`${p.name}/projection`, y);
    const r = l.rezero;
    y = map(y, (v) => v.map((a) => a * r));
    sim.observe(`${p.name}/rezero`, y);
    let skip = input;
    if (l.skip) {
      const pooled = p.stride > 1 ? map(input, (v) => avgPool(v, size, p.inChannels)) : input;
      skip = sim.conv(l.skip, pooled, p.outSize);
      sim.observe(`${p.name}/skip`, skip);
    }
    x = y.map((clip, ci) => clip.map((v, fi) => v.map((a, i) => a + skip[ci]![fi]![i]!)));
    sim.observe(`${p.name}/add`, x);
    size = p.outSize;
  }
  const h = sim.conv(net.headProject, x, size);
  const P = net.headProject.outChannels;
  const positions = size * size;
  const frameMeans = map(h, (v) => {
    const m = new Float32Array(P);
    for (let i = 0; i < v.length; i++) m[i % P]! += v[i]!;
    return m.map((s) => s / positions);
  });
  sim.observe(HEAD_RANGES.frameMean, frameMeans);
  const averages = frameMeans.map((clip) => {
    const acc = new Float64Array(P);
    return clip.map((m, t) => {
      for (let c = 0; c < P; c++) acc[c]! += m[c]!;
      return Float32Array.from(acc, (s) => s / (t + 1));
    });
  });
  sim.observe(HEAD_RANGES.average, averages);
  const hidden = sim.conv(net.classifierHead, averages, 1);
  sim.observe(HEAD_RANGES.classifierHead, hidden);
  const logits = sim.conv(net.classifier, hidden, 1);
  sim.observe(HEAD_RANGES.logits, logits);
  for (const p of allConvs(net)) if (!(p.key in sim.gains)) throw new Error(`conv ${p.key} was not simulated`);
  return { calibration: { gains: sim.gains, ranges: sim.ranges }, logits, relu6Clipped: sim.relu6Clipped };
}
