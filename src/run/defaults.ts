import { DEFAULT_BACKENDS } from '../backends/index.js';

const truthy = (v: string | undefined) => !['', '0', 'false', 'no'].includes((v ?? '').trim().toLowerCase());

/**
 * Settings a user may give in the environment instead of a flag. The CLI and the library read them here, at
 * their entry, and pass them on as data (child processes get the flags); nothing below reads them.
 */
export const userEnvironment = () => ({
  machine: process.env.MOVINET_MACHINE?.trim() || undefined,
  offline: truthy(process.env.MOVINET_OFFLINE),
});

/** What a command does when a setting is not given: the CLI's option defaults and the library's, from one place. */
export const COMMAND_DEFAULTS = {
  models: ['a0'],
  backends: DEFAULT_BACKENDS,
  threads: 1,
  frames: 300,
  warmup: 20,
  repeats: 1,
  processes: 1,
  input: 'synthetic',
  percentiles: [50, 90, 95, 99],
  resize: 'crop',
  fps: 5,
  dataset: 'kinetics-sample',
  minAgreement: 0.99,
} as const;

/**
 * What `ab` does when not told otherwise: the mode and sizes that met the power goals measured on a
 * 2-core machine (RESULTS.md, "ab power"). onnxruntime's short step varies most from process to process,
 * so it gets more pairs; p90 is gated beyond a wider threshold, as the tail is far noisier than the median.
 */
export const AB_DEFAULTS = {
  mode: 'interleaved',
  processes: 20,
  processesFor: { litert: 40, onnxruntime: 60 } as Readonly<Record<string, number>>,
  thresholdPct: { 50: 2, 90: 10 } as Readonly<Record<number, number>>,
} as const;
