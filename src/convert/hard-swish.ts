import { roundHalfEven } from './xnn-add.js';

/**
 * TFLite's int8 HARD_SWISH works in 16-bit fixed point; onnxruntime has no
 * quantized kernel for it and runs DequantizeLinear, HardSigmoid, Mul and
 * QuantizeLinear in fp32, which parts from TFLite on a code or a few of the
 * 256 per layer. With the parameters searched here (input and output scales
 * and the HardSigmoid's slope and offset nudged, plus a small offset added to
 * the product) the fp32 chain gives TFLite's code for all 256 inputs on
 * nearly every layer (57 of the 58 of the fine-tuned A0).
 */

/** The fp32 chain: codes read at (zx, sx), HardSigmoid(alpha, beta), times x, plus d, quantized at (sy, zy); uint8. */
export interface HardSwishParams {
  sx: number;
  zx: number;
  alpha: number;
  beta: number;
  d: number;
  sy: number;
  zy: number;
}

const f = Math.fround;

/**
 * onnxruntime's CPU kernels on one uint8 code: DequantizeLinear (one fp32
 * product), HardSigmoid (alpha * x + beta, clamped), Mul, Add, and
 * QuantizeLinear (an fp32 quotient rounded half to even, saturated). Checked
 * against onnxruntime-node 1.30 on all codes.
 */
export function ortHardSwish(p: HardSwishParams, u: number): number {
  const x = f((u - p.zx) * p.sx);
  const h = Math.min(1, Math.max(0, f(f(p.alpha * x) + p.beta)));
  const y = f(f(x * h) + p.d);
  return Math.min(255, Math.max(0, roundHalfEven(f(y / p.sy)) + p.zy));
}

/**
 * Parameters under which ortHardSwish gives `table` (TFLite's int8 output
 * code per int8 input code) for every code, or undefined. The search starts
 * from the model's own scales and the exact slope 1/6 and offset 1/2.
 */
export function exactHardSwish(
  sx: number,
  zx: number,
  sy: number,
  zy: number,
  table: (q: number) => number,
): HardSwishParams | undefined {
  const want = Array.from({ length: 256 }, (_, u) => table(u - 128) + 128);
  // Codes that failed a candidate are tried first on the next one: most candidates fail on the same few.
  const order = Array.from({ length: 256 }, (_, u) => u);
  const matches = (p: HardSwishParams) => {
    for (let k = 0; k < 256; k++) {
      const u = order[k]!;
      if (ortHardSwish(p, u) !== want[u]) {
        order.splice(k, 1);
        order.unshift(u);
        return false;
      }
    }
    return true;
  };
  for (let r = 0; r <= 8; r++)
    for (let m = 0; m <= 16; m++) {
      // Output offsets 0, +-1/128 code, +-2/128 code, ...
      const d = f((m % 2 ? -1 : 1) * Math.ceil(m / 2) * (sy / 128));
      for (let i = -r; i <= r; i++)
        for (let j = -r; j <= r; j++) {
          if (Math.max(Math.abs(i), Math.abs(j)) !== r) continue;
          for (let k = -4; k <= 4; k++)
            for (let l = -4; l <= 4; l++) {
              const p: HardSwishParams = {
                sx: f(sx * (1 + i * 2 ** -16)),
                zx: zx + 128,
                alpha: f((1 / 6) * (1 + k * 2 ** -12)),
                beta: f(0.5 * (1 + l * 2 ** -12)),
                d,
                sy: f(sy * (1 + j * 2 ** -16)),
                zy: zy + 128,
              };
              if (matches(p)) return p;
            }
        }
    }
  return undefined;
}
