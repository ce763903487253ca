import type { Roofline } from '../core/results.js';

/** Number formatting shared by the terminal tables, the HTML page and compare: one rule per kind of value. */

export const fmt = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

/** A fraction as a percentage. */
export const pct = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;

/** A percentage figure that is already in percent (the source page's top-1). */
export const percentFigure = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${v}%`);

export const interval = (i: { value: number; low: number; high: number }): string =>
  `${pct(i.value)} (${pct(i.low)}–${pct(i.high)})`;

export const range = (lo: number, hi: number, digits = 2): string => `${fmt(lo, digits)}–${fmt(hi, digits)}`;

/** A p-value; tiny ones print as a bound, not as 0.0e+0. */
export const pValue = (p: number | null): string =>
  p === null ? '–' : p < 1e-6 ? '< 1e-6' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);

/** A row's achieved rate as a share of the probed peak for its arithmetic, said plainly when above it. */
export function rooflineVerdict(r: Roofline): string {
  const peak = `${r.dtype} probe ${r.peakGmacPerS.toFixed(1)} GMAC/s`;
  return r.fractionOfPeak > 1
    ? `${pct(r.fractionOfPeak, 0)} of the ${peak}: faster than the probe conv, which is no ceiling for this runtime`
    : `${pct(r.fractionOfPeak, 0)} of the ${peak}`;
}
