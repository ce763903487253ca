import { argmax, softmax } from '../metrics/probabilities.js';

/** One frame's logits of the quantized model against the reference's. */
export interface LogitsError {
  maxAbs: number;
  meanAbs: number;
  cosine: number;
  agree: boolean;
  /** The reference's probability of its own top-1 minus the quantized model's probability of that class. */
  probLost: number;
  /** The reference's top-1 logit minus its second: how far any error must move the logits to flip its top-1. */
  margin: number;
}

export function logitsError(quantized: Float32Array, reference: Float32Array): LogitsError {
  let [maxAbs, sumAbs, dot, qq, rr] = [0, 0, 0, 0, 0];
  let [first, second] = [-Infinity, -Infinity];
  for (let k = 0; k < reference.length; k++) {
    const [q, r] = [quantized[k]!, reference[k]!];
    if (r > first) [first, second] = [r, first];
    else if (r > second) second = r;
    const d = Math.abs(q - r);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    dot += q * r;
    qq += q * q;
    rr += r * r;
  }
  const top = argmax(reference);
  const [pq, pr] = [softmax(quantized), softmax(reference)];
  return {
    maxAbs,
    meanAbs: reference.length ? sumAbs / reference.length : 0,
    // Two zero vectors are the same vector; one zero vector against another is orthogonal to nothing.
    cosine: qq > 0 && rr > 0 ? dot / Math.sqrt(qq * rr) : qq === rr ? 1 : 0,
    agree: argmax(quantized) === top,
    probLost: pr[top]! - pq[top]!,
    margin: Number.isFinite(second) ? first - second : 0,
  };
}

/** Mean squared and mean signed difference of two tensors (a - b), and the mean square of the reference b. */
export function squaredError(a: ArrayLike<number>, b: ArrayLike<number>): { mse: number; ms: number; md: number } {
  let [d, r, s] = [0, 0, 0];
  for (let k = 0; k < b.length; k++) {
    const x = a[k]! - b[k]!;
    d += x * x;
    s += x;
    r += b[k]! ** 2;
  }
  const n = Math.max(1, b.length);
  return { mse: d / n, ms: r / n, md: s / n };
}

/** Mean of a list; 0 for none. */
export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Per frame index, the mean over streams (every stream has as many frames). */
export function perFrameMean(series: readonly (readonly number[])[]): number[] {
  const n = series[0]?.length ?? 0;
  return Array.from({ length: n }, (_, t) => mean(series.map((s) => s[t]!)));
}
