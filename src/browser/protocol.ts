import type { Precision } from '../convert/context.js';
import type { StateCodec } from '../convert/int8-states.js';
import type { StreamSignature } from '../models/signature.js';

/**
 * What the Node side and the page say to each other. Both sides import this
 * file, so it holds types and plain data only: the page bundle must not pull
 * in anything of Node.
 */

/** The runtimes the page can load, by the name of their Node backend. */
export const PAGE_RUNTIMES = [
  'tfjs-tflite',
  'litert',
  'onnxruntime-web',
  'onnxruntime-web-float',
  'onnxruntime-web-exact',
] as const;
export type PageRuntime = (typeof PAGE_RUNTIMES)[number];

/** The converted graph the page loads: its precision and the states it takes as uint8 codes. */
export interface PageOnnx {
  precision: Precision;
  stateCodes: [string, StateCodec][];
}

export interface PageBenchRequest {
  runtime: PageRuntime;
  threads: number;
  signature: StreamSignature;
  /** For the onnxruntime runtimes: /model holds the converted graph. */
  onnx?: PageOnnx;
  /** Distinct frames served at /frames; passes cycle through them as in Node. */
  frameCount: number;
  frames: number;
  warmup: number;
  repeats: number;
  overhead: boolean;
}

export interface PageOverheadBlock {
  bare: number[];
  stepped: number[];
}

export interface PageEnvironment {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  /** Smallest non-zero step of performance.now() seen, ms: about 0.1 when the clock is coarsened. */
  timerResolutionMs: number;
  webgpu: string;
  webgl2: string;
  /** True when the only WebGL2 renderer is a software one: no GPU figure may come from it. */
  webgl2Software: boolean;
  userAgent: string;
}

export interface PageBenchResult {
  loadMs: number;
  firstInferenceMs: number;
  /** One array of step() times per repeat, in frame order. */
  passes: number[][];
  overheadBlocks: PageOverheadBlock[];
  environment: PageEnvironment;
  /** Top-1 class of the last frame of the first pass, a cheap check that the page computed something real. */
  lastTop1: number;
}

export interface PageParityRequest {
  runtime: PageRuntime;
  threads: number;
  signature: StreamSignature;
  onnx?: PageOnnx;
  frameCount: number;
}

export interface PageParityResult {
  /** Logits of every frame, concatenated. */
  logits: number[];
  classes: number;
}
