import fs from 'node:fs';
import path from 'node:path';
import { isOffline } from '../util/download.js';
import { ModelUnavailableError, UserError } from '../util/errors.js';
import { cachedDataFile, dataDir, PROJECT_ROOT } from '../util/paths.js';
import { sha256Bytes, shortHash } from '../util/sha256.js';
import { ensureArchModel } from './arch/index.js';
import { findModelSpec, knownModelNames, loadManifest, type ModelSpec } from './manifest.js';
import { isPinned, pinMismatch, pinsOf, type Pins } from './pins.js';
import { sourcesFor } from './sources.js';
import { streamSignature, type StreamSignature } from './signature.js';
import { parseTflite, type TfliteModel } from './tflite.js';

export type ModelStatus = 'available' | 'missing' | 'checksum-mismatch';

/** Which of the places a manifest file is looked for held it, in the order they are searched. */
export type FileOrigin = 'data-dir' | 'checkout' | 'cache';

export interface ModelLocation {
  status: ModelStatus;
  /** The file found (also set on a checksum mismatch). */
  path?: string;
  origin?: FileOrigin;
  /** Every place that was searched, in order. */
  looked: string[];
  sha256?: string;
  /** On a checksum mismatch, which pin failed and how ('sha256 1a2b…, expected 6125…'). */
  mismatch?: string;
  /** The file's contents, read once for the checksum and kept for whoever loads it. */
  bytes?: Uint8Array;
}

export interface ResolvedModel {
  /** Manifest id, or the file's base name for a model given by path. */
  id: string;
  spec?: ModelSpec;
  path: string;
  bytes: Uint8Array;
  sha256: string;
  /** True when the manifest pins the file and it matched; false for unpinned or by-path models. */
  verified: boolean;
  graph: TfliteModel;
  signature: StreamSignature;
  /** Class names in logit order, when known. */
  labels?: string[];
  fps: number;
}

/** A file given where a model id is expected: anything that names a path rather than an id. */
export function isModelPath(ref: string): boolean {
  return /\.(tflite|onnx)$/i.test(ref) || ref.includes('/') || ref.includes(path.sep);
}

/**
 * The resolution order: the data dir the user points at, the checkout's own models/, then the download cache.
 * A file the user placed always wins over one this tool downloaded.
 */
function candidates(relative: string): { path: string; origin: FileOrigin }[] {
  const base = path.basename(relative);
  return [
    { path: path.join(dataDir(), relative), origin: 'data-dir' },
    { path: path.join(PROJECT_ROOT, 'models', base), origin: 'checkout' },
    { path: cachedDataFile(relative), origin: 'cache' },
  ];
}

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();

/** Finds a manifest file by relative path and checks it against its pins, wherever it was found. */
export function locate(relative: string, pins: Pins): ModelLocation {
  const places = candidates(relative);
  const looked = places.map((c) => c.path);
  const found = places.find((c) => isFile(c.path));
  if (!found) return { status: 'missing', looked };
  const bytes = readBytes(found.path, 'file');
  const sha256 = sha256Bytes(bytes);
  const mismatch = pinMismatch(bytes, sha256, pins) ?? undefined;
  const status = mismatch ? 'checksum-mismatch' : 'available';
  return { status, path: found.path, origin: found.origin, looked, sha256, mismatch, bytes };
}

/**
 * Why the fetch step (which runs before the synchronous resolution) left a manifest file missing, keyed by the
 * file's manifest path, so every command that then resolves it says what was tried.
 */
const unfetched = new Map<string, string>();

export function recordUnfetched(relative: string, why: string): void {
  unfetched.set(relative, why);
}

export function clearUnfetched(relative: string): void {
  unfetched.delete(relative);
}

/** Where a user can put a manifest file by hand. */
export function placeHint(relative: string): string {
  const inData = path.dirname(path.join(dataDir(), relative));
  const inCache = path.dirname(cachedDataFile(relative));
  return `put ${path.basename(relative)} in ${inData} or ${inCache}`;
}

/** The part of a 'not found' line that says what fetching did or would do. */
function unfetchedReason(relative: string, fetchHint: string): string {
  const recorded = unfetched.get(relative);
  if (recorded) return recorded;
  if (isOffline()) return `offline (--offline or MOVINET_OFFLINE=1), so it was not fetched; ${placeHint(relative)}`;
  return fetchHint;
}

function notFound(relative: string, loc: ModelLocation): string {
  return `${path.basename(relative)} not found (looked in ${loc.looked.map((p) => path.dirname(p)).join(', ')})`;
}

