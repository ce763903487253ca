import { int8Weights, Rng } from './random.js';
import { ARCH_SPECS, archFamily, planArch, type ArchId, type ArchPlan, type LayerPlan } from './specs.js';

/**
 * The generated network in real-valued terms, before any activation is
 * quantized: what both the TFLite writer (emit.ts) and the float simulator
 * used for calibration (simulate.ts) read, so the two cannot disagree on a
 * weight. Weights are int8 codes from the seeded PRNG; their per-channel
 * scale is a calibrated per-conv gain times a per-channel jitter, the way a
 * batch norm folded into a trained conv leaves every channel its own scale.
 */

export interface ConvParams {
  /** Calibration key and role name, e.g. `block1_layer0/expansion`. */
  key: string;
  depthwise: boolean;
  kernelH: number;
  kernelW: number;
  stride: number;
  padding: 'same' | 'valid';
  inChannels: number;
  outChannels: number;
  relu6: boolean;
  /** int8 codes in TFLite layout: [O, kh, kw, I] for CONV_2D, [1, kh, kw, C] for DEPTHWISE_CONV_2D. */
  codes: Int8Array;
  /** Per output channel: relative weight scale. */
  jitter: Float64Array;
  /** Per output channel: bias in units of `target`. */
  biasUnit: Float64Array;
  /** RMS the calibration gives this conv's pre-activation output. */
  target: number;
}

export interface LayerNet {
  plan: LayerPlan;
  expansion: ConvParams;
  spatial: ConvParams;
  temporal?: ConvParams;
  projection: ConvParams;
  skip?: ConvParams;
  /** ReZero's scalar, folded by the exporter into a constant MUL. */
  rezero: number;
}

export interface ArchNet {
  id: ArchId;
  plan: ArchPlan;
  stem: ConvParams;
  layers: LayerNet[];
  headProject: ConvParams;
  classifierHead: ConvParams;
  classifier: ConvParams;
}

/**
 * What one calibration on real frames fixed: a gain per conv (its weights'
 * scale) and the observed [min, max] of every activation whose range the
 * recipe does not fix at ReLU6's [0, 6].
 */
export interface ArchCalibration {
  gains: Record<string, number>;
  ranges: Record<string, readonly [number, number]>;
}

/** Range keys besides the per-layer ones (`<layer>/projection|skip|rezero|add`). */
export const HEAD_RANGES = {
  /** Largest per-frame spatial mean of the head projection, any channel: sizes the head pool buffer. */
  frameMean: 'head/frame_mean',
  /** The cumulative average the classifier reads (the DIV output). */
  average: 'head/average',
  classifierHead: 'classifier/head',
  logits: 'classifier/logits',
} as const;

/** Pre-activation RMS of the convs followed by ReLU6: small enough that ReLU6 rarely clips. */
const RELU_TARGET = 1;
/** Linear outputs (projection, skip) are normalised to unit RMS, like a batch norm's output. */
const LINEAR_TARGET = 1;
/** Logits spread like a classifier's, a few units. */
const LOGIT_TARGET = 2;

/** What conv() needs to make a conv's parameters: its geometry and calibration target, and the bias range. */
interface ConvShape extends Omit<ConvParams, 'key' | 'codes' | 'jitter' | 'biasUnit'> {
  biasRange: readonly [number, number];
}

function conv(id: ArchId, key: string, s: ConvShape): ConvParams {
  const rng = Rng.for(`${id}/${key}`);
  const { kernelH: kh, kernelW: kw, inChannels: cin, outChannels: cout } = s;
  const count = s.depthwise ? kh * kw * cout : cout * kh * kw * cin;
  const perOut = kh * kw * cin;
  const codes = int8Weights(rng, count, cout, s.depthwise ? (k) => k % cout : (k) => Math.floor(k / perOut));
  const jitter = new Float64Array(cout);
  const biasUnit = new Float64Array(cout);
  for (let c = 0; c < cout; c++) {
    jitter[c] = rng.uniform(0.75, 1.25);
    biasUnit[c] = rng.uniform(s.biasRange[0], s.biasRange[1]);
  }
  return {
    key,
    depthwise: s.depthwise,
    kernelH: kh,
    kernelW: kw,
    stride: s.stride,
    padding: s.padding,
    inChannels: cin,
    outChannels: cout,
    relu6: s.relu6,
    codes,
    jitter,
    biasUnit,
    target: s.target,
  };
}

