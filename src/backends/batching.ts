import { UserError } from '../util/errors.js';
import type { Backend, BatchedSession, LoadOptions } from './backend.js';
import type { ResolvedModel } from '../models/resolve.js';

export type BatchedLoader = (model: ResolvedModel, opts: LoadOptions & { slots: number }) => Promise<BatchedSession>;

/** Why `backend` cannot step several streams in one call, from its facts; null when it can. */
export function cannotBatch(backend: Backend): string | null {
  if (!backend.facts.batch.can) return backend.facts.batch.because;
  return backend.loadBatched ? null : 'it has no batched session';
}

/** The backend's batched session loader, or the one-line refusal of `flag` on it, saying why it cannot batch. */
export function batchedLoader(backend: Backend, flag: string): BatchedLoader {
  const why = cannotBatch(backend);
  if (why !== null || !backend.loadBatched)
    throw new UserError(`${flag}: backend ${backend.name} cannot batch streams: ${why ?? 'it has no batched session'}`);
  return backend.loadBatched.bind(backend);
}