export function locateModel(spec: ModelSpec): ModelLocation {
  return locate(spec.file, pinsOf(spec));
}

/** The sources a fetch would try, for a hint: the first, and how many more. */
function sourcesHint(id: string, relative: string): string {
  const urls = sourcesFor(id, relative);
  if (urls.length === 0) return 'no source is listed for it (MOVINET_SOURCES or MOVINET_MIRROR can name one)';
  return urls.length === 1 ? urls[0]! : `${urls[0]} (or ${urls.length - 1} more sources)`;
}

export function missingReason(spec: ModelSpec, loc: ModelLocation): string {
  if (loc.status === 'checksum-mismatch') return `${loc.path} has ${loc.mismatch} (corrupt or a different model)`;
  // A1 and A2 have no file here: their architecture-only models give their latency. A0's real file is the sample's.
  const arch = loadManifest().models.find(
    (m) => m.source === 'arch' && m.family === spec.family && spec.family !== 'a0' && spec.precision === 'int8',
  );
  const standIn = arch
    ? `; for its latency without the weights, '${arch.id}' (architecture only: generated weights)`
    : '';
  const fetchHint = `'movinet-bench models fetch ${spec.id}' downloads it from ${sourcesHint(spec.id, spec.file)}`;
  return `file ${notFound(spec.file, loc)}; ${unfetchedReason(spec.file, fetchHint)}${standIn}`;
}

const labelCache = new Map<string, string[]>();

export function loadLabels(key: string): string[] {
  const cached = labelCache.get(key);
  if (cached) return cached;
  const spec = loadManifest().labels[key];
  if (!spec) throw new UserError(`unknown label set '${key}'`);
  const loc = locate(spec.file, pinsOf(spec));
  if (loc.status === 'missing')
    throw new UserError(`label file ${notFound(spec.file, loc)}; ${unfetchedReason(spec.file, placeHint(spec.file))}`);
  if (loc.status === 'checksum-mismatch') throw new UserError(`label file ${loc.path} has ${loc.mismatch}`);
  const labels = parseLabels(new TextDecoder().decode(loc.bytes));
  if (labels.length !== spec.count)
    throw new UserError(`label file ${loc.path} has ${labels.length} labels, expected ${spec.count}`);
  labelCache.set(key, labels);
  return labels;
}

