/**
 * What the Node side and the page say to each other. Both sides import this
 * file, so it holds types and plain data only: the page bundle must not pull
 * in anything of Node.
 */

/** A tensor as the page needs it: the runtime's tensor name (tfjs-tflite) or signature name (LiteRT). */
export interface PageTensor {
  name: string;
  tensorName: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface PageSignature {
  image: PageTensor;
  logits: PageTensor;
  states: { name: string; input: PageTensor; output: PageTensor }[];
}

/** The runtimes the page can load, by the name of their Node backend. */
export const PAGE_RUNTIMES = [
  'tfjs-tflite',
  'litert',
  'onnxruntime',
  'onnxruntime-float',
  'onnxruntime-exact',
] as const;
export type PageRuntime = (typeof PAGE_RUNTIMES)[number];

/** How the converted ONNX graph names its values; live states are written by the graph, pass-through ones carried. */
export interface PageOnnxGraph {
  logits: string;
  live: { name: string; output: string; shape: number[]; dtype: 'float32' | 'int32' }[];
  passThrough: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[];
  optimization: 'all' | 'disabled';
}

export interface PageBenchRequest {
  runtime: PageRuntime;
  threads: number;
  signature: PageSignature;
  /** For the onnxruntime runtimes: /model holds the converted graph. */
  onnx?: PageOnnxGraph;
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
  signature: PageSignature;
  onnx?: PageOnnxGraph;
  frameCount: number;
}

export interface PageParityResult {
  /** Logits of every frame, concatenated. */
  logits: number[];
  classes: number;
}
