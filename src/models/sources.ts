import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { mirrorUrl } from '../util/download.js';
import { UserError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { loadManifest } from './manifest.js';

/**
 * Where each manifest file can be downloaded from, in the order tried: `models/sources.json`, shipped with the
 * package, or the file MOVINET_SOURCES names instead. Keys are model ids and label-set ids; keys starting with
 * `$` are comments. Kept apart from the manifest because hosts move (TF Hub's file URLs stopped serving files
 * in 2024) while what a file must be does not.
 */
const HttpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL');
const SourcesSchema = z.record(z.string(), z.unknown());
const UrlList = z.array(HttpUrl);

export type SourceList = Record<string, string[]>;

const DEFAULT_FILE = path.join(PROJECT_ROOT, 'models', 'sources.json');

let cached: { file: string; list: SourceList } | undefined;

/** Ids a source list may name: every manifest file that is downloaded, models and label sets. */
function fileIds(): Set<string> {
  const m = loadManifest();
  return new Set([...m.models.filter((s) => s.source !== 'arch').map((s) => s.id), ...Object.keys(m.labels)]);
}

function readSourceList(file: string, name: string): SourceList {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`${name} cannot be read as JSON (${why})`);
  }
  const top = SourcesSchema.safeParse(raw);
  if (!top.success) throw new UserError(`${name} must be an object { "<id>": ["<url>", ...] }`);
  const known = fileIds();
  const list: SourceList = {};
  for (const [id, urls] of Object.entries(top.data)) {
    if (id.startsWith('$')) continue;
    if (!known.has(id))
      throw new UserError(`${name} names '${id}', which is no model or label set (known: ${[...known].join(', ')})`);
    const parsed = UrlList.safeParse(urls);
    if (!parsed.success) throw new UserError(`${name}: '${id}' must be a list of http(s) URLs`);
    list[id] = parsed.data;
  }
  return list;
}

/** The source list in force; MOVINET_SOURCES, read once per process, replaces the shipped one. */
export function sourceList(): { file: string; list: SourceList } {
  const override = process.env.MOVINET_SOURCES;
  const file = override ? path.resolve(override) : DEFAULT_FILE;
  if (cached?.file !== file)
    cached = { file, list: readSourceList(file, override ? `MOVINET_SOURCES=${override}` : `the source list ${file}`) };
  return cached;
}

/** Every URL a manifest file is tried from, in order: MOVINET_MIRROR first when set, then the source list. */
export function sourcesFor(id: string, relative: string): string[] {
  const mirror = mirrorUrl(relative);
  const listed = sourceList().list[id] ?? [];
  return mirror ? [mirror, ...listed.filter((u) => u !== mirror)] : listed;
}
