/**
 * MoViNet-A0/A1/A2 stream architectures as TF Model Garden defines them
 * (official/projects/movinet/modeling/movinet.py, BLOCK_SPECS; the MoViNets
 * paper, arXiv 2103.11511, appendix), reduced to what the int8 export recipe
 * needs: per layer the expansion width, the (T, S, S) kernel and the stride.
 */

export const ARCH_IDS = ['a0-arch', 'a1-arch', 'a2-arch'] as const;
export type ArchId = (typeof ARCH_IDS)[number];
export type ArchFamily = 'a0' | 'a1' | 'a2';

/** (temporal, spatial, spatial), as Model Garden writes kernels and strides. */
export type Triple = readonly [number, number, number];

export interface LayerSpec {
  expand: number;
  kernel: Triple;
  stride: Triple;
}

export interface BlockSpec {
  filters: number;
  layers: readonly LayerSpec[];
}

export interface ArchSpec {
  family: ArchFamily;
  resolution: number;
  numClasses: number;
  stem: { filters: number; kernel: Triple; stride: Triple };
  blocks: readonly BlockSpec[];
  head: { projectFilters: number; headFilters: number };
}

const K13: Triple = [1, 3, 3];
const K15: Triple = [1, 5, 5];
const K33: Triple = [3, 3, 3];
const K53: Triple = [5, 3, 3];
const S11: Triple = [1, 1, 1];
const S12: Triple = [1, 2, 2];

function block(filters: number, expand: number[], kernels: Triple[], strides: Triple[]): BlockSpec {
  if (expand.length !== kernels.length || expand.length !== strides.length)
    throw new Error(`block of ${filters} filters: expand, kernel and stride lists differ in length`);
  return { filters, layers: expand.map((e, i) => ({ expand: e, kernel: kernels[i]!, stride: strides[i]! })) };
}

export const ARCH_SPECS: Record<ArchFamily, ArchSpec> = {
  a0: {
    family: 'a0',
    resolution: 172,
    numClasses: 600,
    stem: { filters: 8, kernel: K13, stride: S12 },
    blocks: [
      block(8, [24], [K15], [S12]),
      block(32, [80, 80, 80], [K33, K33, K33], [S12, S11, S11]),
      block(56, [184, 112, 184], [K53, K33, K33], [S12, S11, S11]),
      block(56, [184, 184, 184, 184], [K53, K33, K33, K33], [S11, S11, S11, S11]),
      block(104, [384, 280, 280, 344], [K53, K15, K15, K15], [S12, S11, S11, S11]),
    ],
    head: { projectFilters: 480, headFilters: 2048 },
  },
  a1: {
    family: 'a1',
    resolution: 172,
    numClasses: 600,
    stem: { filters: 16, kernel: K13, stride: S12 },
    blocks: [
      block(16, [40, 40], [K15, K33], [S12, S11]),
      block(40, [96, 120, 96, 96], [K33, K33, K33, K33], [S12, S11, S11, S11]),
      block(64, [216, 128, 216, 168, 216], [K53, K33, K33, K33, K33], [S12, S11, S11, S11, S11]),
      block(64, [216, 216, 216, 128, 128, 216], [K53, K33, K33, K33, K15, K33], [S11, S11, S11, S11, S11, S11]),
      block(
        136,
        [456, 360, 360, 360, 456, 456, 544],
        [K53, K15, K15, K15, K15, K33, K13],
        [S12, S11, S11, S11, S11, S11, S11],
      ),
    ],
    head: { projectFilters: 600, headFilters: 2048 },
  },
  a2: {
    family: 'a2',
    resolution: 224,
    numClasses: 600,
    stem: { filters: 16, kernel: K13, stride: S12 },
    blocks: [
      block(16, [40, 40, 64], [K15, K33, K33], [S12, S11, S11]),
      block(40, [96, 120, 96, 96, 120], [K33, K33, K33, K33, K33], [S12, S11, S11, S11, S11]),
      block(72, [240, 160, 240, 192, 240], [K53, K33, K33, K33, K33], [S12, S11, S11, S11, S11]),
      block(72, [240, 240, 240, 240, 144, 240], [K53, K33, K33, K33, K15, K33], [S11, S11, S11, S11, S11, S11]),
      block(
        144,
        [480, 384, 384, 480, 480, 480, 576],
        [K53, K15, K15, K15, K15, K33, K13],
        [S12, S11, S11, S11, S11, S11, S11],
      ),
    ],
    head: { projectFilters: 640, headFilters: 2048 },
  },
};

export function archFamily(id: ArchId): ArchFamily {
  return id.slice(0, 2) as ArchFamily;
}

export function isArchId(id: string): id is ArchId {
  return (ARCH_IDS as readonly string[]).includes(id);
}

/** How a layer's input reaches its residual sum (Model Garden's MovinetBlock.build). */
export type SkipKind = 'identity' | 'project' | 'pool-project';

/** One block layer with its shapes worked out: the unit the export recipe emits. */
export interface LayerPlan {
  /** `block{b}_layer{l}`, the state and layer-name prefix. */
  name: string;
  inChannels: number;
  outChannels: number;
  expand: number;
  /** Input spatial size (square). */
  inSize: number;
  /** Output spatial size: the spatial depthwise conv applies the stride, SAME padding. */
  outSize: number;
  stride: number;
  temporalKernel: number;
  spatialKernel: number;
  skip: SkipKind;
}

export interface ArchPlan {
  spec: ArchSpec;
  /** Stem output size and channels. */
  stemSize: number;
  layers: LayerPlan[];
  /** Spatial size at the head. */
  headSize: number;
}

const halve = (n: number) => Math.ceil(n / 2);

export function planArch(spec: ArchSpec): ArchPlan {
  if (spec.stem.kernel[0] !== 1)
    throw new Error('a stem with a temporal kernel has a stream buffer the export recipe does not describe');
  const stemSize = spec.stem.stride[1] === 2 ? halve(spec.resolution) : spec.resolution;
  let size = stemSize;
  let channels = spec.stem.filters;
  const layers: LayerPlan[] = [];
  spec.blocks.forEach((b, bi) => {
    b.layers.forEach((l, li) => {
      const [kt, kh, kw] = l.kernel;
      const [st, sh, sw] = l.stride;
      if (kh !== kw || sh !== sw) throw new Error(`block${bi}_layer${li}: spatial kernel and stride must be square`);
      if (st !== 1) throw new Error(`block${bi}_layer${li}: a temporal stride does not stream`);
      const downsample = sh > 1;
      const outSize = downsample ? halve(size) : size;
      layers.push({
        name: `block${bi}_layer${li}`,
        inChannels: channels,
        outChannels: b.filters,
        expand: l.expand,
        inSize: size,
        outSize,
        stride: sh,
        temporalKernel: kt,
        spatialKernel: kh,
        skip: downsample ? 'pool-project' : channels !== b.filters ? 'project' : 'identity',
      });
      size = outSize;
      channels = b.filters;
    });
  });
  return { spec, stemSize, layers, headSize: size };
}
