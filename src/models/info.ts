import type { ModelInfo } from '../core/results.js';
import type { ResolvedModel } from './resolve.js';

/** What a report records about the model a result was measured on. */
export function modelInfo(m: ResolvedModel): ModelInfo {
  return {
    id: m.id,
    path: m.path,
    sha256: m.sha256,
    verified: m.verified,
    bytes: m.bytes.length,
    family: m.spec?.family ?? null,
    precision: m.spec?.precision ?? null,
    resolution: m.signature.height,
    numClasses: m.signature.numClasses,
    states: m.signature.states.length,
    flopsPerFrame: m.spec?.flopsPerFrame ?? null,
    reference: m.spec?.reference ?? null,
    note: modelNote(m),
  };
}

/** What every table and page says beside a manifest model whose figures need a caveat. */
function modelNote(m: ResolvedModel): string | null {
  if (m.spec?.source === 'arch') return m.spec.reference.source;
  // A manifest file with no pin passed only the structural check: say so, with the hash that identifies it.
  if (m.spec && !m.verified) return `unverified: the manifest pins nothing for this file; sha256 ${m.sha256}`;
  return null;
}