const RELU_BIAS = [-0.5, 1] as const;
const LINEAR_BIAS = [-0.1, 0.1] as const;

function pointwise(cin: number, cout: number, relu6: boolean, target: number): ConvShape {
  return {
    depthwise: false,
    kernelH: 1,
    kernelW: 1,
    stride: 1,
    padding: 'same',
    inChannels: cin,
    outChannels: cout,
    relu6,
    target,
    biasRange: relu6 ? RELU_BIAS : LINEAR_BIAS,
  };
}

function layerNet(id: ArchId, p: LayerPlan): LayerNet {
  const k = (role: string) => `${p.name}/${role}`;
  const rng = Rng.for(`${id}/${p.name}/rezero`);
  const magnitude = rng.uniform(0.5, 1);
  return {
    plan: p,
    expansion: conv(id, k('expansion'), pointwise(p.inChannels, p.expand, true, RELU_TARGET)),
    spatial: conv(id, k('feature'), {
      depthwise: true,
      kernelH: p.spatialKernel,
      kernelW: p.spatialKernel,
      stride: p.stride,
      padding: 'same',
      inChannels: p.expand,
      outChannels: p.expand,
      relu6: true,
      target: RELU_TARGET,
      biasRange: RELU_BIAS,
    }),
    temporal:
      p.temporalKernel > 1
        ? conv(id, k('temporal'), {
            depthwise: true,
            kernelH: p.temporalKernel,
            kernelW: 1,
            stride: 1,
            padding: 'valid',
            inChannels: p.expand,
            outChannels: p.expand,
            relu6: true,
            target: RELU_TARGET,
            biasRange: RELU_BIAS,
          })
        : undefined,
    projection: conv(id, k('projection'), pointwise(p.expand, p.outChannels, false, LINEAR_TARGET)),
    skip:
      p.skip === 'identity'
        ? undefined
        : conv(id, k('skip'), pointwise(p.inChannels, p.outChannels, false, LINEAR_TARGET)),
    rezero: rng.next() < 0.5 ? -magnitude : magnitude,
  };
}

/** The whole network of one architecture id, deterministic from the seed. */
export function archNetwork(id: ArchId): ArchNet {
  const spec = ARCH_SPECS[archFamily(id)];
  const plan = planArch(spec);
  const last = plan.layers[plan.layers.length - 1]!;
  const stemShape: ConvShape = {
    depthwise: false,
    kernelH: spec.stem.kernel[1],
    kernelW: spec.stem.kernel[2],
    stride: spec.stem.stride[1],
    padding: 'same',
    inChannels: 3,
    outChannels: spec.stem.filters,
    relu6: true,
    target: RELU_TARGET,
    biasRange: RELU_BIAS,
  };
  return {
    id,
    plan,
    stem: conv(id, 'stem', stemShape),
    layers: plan.layers.map((p) => layerNet(id, p)),
    headProject: conv(id, 'head/project', pointwise(last.outChannels, spec.head.projectFilters, true, RELU_TARGET)),
    classifierHead: conv(
      id,
      HEAD_RANGES.classifierHead,
      pointwise(spec.head.projectFilters, spec.head.headFilters, true, LINEAR_TARGET),
    ),
    classifier: conv(id, HEAD_RANGES.logits, {
      ...pointwise(spec.head.headFilters, spec.numClasses, false, LOGIT_TARGET),
      biasRange: [-0.25, 0.25],
    }),
  };
}

/** Every conv of the network in execution order (the order calibration fixes their gains in). */
export function allConvs(net: ArchNet): ConvParams[] {
  return [
    net.stem,
    ...net.layers.flatMap((l) => [
      l.expansion,
      l.spatial,
      ...(l.temporal ? [l.temporal] : []),
      l.projection,
      ...(l.skip ? [l.skip] : []),
    ]),
    net.headProject,
    net.classifierHead,
    net.classifier,
  ];
}

/** Real per-channel weight scale of a conv under a gain; float32, as the file stores it. */
export function weightScales(p: ConvParams, gain: number): Float32Array {
  return Float32Array.from(p.jitter, (j) => gain * j);
}

export function biasValues(p: ConvParams): Float64Array {
  return Float64Array.from(p.biasUnit, (u) => u * p.target);
}
