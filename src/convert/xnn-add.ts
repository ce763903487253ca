/**
 * XNNPACK's int8 ADD, and the parameters that make onnxruntime's fused
 * QLinearAdd compute it exactly.
 *
 * XNNPACK adds in fixed point: (a - za) * am + (b - zb) * bm, shifted right by
 * `shift` with halves rounded up. onnxruntime's QLinearAdd (MLAS, x86) adds in
 * fp32: y = round_half_even(fma(a, ra, fma(b, rb, fixed))), which parts from
 * it on a pair of codes or two per layer (near-ties). On a streaming model such
 * an off-by-one code feeds the states and grows over frames: with the model's
 * own scales the QDQ graph agrees with tfjs-tflite on 96% of the frames of the
 * sample, with these parameters on all of them. The parameters are searched
 * per layer and checked against all 65536 pairs of codes.
 */

/** IEEE single-precision exponent of a positive finite float32 value. */
function exponentOf(x: number): number {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0]!;
  return ((bits >>> 23) & 0xff) - 127;
}

/** lrintf: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * XNNPACK's int8 ADD/SUB parameters: each input's scale ratio to the output as
 * a fixed-point multiplier with a shared shift that gives the larger of the
 * two 21 bits; the sum is shifted back with rounding towards +infinity.
 */
export function xnnAddParams(aRatio: number, bRatio: number): { a: number; b: number; shift: number } {
  const shift = 20 - exponentOf(Math.max(Math.abs(aRatio), Math.abs(bRatio)));
  const mult = (r: number) => roundHalfEven(r * 2 ** shift);
  return { a: mult(aRatio), b: mult(bRatio), shift };
}

/** Per-tensor quantization of one int8 operand: scale and zero point. */
export interface Int8Quant {
  scale: number;
  zeroPoint: number;
}

/** The scales and uint8 zero points of a QLinearAdd: inputs A and B, output C. */
export interface QLinearAddParams {
  sA: number;
  zA: number;
  sB: number;
  zB: number;
  sC: number;
  zC: number;
}

const f = Math.fround;

/**
 * MLAS's uint8 QLinearAdd on x86 (MlasQLinearAddKernelAvx2Helper, both inputs
 * full tensors) for codes a and b, its fp32 steps written out: the ratios are
 * fp32 quotients, `rA * zA + rB * zB` is compiled to one fma, and each fma is
 * one rounding (a float64 sum of these fp32 terms is exact, so fround of it is
 * the fma). Checked against onnxruntime-node 1.30 on all pairs of codes.
 */
export function mlasQLinearAdd(p: QLinearAddParams, a: number, b: number): number {
  const rA = f(p.sA / p.sC);
  const rB = f(p.sB / p.sC);
  const fixed = f(p.zC - f(rA * p.zA + f(rB * p.zB)));
  const y = roundHalfEven(f(a * rA + f(b * rB + fixed)));
  return Math.min(255, Math.max(0, y));
}

/** XNNPACK's int8 ADD of codes a and b (no activation), as a uint8 code. */
function xnnAdd(a: Int8Quant, b: Int8Quant, out: Int8Quant): (qa: number, qb: number) => number {
  const p = xnnAddParams(f(a.scale / out.scale), f(b.scale / out.scale));
  const half = 2 ** (p.shift - 1);
  const down = 2 ** -p.shift;
  return (qa, qb) => {
    const y = Math.floor(((qa - a.zeroPoint) * p.a + (qb - b.zeroPoint) * p.b + half) * down) + out.zeroPoint;
    return Math.min(127, Math.max(-128, y)) + 128;
  };
}

/**
 * QLinearAdd parameters for which MLAS's kernel gives XNNPACK's sum on every
 * pair of int8 codes, or undefined when none is found near XNNPACK's own
 * multipliers (then the model's scales are the best guess). The output scale
 * is 1 and the input scales are XNNPACK's multipliers am / 2^shift, nudged by
 * a few ulps until no near-tie falls on the wrong side.
 */
export function exactQLinearAdd(a: Int8Quant, b: Int8Quant, out: Int8Quant): QLinearAddParams | undefined {
  const p = xnnAddParams(f(a.scale / out.scale), f(b.scale / out.scale));
  if (p.a <= 0 || p.b <= 0) return undefined;
  const reference = xnnAdd(a, b, out);
  const down = 2 ** -p.shift;
  // Pairs whose exact sum lies within 2^-10 of a rounding boundary: a nudge of up to 16 ulps moves the kernel's
  // sum by less than 2^-12 and its fp32 roundings by less than 2^-15, so every other pair keeps its code.
  const risky: number[] = [];
  for (let qa = -128; qa < 128; qa++)
    for (let qb = -128; qb < 128; qb++) {
      const x = ((qa - a.zeroPoint) * p.a + (qb - b.zeroPoint) * p.b) * down;
      if (Math.abs(x - Math.floor(x) - 0.5) < 2 ** -10) risky.push(qa, qb);
    }
  const base: QLinearAddParams = {
    sA: p.a * down,
    zA: a.zeroPoint + 128,
    sB: p.b * down,
    zB: b.zeroPoint + 128,
    sC: 1,
    zC: out.zeroPoint + 128,
  };
  const ulp = (x: number) => 2 ** (exponentOf(x) - 23);
  const matches = (q: QLinearAddParams, pairs: ArrayLike<number>) => {
    for (let k = 0; k < pairs.length; k += 2) {
      const [qa, qb] = [pairs[k]!, pairs[k + 1]!];
      if (mlasQLinearAdd(q, qa + 128, qb + 128) !== reference(qa, qb)) return false;
    }
    return true;
  };
  for (let r = 0; r <= 16; r++)
    for (let i = -r; i <= r; i++)
      for (let j = -r; j <= r; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) !== r) continue;
        const q = { ...base, sA: base.sA + i * ulp(base.sA), sB: base.sB + j * ulp(base.sB) };
        if (matches(q, risky) && matches(q, ALL_PAIRS)) return q;
      }
  return undefined;
}

/** Every pair of int8 codes, flattened. */
const ALL_PAIRS: Int16Array = (() => {
  const pairs = new Int16Array(2 * 65536);
  for (let k = 0; k < 65536; k++) [pairs[2 * k], pairs[2 * k + 1]] = [(k >> 8) - 128, (k & 255) - 128];
  return pairs;
})();
