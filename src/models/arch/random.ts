/**
 * Seeded integer PRNG for the generated weights. Only integer ops, IEEE
 * division by a power of two, and Math.round/Math.fround are used on the
 * path from seed to file bytes: no Math.exp/log/sin, whose last bits may
 * differ between engines, so every machine writes the same bytes.
 */

/** The one seed of every generated model; changing it changes every sha256. */
export const ARCH_SEED = 20210322;

/** FNV-1a over UTF-16 code units: turns a tensor's role name into its own stream's seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: one uniform in [0, 1) per call, exactly representable (k / 2^32). */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A stream per named tensor, so adding a layer never shifts another layer's weights. */
  static for(name: string): Rng {
    return new Rng(hashString(name) ^ ARCH_SEED);
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Irwin-Hall sum of four uniforms, centred: bell-shaped in [-2, 2] without transcendental functions. */
  bell(): number {
    return this.next() + this.next() + this.next() + this.next() - 2;
  }
}

/**
 * Per-channel symmetric int8 weights, as TFLite's converter stores them:
 * each output channel's largest magnitude is 127. `channelOf(k)` maps the
 * flat index to its output channel (the quantized dimension).
 */
export function int8Weights(rng: Rng, count: number, channels: number, channelOf: (k: number) => number): Int8Array {
  const raw = new Float64Array(count);
  const peak = new Float64Array(channels);
  for (let k = 0; k < count; k++) {
    const v = rng.bell();
    raw[k] = v;
    const c = channelOf(k);
    peak[c] = Math.max(peak[c]!, Math.abs(v));
  }
  const out = new Int8Array(count);
  for (let k = 0; k < count; k++) {
    const p = peak[channelOf(k)]!;
    out[k] = p > 0 ? Math.round((raw[k]! / p) * 127) : 0;
  }
  return out;
}
