import { DEFAULT_BACKENDS } from '../backends/index.js';

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
