import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { PROJECT_ROOT } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { ReferenceSchema } from '../core/results.js';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const GitBlob = z.string().regex(/^[0-9a-f]{40}$/);

export const ModelSpecSchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  family: z.enum(['a0', 'a1', 'a2']),
  precision: z.enum(['int8', 'float16', 'float32']),
  /**
   * 'file': an official model file, found or fetched. 'arch': built here from the published
   * architecture with generated weights (src/models/arch): latency only, never accuracy.
   */
  source: z.enum(['file', 'arch']).default('file'),
  resolution: z.number().int().positive(),
  fps: z.number().positive(),
  numClasses: z.number().int().positive(),
  file: z.string(),
  sha256: Sha256.nullable(),
  /** The git blob id public copies of the file carry (`git hash-object`); a pin like sha256. */
  gitBlob: GitBlob.nullable().default(null),
  bytes: z.number().int().positive().nullable(),
  labels: z.string(),
  /** Where an architecture model's network is published; files are fetched from models/sources.json. */
  url: z.string().url().optional(),
  flopsPerFrame: z.number().positive(),
  reference: ReferenceSchema,
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const LabelSpecSchema = z.object({
  file: z.string(),
  sha256: Sha256,
  gitBlob: GitBlob.nullable().default(null),
  bytes: z.number().int().positive(),
  count: z.number().int().positive(),
});
export type LabelSpec = z.infer<typeof LabelSpecSchema>;

const ManifestSchema = z.object({
  schemaVersion: z.literal(1),
  labels: z.record(z.string(), LabelSpecSchema),
  models: z.array(ModelSpecSchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

let cached: Manifest | undefined;

export function loadManifest(): Manifest {
  if (cached) return cached;
  const file = path.join(PROJECT_ROOT, 'models', 'manifest.json');
  const parsed = ManifestSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new UserError(`models/manifest.json is invalid: ${z.prettifyError(parsed.error).split('\n').join('; ')}`);
  cached = parsed.data;
  return cached;
}

/** All ids and aliases, for error messages and `models`. */
export function knownModelNames(): string[] {
  return loadManifest().models.flatMap((m) => [m.id, ...m.aliases]);
}

export function findModelSpec(name: string): ModelSpec | undefined {
  const key = name.toLowerCase();
  return loadManifest().models.find((m) => m.id === key || m.aliases.includes(key));
}
