import fs from 'node:fs';
import path from 'node:path';
import { removeQuietly, writeFileAtomic } from '../../util/atomic-write.js';
import { UserError } from '../../util/errors.js';
import { cacheDir } from '../../util/paths.js';
import { sha256Bytes } from '../../util/sha256.js';
import { streamSignature, type StreamSignature } from '../signature.js';
import { parseTflite, type TfliteModel } from '../tflite.js';
import { ARCH_CALIBRATION } from './calibration.js';
import { emitArch } from './emit.js';
import { archNetwork, type ArchCalibration } from './network.js';
import { ARCH_SEED } from './random.js';
import { ARCH_IDS, ARCH_SPECS, archFamily, isArchId, type ArchFamily, type ArchId } from './specs.js';
import { writeTflite } from './writer.js';

export { ARCH_IDS, isArchId, type ArchId, type ArchFamily };

/**
 * Architecture-faithful MoViNet stream int8 models with generated weights.
 * An int8 graph's latency does not depend on its weight values, so these
 * stand in for A1 and A2 until the official files are present. Their
 * outputs mean nothing: never report their accuracy.
 */

/** Bump when the bytes a build writes change: cached builds are keyed by it. */
export const ARCH_GENERATOR_VERSION = 1;

/** What every report, listing and file of these models says about them. */
export const ARCH_NOTE = 'architecture only: generated weights, latency only';

/** The assumption behind the A1 and A2 files, said wherever they appear. */
export const ARCH_ASSUMPTION =
  'built with the export recipe inferred from the official A0 int8 file; ' +
  'that the official A1/A2 int8 files used the same recipe is an assumption';

export interface ArchModelInfo {
  id: ArchId;
  family: ArchFamily;
  resolution: number;
  fps: number;
  numClasses: number;
  note: string;
  assumption: string;
}

export function archModelInfo(id: ArchId): ArchModelInfo {
  const spec = ARCH_SPECS[archFamily(id)];
  return {
    id,
    family: spec.family,
    resolution: spec.resolution,
    fps: 5,
    numClasses: spec.numClasses,
    note: ARCH_NOTE,
    assumption: ARCH_ASSUMPTION,
  };
}

function requireArchId(id: string): ArchId {
  if (!isArchId(id)) throw new UserError(`unknown architecture model '${id}'; known: ${ARCH_IDS.join(', ')}`);
  return id;
}

/** Builds with a given calibration (the calibration script checks a fresh one this way before committing it). */
export function buildArchModelWith(id: ArchId, calibration: ArchCalibration): Uint8Array {
  const net = archNetwork(id);
  const provenance = {
    generator: 'movinet-bench src/models/arch',
    generatorVersion: ARCH_GENERATOR_VERSION,
    id,
    seed: ARCH_SEED,
    note: ARCH_NOTE,
    assumption: ARCH_ASSUMPTION,
    specSource: 'TF Model Garden official/projects/movinet/modeling/movinet.py BLOCK_SPECS',
  };
  const ir = emitArch(net, calibration, {
    description: `movinet-bench ${id}: MoViNet-${archFamily(id).toUpperCase()} stream int8, ${ARCH_NOTE}`,
    metadata: [
      // What the official file's converter recorded for the same op versions.
      { name: 'min_runtime_version', data: paddedAscii('2.3.0', 16) },
      { name: 'movinet_bench_arch', data: new TextEncoder().encode(JSON.stringify(provenance)) },
    ],
  });
  return writeTflite(ir);
}

function paddedAscii(s: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(new TextEncoder().encode(s));
  return out;
}

/** The deterministic bytes of an architecture model: the same on every machine. */
export function buildArchModel(id: ArchId): Uint8Array {
  const calibration = ARCH_CALIBRATION[requireArchId(id)];
  if (!calibration) throw new UserError(`${id} has no committed calibration (run scripts/calibrate-arch.ts)`);
  return buildArchModelWith(id, calibration);
}

export interface ArchModelFile {
  id: ArchId;
  /** The cache file, or null when it was built without the cache. */
  path: string | null;
  bytes: Uint8Array;
  sha256: string;
  /** True when this call built it (not read from the cache). */
  built: boolean;
  buildMs: number;
  /** Why a cached file was rebuilt, for the log. */
  rebuilt?: string;
}

/** Where a build is cached, keyed by the generator version (a changed generator never reads an old file). */
export function archCachePath(id: ArchId): string {
  return path.join(cacheDir(), 'arch', `${id}-g${ARCH_GENERATOR_VERSION}.tflite`);
}

/**
 * The model's file, built on first use into the cache (with a sha256
 * sidecar, as conversions are) and read from there afterwards. `force`
 * rebuilds; `cache: false` neither reads nor writes it.
 */
export function ensureArchModel(ref: string, opts: { cache?: boolean; force?: boolean } = {}): ArchModelFile {
  const id = requireArchId(ref);
  const file = archCachePath(id);
  const useCache = opts.cache ?? true;
  let rebuilt: string | undefined;
  if (useCache && !opts.force && fs.existsSync(file) && fs.existsSync(`${file}.sha256`)) {
    try {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const sha256 = sha256Bytes(bytes);
      if (sha256 === fs.readFileSync(`${file}.sha256`, 'utf8').trim())
        return { id, path: file, bytes, sha256, built: false, buildMs: 0 };
      rebuilt = `${file} did not match its recorded sha256`;
    } catch (e) {
      rebuilt = `${file} could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  }
  const t0 = performance.now();
  const bytes = buildArchModel(id);
  const buildMs = performance.now() - t0;
  const sha256 = sha256Bytes(bytes);
  if (!useCache) return { id, path: null, bytes, sha256, built: true, buildMs };
  // The sidecar first and the model last: a reader never sees a model without its checksum.
  removeQuietly(file);
  writeFileAtomic(`${file}.sha256`, `${sha256}\n`);
  writeFileAtomic(file, bytes);
  return { id, path: file, bytes, sha256, built: true, buildMs, rebuilt };
}

/** The fields of a resolved model (resolve.ts's ResolvedModel, less `spec` and `labels`) for an architecture model. */
export interface ArchResolved {
  id: ArchId;
  path: string;
  bytes: Uint8Array;
  sha256: string;
  verified: boolean;
  graph: TfliteModel;
  signature: StreamSignature;
  fps: number;
}

/**
 * Parses a built file into what the backends load. `verified` is left false:
 * only a sha256 pinned elsewhere (the manifest) can verify it.
 */
export function archResolved(file: ArchModelFile): ArchResolved {
  const label = `model ${file.id}${file.path ? ` (${file.path})` : ''}`;
  const graph = parseTflite(file.bytes, label);
  const signature = streamSignature(graph, `model ${file.id}`);
  const info = archModelInfo(file.id);
  if (signature.height !== info.resolution || signature.numClasses !== info.numClasses)
    throw new UserError(`${label} takes ${signature.height}x${signature.width}; ${file.id} is ${info.resolution}`);
  return {
    id: file.id,
    path: file.path ?? `<${file.id}, built in memory>`,
    bytes: file.bytes,
    sha256: file.sha256,
    verified: false,
    graph,
    signature,
    fps: info.fps,
  };
}