export function parseLabels(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export function readLabelFile(file: string): string[] {
  if (!fs.existsSync(file)) throw new UserError(`label file ${file} does not exist`);
  if (!fs.statSync(file).isFile()) throw new UserError(`label file ${file} is not a file`);
  const labels = parseLabels(new TextDecoder().decode(readBytes(file, 'label file')));
  if (labels.length === 0) throw new UserError(`label file ${file} has no labels`);
  return labels;
}

/** Labels must name every logit: a short or long file would silently mislabel classes. */
function checkLabelCount(
  labels: string[] | undefined,
  numClasses: number,
  model: string,
  file: string | undefined,
): void {
  if (labels && labels.length !== numClasses) {
    throw new UserError(
      `model ${model} gives ${numClasses} classes but the label file${file ? ` ${file}` : ''} has ${labels.length}`,
    );
  }
}

function readBytes(file: string, label: string): Uint8Array {
  try {
    const bytes = fs.readFileSync(file);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch (e) {
    throw new UserError(
      `cannot read ${label} at ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

function nonEmpty(bytes: Uint8Array, file: string, label: string): Uint8Array {
  if (bytes.length === 0) throw new UserError(`${label} at ${file} is empty`);
  return bytes;
}

export interface ResolveOptions {
  /** A label file for a model given by path. */
  labelsFile?: string;
}

/**
 * Turns what the user typed (a manifest id or alias, or a .tflite path) into a
 * loaded, verified model with its stream signature. Errors are one line.
 */
export function resolveModel(ref: string, opts: ResolveOptions = {}): ResolvedModel {
  if (isModelPath(ref)) return resolvePath(ref, opts);
  const spec = findModelSpec(ref);
  if (!spec)
    throw new UserError(
      `unknown model '${ref}'; known ids: ${knownModelNames().join(', ')} (or give a path to a .tflite file)`,
    );
  if (spec.source === 'arch') return resolveArch(spec, opts);
  const loc = locateModel(spec);
  if (loc.status !== 'available') {
    throw new ModelUnavailableError(
      `model ${spec.id}: ${missingReason(spec, loc)}`,
      loc.status === 'missing' ? 'missing' : 'corrupt',
      spec.id,
    );
  }
  return fromManifest(spec, loc.path!, nonEmpty(loc.bytes!, loc.path!, `model ${spec.id}`), loc.sha256!, opts);
}

/**
 * An architecture model is built (or read from the cache) rather than found.
 * Its bytes are deterministic: a build that does not match the manifest's
 * sha256 means the generator changed without a new version, and is refused.
 */
function resolveArch(spec: ModelSpec, opts: ResolveOptions): ResolvedModel {
  const built = ensureArchModel(spec.id);
  if (spec.sha256 && built.sha256 !== spec.sha256) {
    const pins = `the generator built sha256 ${shortHash(built.sha256)}, the manifest pins ${shortHash(spec.sha256)}`;
    throw new UserError(`model ${spec.id}: ${pins} (the generator changed without a new version)`);
  }
  return fromManifest(spec, built.path ?? `(built in memory) ${spec.id}`, built.bytes, built.sha256, opts);
}

/**
 * The structural check every manifest model passes before use, and the only one an unpinned file gets: a stream
 * model the harness can drive (one [1,1,H,W,3] frame input, states in and out that pair up, logits) at the
 * manifest's resolution and class count.
 */
export function checkStreamModel(
  bytes: Uint8Array,
  spec: ModelSpec,
  where: string,
): { graph: TfliteModel; signature: StreamSignature } {
  const graph = parseTflite(bytes, `model ${spec.id} (${where})`);
  const signature = streamSignature(graph, `model ${spec.id}`);
  if (signature.height !== spec.resolution || signature.numClasses !== spec.numClasses) {
    const takes = `${where} takes ${signature.height}x${signature.width} and gives ${signature.numClasses} classes`;
    throw new UserError(`model ${spec.id}: ${takes}; the manifest says ${spec.resolution} and ${spec.numClasses}`);
  }
  return { graph, signature };
}

/** A manifest model's bytes, checked against what the manifest says of it, with its labels. */
function fromManifest(
  spec: ModelSpec,
  file: string,
  bytes: Uint8Array,
  sha256: string,
  opts: ResolveOptions,
): ResolvedModel {
  const loc = { path: file, sha256 };
  const { graph, signature } = checkStreamModel(bytes, spec, loc.path);
  const labels = opts.labelsFile ? readLabelFile(opts.labelsFile) : loadLabels(spec.labels);
  checkLabelCount(labels, signature.numClasses, spec.id, opts.labelsFile);
  return {
    id: spec.id,
    spec,
    path: loc.path,
    bytes,
    sha256: loc.sha256,
    verified: isPinned(pinsOf(spec)),
    graph,
    signature,
    labels,
    fps: spec.fps,
  };
}

function resolvePath(ref: string, opts: ResolveOptions): ResolvedModel {
  const file = path.resolve(ref);
  if (!fs.existsSync(file)) throw new UserError(`model file ${ref} does not exist`);
  if (/\.onnx$/i.test(file))
    throw new UserError(`model ${ref}: give the source .tflite; ONNX models are made from it with 'models convert'`);
  const bytes = nonEmpty(readBytes(file, 'model'), file, 'model');
  const graph = parseTflite(bytes, `model ${ref}`);
  const signature = streamSignature(graph, `model ${ref}`);
  let labels: string[] | undefined;
  if (opts.labelsFile) labels = readLabelFile(opts.labelsFile);
  else if (signature.numClasses === 600) labels = tryKineticsLabels();
  checkLabelCount(labels, signature.numClasses, ref, opts.labelsFile);
  return {
    id: path.basename(file).replace(/\.tflite$/i, ''),
    path: file,
    bytes,
    sha256: sha256Bytes(bytes),
    verified: false,
    graph,
    signature,
    labels,
    fps: 5,
  };
}

function tryKineticsLabels(): string[] | undefined {
  try {
    return loadLabels('kinetics600');
  } catch {
    return undefined;
  }
}

/** Class name for a logit index: the label when known, else `class_<i>`. */
export function className(model: Pick<ResolvedModel, 'labels'>, index: number): string {
  return model.labels?.[index] ?? `class_${index}`;
}

/** Commands whose output is a prediction refuse models whose weights are generated: their labels mean nothing. */
export function refuseArchitectureOnly(model: Pick<ResolvedModel, 'id' | 'spec'>, command: string): void {
  if (model.spec?.source === 'arch') {
    const meaningless = 'architecture only (generated weights): its predictions mean nothing';
    throw new UserError(`model ${model.id} is ${meaningless}, so ${command} refuses it; use it with bench or parity`);
  }
}
