import fs from 'node:fs';
import * as z from 'zod';
import { errorMessage, UserError } from '../util/errors.js';

const Sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits')
  .transform((s) => s.toLowerCase());

const ManifestClip = z.object({ file: z.string().min(1), label: z.string().min(1), sha256: Sha256.optional() }).loose();

/**
 * The project's subset manifests: every clip pinned by sha256, with its size and where it was published
 * (`owner/repo/path@commit`), which is where it is fetched from: the project references clips, never ships them.
 */
const ProjectClip = ManifestClip.extend({
  sha256: Sha256,
  bytes: z.number().int().positive().optional(),
  source: z.string().min(1).optional(),
});
const ProjectManifest = z.object({ name: z.string(), clips: z.array(ProjectClip) }).loose();
export type ProjectClipEntry = z.infer<typeof ProjectClip>;

/** A user's manifest, either a bare list or the project's shape (whose sha256 is optional here). */
const UserList = z.array(ManifestClip);
const UserObject = z.object({ name: z.string().min(1).optional(), clips: z.array(ManifestClip) }).loose();

export type ManifestEntry = z.infer<typeof ManifestClip>;

/** The file as JSON, or a one-line error naming it: a parser's stack or excerpt would bury the file's name. */
function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${what} cannot be read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(`${what} is not valid JSON: ${errorMessage(e).split('\n')[0]}`);
  }
}

/** The first issue, placed as the user would look for it: entry N (1-based, like CSV lines), then the field. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const keys = [...issue.path];
  if (keys[0] === 'clips' && typeof keys[1] === 'number') keys.shift();
  const parts: string[] = [];
  if (typeof keys[0] === 'number') parts.push(`entry ${(keys.shift() as number) + 1}`);
  if (keys.length) parts.push(`field ${keys.map(String).join('.')}`);
  return `${parts.length ? ` ${parts.join(' ')}` : ''}: ${issue.message}`;
}

/** A user's JSON manifest: its clips, and the name it gives itself if it is in the project's shape. */
export function readUserManifest(file: string, what: string): { name?: string; clips: ManifestEntry[] } {
  const json = readJson(file, what);
  const shape = 'expected an array of {file, label, sha256?} or {name, clips: [...]}';
  if (Array.isArray(json)) {
    const r = UserList.safeParse(json);
    if (!r.success) throw new UserError(`${what}${firstIssue(r.error)} (${shape})`);
    return { clips: r.data };
  }
  if (json === null || typeof json !== 'object' || !('clips' in json))
    throw new UserError(`${what} is not a clip list: ${shape}`);
  const r = UserObject.safeParse(json);
  if (!r.success) throw new UserError(`${what}${firstIssue(r.error)} (${shape})`);
  return r.data.name ? { name: r.data.name, clips: r.data.clips } : { clips: r.data.clips };
}

export function readProjectManifest(file: string, what: string): z.infer<typeof ProjectManifest> {
  const r = ProjectManifest.safeParse(readJson(file, what));
  if (!r.success) throw new UserError(`${what}${firstIssue(r.error)}`);
  return r.data;
}
