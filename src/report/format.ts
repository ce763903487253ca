import type { Roofline } from '../core/results.js';

/** Number formatting shared by the terminal tables, the HTML page and compare: one rule per kind of value. */

const absent = (v: number | null | undefined): v is null | undefined => v === null || v === undefined;

export const fmt = (v: number | null | undefined, digits = 2): string =>
  absent(v) || !Number.isFinite(v) ? '–' : v.toFixed(digits);

/** A fraction as a percentage. */
export const pct = (v: number | null | undefined, digits = 1): string =>
  absent(v) || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;

/** A percentage figure that is already in percent (the source page's top-1). */
export const percentFigure = (v: number | null | undefined): string => (absent(v) ? '–' : `${v}%`);

export const interval = (i: { value: number; low: number; high: number }): string =>
  `${pct(i.value)} (${pct(i.low)}–${pct(i.high)})`;

export const range = (lo: number, hi: number, digits = 2): string => `${fmt(lo, digits)}–${fmt(hi, digits)}`;

/** A p-value; tiny ones print as a bound, not as 0.0e+0. */
export const pValue = (p: number | null): string =>
  p === null ? '–' : p < 1e-6 ? '< 1e-6' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);

/** Milliseconds as seconds, to a tenth: the scale of wall times, decode waits and clip positions. */
export const seconds = (ms: number): string => `${fmt(ms / 1000, 1)} s`;

/**
 * A change between two reports, signed so a rise reads as one: relative changes in percent, changes of
 * a rate that is itself a fraction (top-1, agreement) in percentage points.
 */
export function signedChange(change: number, kind: 'relative' | 'points'): string {
  const sign = change >= 0 ? '+' : '';
  return kind === 'points' ? `${sign}${fmt(change * 100, 1)} pt` : `${sign}${pct(change)}`;
}

/**
 * A small signed rate (a slope per frame, its interval's ends) in exponent form: a drift of a few millionths per
 * frame reads as such, not as 0.00.
 */
export const slope = (v: number | null | undefined, digits = 2): string =>
  absent(v) || !Number.isFinite(v) ? '–' : v === 0 ? '0' : `${v > 0 ? '+' : ''}${v.toExponential(digits)}`;

/** A ratio of two timings (new/old p50, or the geometric mean of such ratios). */
export const p50Ratio = (v: number): string => fmt(v, 3);

/** A rate of multiply-accumulates in GMAC/s, to a tenth (a probed peak) or more where a row's own rate is shown. */
export const gmacs = (v: number, digits = 1): string => fmt(v, digits);

/**
 * Chart data rounded to the digits a chart can show: it is embedded twice (drawn and in the spec), and
 * further digits only cost bytes.
 */
export const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Chart data to a number of significant digits, for figures that span orders of magnitude (errors near zero). */
export const roundSignificant = (v: number, digits: number): number => (v === 0 ? 0 : Number(v.toPrecision(digits)));

/** A row's achieved rate as a share of the probed peak for its arithmetic, said plainly when above it. */
export function rooflineVerdict(r: Roofline): string {
  const peak = `${r.dtype} probe ${gmacs(r.peakGmacPerS)} GMAC/s`;
  return r.fractionOfPeak > 1
    ? `${pct(r.fractionOfPeak, 0)} of the ${peak}: faster than the probe conv, which is no ceiling for this runtime`
    : `${pct(r.fractionOfPeak, 0)} of the ${peak}`;
}
