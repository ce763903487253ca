import type { ModelInfo, ParityClip, ParityPair } from '../core/results.js';
import { argmax, softmax } from './probabilities.js';
import { maxOr } from './stats.js';

/** One clip streamed through every backend: the logits after each frame, per backend. */
export interface ClipLogits {
  file: string;
  byBackend: Float32Array[][];
  error?: string;
}

/** The parity rule, in one place: every clip's final top-1 matches and per-frame agreement reaches the minimum. */
export function pairPasses(pair: ParityPair, minAgreement: number): boolean {
  return pair.clipsMatching === pair.clips.length && pair.frameTop1Agreement >= minAgreement;
}

export function parityPassed(pairs: readonly ParityPair[], minAgreement: number): boolean {
  return pairs.length > 0 && pairs.every((p) => pairPasses(p, minAgreement));
}

function compareClip(c: ClipLogits, ri: number, bi: number): { clip: ParityClip; agree: number } {
  const a = c.byBackend[ri] ?? [];
  const b = c.byBackend[bi] ?? [];
  const last = a.length - 1;
  if (c.error || last < 0) {
    const clip: ParityClip = {
      file: c.file,
      frames: 0,
      maxAbsLogitDiff: 0,
      maxAbsProbDiff: 0,
      frameTop1Agreement: 0,
      finalTop1: [-1, -1],
      match: false,
      error: c.error ?? 'no frame',
    };
    return { clip, agree: 0 };
  }
  let maxLogit = 0;
  let maxProb = 0;
  let agree = 0;
  for (let f = 0; f <= last; f++) {
    const [la, lb] = [a[f]!, b[f]!];
    const [pa, pb] = [softmax(la), softmax(lb)];
    for (let k = 0; k < la.length; k++) {
      maxLogit = Math.max(maxLogit, Math.abs(la[k]! - lb[k]!));
      maxProb = Math.max(maxProb, Math.abs(pa[k]! - pb[k]!));
    }
    if (argmax(la) === argmax(lb)) agree++;
  }
  const finalTop1: [number, number] = [argmax(a[last]!), argmax(b[last]!)];
  const clip: ParityClip = {
    file: c.file,
    frames: a.length,
    maxAbsLogitDiff: maxLogit,
    maxAbsProbDiff: maxProb,
    frameTop1Agreement: agree / a.length,
    finalTop1,
    match: finalTop1[0] === finalTop1[1],
  };
  return { clip, agree };
}

/**
 * Backend `bi` against the reference `ri`, frame by frame: max |logit
 * difference|, max |probability difference|, top-1 agreement, and whether each
 * clip's final top-1 matches.
 */
export function compareBackends(
  model: ModelInfo,
  reference: string,
  backend: string,
  clips: readonly ClipLogits[],
  ri: number,
  bi: number,
): ParityPair {
  const compared = clips.map((c) => compareClip(c, ri, bi));
  const perClip = compared.map((c) => c.clip);
  const frames = perClip.reduce((s, c) => s + c.frames, 0);
  const agree = compared.reduce((s, c) => s + c.agree, 0);
  return {
    model,
    reference,
    backend,
    clips: perClip,
    frames,
    frameTop1Agreement: frames ? agree / frames : 0,
    clipsMatching: perClip.filter((c) => c.match).length,
    maxAbsLogitDiff: maxOr(
      perClip.map((c) => c.maxAbsLogitDiff),
      0,
    ),
    maxAbsProbDiff: maxOr(
      perClip.map((c) => c.maxAbsProbDiff),
      0,
    ),
  };
}
