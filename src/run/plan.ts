import type { Backend } from '../backends/backend.js';
import type { Failed } from '../core/results.js';
import type { ResolvedModel } from '../models/resolve.js';
import { errorMessage } from '../util/errors.js';
import type { Progress } from '../util/progress.js';

/**
 * Runs every (model, backend) pair in order. A pair that throws becomes a
 * failed entry and the plan goes on, so one broken runtime never costs the
 * report of the others.
 */
export async function runPairs<T>(
  models: readonly ResolvedModel[],
  backends: readonly Backend[],
  progress: Progress,
  run: (model: ResolvedModel, backend: Backend) => Promise<T>,
): Promise<{ results: T[]; failed: Failed[] }> {
  const results: T[] = [];
  const failed: Failed[] = [];
  for (const model of models) {
    for (const backend of backends) {
      try {
        results.push(await run(model, backend));
      } catch (e) {
        progress.stop();
        failed.push({ model: model.id, backend: backend.name, error: errorMessage(e) });
      }
    }
  }
  return { results, failed };
}
