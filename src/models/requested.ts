import { checkThreads, getBackend } from '../backends/index.js';
import type { Backend } from '../backends/backend.js';
import type { Skipped } from '../report/schema.js';
import { ModelUnavailableError } from '../util/errors.js';
import { resolveModel, type ResolveOptions, type ResolvedModel } from './resolve.js';

export interface Requested {
  models: ResolvedModel[];
  backends: Backend[];
  /** One entry per (unavailable model, backend): reports list them instead of failing. */
  skipped: Skipped[];
  /** Some requested model is missing (skippable with --skip-missing). */
  missing: boolean;
  /** Some requested model is corrupt (sha256 mismatch): never skippable. */
  corrupt: boolean;
}

/**
 * What every multi-model command does first: check backends and thread count,
 * then resolve each model, turning a missing or corrupt known model into
 * "skipped" entries. Unknown ids and bad files still fail with one line.
 */
export function resolveRequested(refs: string[], backendNames: string[], threads: number, opts: ResolveOptions = {}, check?: (m: ResolvedModel) => void): Requested {
  const backends = backendNames.map(getBackend);
  for (const b of backends) checkThreads(b, threads);
  const out: Requested = { models: [], backends, skipped: [], missing: false, corrupt: false };
  for (const ref of refs) {
    try {
      const m = resolveModel(ref, opts);
      check?.(m);
      out.models.push(m);
    } catch (e) {
      if (!(e instanceof ModelUnavailableError)) throw e;
      out.missing ||= e.reason === 'missing';
      out.corrupt ||= e.reason === 'corrupt';
      for (const b of backends) out.skipped.push({ model: ref, backend: b.name, status: 'skipped', reason: e.message });
    }
  }
  return out;
}
