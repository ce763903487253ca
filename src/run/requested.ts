import type { Backend } from '../backends/backend.js';
import { checkThreads, getBackend } from '../backends/index.js';
import type { Skipped } from '../core/results.js';
import { ensureModels } from '../models/fetch.js';
import { resolveModel, type ResolveOptions, type ResolvedModel } from '../models/resolve.js';
import { ModelUnavailableError } from '../util/errors.js';

export interface Requested {
  models: ResolvedModel[];
  backends: Backend[];
  /** One entry per (unavailable model, backend), keyed by the resolved id as results are. */
  skipped: Skipped[];
}

const unique = <T>(items: readonly T[], key: (item: T) => string): T[] =>
  items.filter((item, i) => items.findIndex((other) => key(other) === key(item)) === i);

/**
 * What every multi-model command does first: check backends and thread count,
 * fetch the manifest models found nowhere (unless offline), then resolve each
 * model, turning a missing or corrupt known model into skipped entries. Unknown
 * ids and bad files still fail with one line. A model or backend named twice
 * (also as id and alias) is measured once.
 */
export async function resolveRequested(
  refs: readonly string[],
  backendNames: readonly string[],
  threads: number,
  opts: ResolveOptions = {},
  check?: (m: ResolvedModel) => void,
): Promise<Requested> {
  const named = unique(backendNames.map(getBackend), (b) => b.name);
  for (const b of named) checkThreads(b, threads);
  await ensureModels(refs);
  const backends: Backend[] = [];
  const absent: { backend: Backend; reason: string }[] = [];
  for (const b of named) {
    const reason = b.available ? await b.available() : null;
    if (reason === null) backends.push(b);
    else absent.push({ backend: b, reason });
  }
  const models: ResolvedModel[] = [];
  const skipped: Skipped[] = [];
  for (const ref of refs) {
    try {
      const m = resolveModel(ref, opts);
      check?.(m);
      models.push(m);
      for (const a of absent)
        skipped.push({ model: m.id, backend: a.backend.name, cause: 'runtime', reason: a.reason });
    } catch (e) {
      if (!(e instanceof ModelUnavailableError)) throw e;
      for (const b of named) skipped.push({ model: e.model, backend: b.name, cause: e.reason, reason: e.message });
    }
  }
  return {
    models: unique(models, (m) => m.sha256),
    backends,
    skipped: unique(skipped, (s) => `${s.model}\u0000${s.backend}`),
  };
}
