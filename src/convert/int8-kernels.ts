/**
 * TFLite's built-in int8 kernels for ops of one int8 input, re-implemented in
 * integer arithmetic so the converter can tabulate them over the 256 codes.
 */

const I16_MIN = -32768;
const I16_MAX = 32767;
const f = Math.fround;

/** C's (int16_t) of an int32 value. */
function toInt16(x: number): number {
  return (x << 16) >> 16;
}

function saturate16(x: number): number {
  return Math.min(I16_MAX, Math.max(I16_MIN, x));
}

/** TfLiteRound / std::round: halves away from zero. */
function roundAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** tflite::QuantizeMultiplier: a Q31 multiplier and a power-of-two exponent, from the float promoted to double. */
export function quantizeMultiplier(m: number): { q31: number; exponent: number } {
  if (m === 0) return { q31: 0, exponent: 0 };
  let exponent = Math.floor(Math.log2(Math.abs(m))) + 1;
  let q = m / 2 ** exponent;
  // frexp's mantissa is in [0.5, 1); log2 can land one off at exact powers of two.
  if (Math.abs(q) >= 1) [q, exponent] = [q / 2, exponent + 1];
  if (Math.abs(q) < 0.5) [q, exponent] = [q * 2, exponent - 1];
  let q31 = roundAway(q * 2 ** 31);
  if (q31 === 2 ** 31) [q31, exponent] = [q31 / 2, exponent + 1];
  if (exponent < -31) return { q31: 0, exponent: 0 };
  return { q31, exponent };
}

function downScaleToInt16(q31: number): number {
  if (q31 >= 2 ** 31 - 1 - (1 << 15)) return I16_MAX;
  return Math.floor((q31 + (1 << 15)) / 65536);
}

/** gemmlowp::SaturatingRoundingDoublingHighMul on int16. */
function srdhm16(a: number, b: number): number {
  if (a === b && a === I16_MIN) return I16_MAX;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return toInt16(Math.trunc((ab + nudge) / (1 << 15)));
}

/** SaturatingDoublingHighMul on int16: as above, truncating instead of rounding. */
function sdhm16(a: number, b: number): number {
  if (a === b && a === I16_MIN) return I16_MAX;
  return toInt16(Math.trunc((a * b) / (1 << 15)));
}

/** gemmlowp::RoundingDivideByPOT: halves away from zero. */
function roundingDivideByPot(x: number, exponent: number): number {
  const mask = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

function saturatingLeftShift16(x: number, amount: number): number {
  return saturate16(x * 2 ** amount);
}

/** TFLite's reference int8 HARD_SWISH (16-bit fixed point), as a function of the input code. */
export function tfliteHardSwish(inScale: number, inZp: number, outScale: number, outZp: number): (q: number) => number {
  const hires = f(f(1 / 128) * inScale);
  const out = quantizeMultiplier(f(hires / outScale));
  const outMult = downScaleToInt16(out.q31);
  const reluish = quantizeMultiplier(f(hires / f(3 / 32768)));
  const reluishMult = downScaleToInt16(reluish.q31);
  return (q) => {
    const x = toInt16(q - inZp);
    const hiresValue = toInt16(x * 128);
    const preshift = srdhm16(hiresValue, outMult);
    let r = hiresValue;
    if (reluish.exponent > 0) r = saturatingLeftShift16(r, reluish.exponent - 1);
    r = srdhm16(r, reluishMult);
    if (reluish.exponent > 0) r = saturatingLeftShift16(r, 1);
    if (reluish.exponent < 0) r = roundingDivideByPot(r, -reluish.exponent);
    r = toInt16((r + (1 << 15)) >> 1);
    const y = roundingDivideByPot(sdhm16(r, preshift), -out.exponent) + outZp;
    return Math.min(127, Math.max(-128, y));
  };
}

/** TFLite's int8 LOGISTIC: a table of the float sigmoid of each dequantized code, rounded halves away from zero. */
export function tfliteLogistic(inScale: number, inZp: number, outScale: number, outZp: number): (q: number) => number {
  const inverse = f(1 / outScale);
  return (q) => {
    const x = f(inScale * (q - inZp));
    const y = f(1 / f(1 + f(Math.exp(-x))));
    return Math.min(127, Math.max(-128, roundAway(f(y * inverse)) + outZp));
  };
}
