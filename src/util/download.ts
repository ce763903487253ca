import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage, UserError } from './errors.js';
import { ArchiveRefusal, singleFile, sniff } from './archive.js';
import { httpGet } from './http-get.js';
import { createProgress, logLine } from './progress.js';
import { removeQuietly, writeFileAtomic } from './atomic-write.js';
import { gitBlobId, sha256Bytes } from './sha256.js';

/** The ceiling for a file whose size nobody pinned: far above any MoViNet model or sample clip. */
export const MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;

const ATTEMPTS = 3;
const BACKOFF_MS = 500;

let offline = false;

/** Set once at the top (`--offline`, or MOVINET_OFFLINE=1 read there); child processes are told by `--offline`. */
export function setOffline(value: boolean): void {
  offline = value;
}

/** True when the network must not be touched. */
export function isOffline(): boolean {
  return offline;
}

/**
 * The URL of a file of the data layout (`models/<file>`, `datasets/<subset>/<file>`) on MOVINET_MIRROR, when set:
 * an air-gapped site serves one folder laid out like ../shared.
 */
export function mirrorUrl(relative: string): string | null {
  const base = process.env.MOVINET_MIRROR;
  if (!base) return null;
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new UserError(`MOVINET_MIRROR=${base} is not a URL (expected http(s)://host/base)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UserError(`MOVINET_MIRROR=${base} must be an http:// or https:// URL`);
  const rel = relative.split(/[/\\]/).filter(Boolean).map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}/${rel}`;
}

/** Where a clip is fetched from: the mirror replaces the official source. */
export function sourceUrl(official: string | null, relative: string): string | null {
  return mirrorUrl(relative) ?? official;
}

function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${name}=${raw} must be a positive whole number of ms`);
  return n;
}

export interface FetchSettings {
  /** An attempt is abandoned when no byte arrives for this long (connecting included). */
  idleMs: number;
  /** And whatever happens, after this long. */
  totalMs: number;
  attempts: number;
}

export function fetchSettings(): FetchSettings {
  return {
    idleMs: envMs('MOVINET_FETCH_TIMEOUT_MS', 30_000),
    totalMs: envMs('MOVINET_FETCH_TOTAL_TIMEOUT_MS', 600_000),
    attempts: ATTEMPTS,
  };
}

export type DownloadFailure =
  'offline' | 'network' | 'timeout' | 'http' | 'too-large' | 'integrity' | 'invalid' | 'disk';

/** A download that did not put a file in place; `detail` is the short cause callers fold into their own line. */
export class DownloadError extends UserError {
  constructor(
    readonly failure: DownloadFailure,
    readonly url: string,
    readonly detail: string,
    what: string,
    /** The same request may succeed later (a time-out, a 5xx, a reset connection). */
    readonly retryable = false,
  ) {
    super(`cannot download ${what} from ${url}: ${detail}`);
    this.name = 'DownloadError';
  }
}

export interface DownloadRequest {
  /** How messages name the file: 'model a0-int8', 'clip x.mp4'. */
  what: string;
  url: string;
  target: string;
  sha256?: string | null;
  /** The id `git hash-object` gives the file: how public copies in git repositories are pinned. */
  gitBlob?: string | null;
  bytes?: number | null;
  /**
   * When the answer is an archive (told by its bytes), the file used is its single member with this extension.
   * Pins (sha256, git blob, size) then apply to that file, not to the transfer.
   */
  unpack?: string;
  /** Refuse a larger transfer; defaults to the pinned size (plus an archive's room when unpacking). */
  maxBytes?: number;
  /** Runs on the file used before it is put in place; a throw refuses the file. */
  check?: (bytes: Uint8Array) => void;
  /** Attempts a retryable failure gets; 1 where the caller has other sources to try first. */
  attempts?: number;
  /** Bytes received so far in this attempt, and the size the server announced if it did. */
  onProgress?: (received: number, announced: number | null) => void;
}

export interface Downloaded {
  path: string;
  url: string;
  bytes: number;
  sha256: string;
  /** Where in the answer the file was ('1.tflite of a tar.gz archive'); null when the answer was the file. */
  unpacked: string | null;
  attempts: number;
}

let quiet = false;

/** With --json nothing but the result may reach the terminal: no bar, no status line. */
export function setDownloadsQuiet(value: boolean): void {
  quiet = value;
}

export function downloadLog(text: string): void {
  logLine(quiet, text);
}

/** A byte bar (in kB, so the counts stay readable) over one or many files, drawn only where bars are allowed. */
export function byteProgress(label: string, totalBytes: number): { update(bytes: number): void; stop(): void } {
  const bar = createProgress(quiet, 'kB');
  const total = Math.max(1, Math.round(totalBytes / 1024));
  bar.start(total, label);
  return {
    update: (bytes) => bar.update(bytes >= totalBytes ? total : Math.min(total, Math.round(bytes / 1024))),
    stop: () => bar.stop(),
  };
}

/** Temporary files of downloads running in this process, removed if a signal ends it. */
const active = new Set<string>();

function onSignal(signal: NodeJS.Signals): void {
  for (const f of active) removeQuietly(f);
  active.clear();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Someone else handling the signal decides what happens next; alone, the process must still die of it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(tmp: string): void {
  if (active.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  active.add(tmp);
}

function untrack(tmp: string): void {
  active.delete(tmp);
  if (active.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process killed outright (SIGKILL, power loss) leaves its temporary file; the next download of that file
 * sweeps it.
 */
function removeStaleParts(dir: string, base: string): void {
  const re = new RegExp(`^\\.${escapeRe(base)}\\.(\\d+)-[0-9a-f]+\\.part$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = re.exec(name)?.[1];
    if (pid && !alive(Number(pid))) removeQuietly(path.join(dir, name));
  }
}

class Refused extends Error {
  constructor(
    readonly failure: DownloadFailure,
    message: string,
    /** A name that does not resolve will not resolve a second later either. */
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** Sizes in messages: kB below a megabyte, so a label file does not read as nothing. */
export function formatBytes(n: number): string {
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: 'host not found (ENOTFOUND): no network or no DNS?',
  EAI_AGAIN: 'name lookup failed (EAI_AGAIN): no network or no DNS?',
  ECONNREFUSED: 'connection refused (ECONNREFUSED)',
  ECONNRESET: 'connection reset (ECONNRESET)',
  ENETUNREACH: 'network unreachable (ENETUNREACH)',
  EHOSTUNREACH: 'host unreachable (EHOSTUNREACH)',
};

function networkCode(e: unknown): string | undefined {
  return (e as { cause?: { code?: string } }).cause?.code ?? (e as NodeJS.ErrnoException).code;
}

function networkCause(e: unknown): string {
  const code = networkCode(e);
  const cause = (e as { cause?: { message?: string } }).cause;
  return (code && NETWORK_CODES[code]) ?? code ?? cause?.message ?? errorMessage(e);
}

/** Why a transfer that completed is not the file: empty, an HTML page, or an archive without the one file. */
function refusedBody(first: Uint8Array, received: number, contentType: string | undefined): Refused | null {
  if (received === 0) return new Refused('invalid', 'an empty body (0 bytes)');
  if (sniff(first, contentType) === 'html')
    return new Refused('invalid', `an HTML page (${contentType ?? 'no content type'}), not the file`);
  return null;
}

/** The file a transfer yields, checked against every pin the request carries; throws the first pin it fails. */
function fileUsed(
  req: DownloadRequest,
  tmp: string,
  maxBytes: number,
): { bytes: Uint8Array; from: string | null; sha256: string } {
  const transfer = new Uint8Array(fs.readFileSync(tmp));
  let got: { bytes: Uint8Array; from: string | null } = { bytes: transfer, from: null };
  if (req.unpack) {
    try {
      got = singleFile(transfer, req.unpack, maxBytes);
    } catch (e) {
      if (e instanceof ArchiveRefusal) throw new Refused('invalid', e.message);
      throw e;
    }
  }
  // Pins name the file inside an archive, so a wrong member reads as such.
  const of = got.from ? `${got.from}: ` : '';
  const pinFailure = (what: string, actual: string, expected: string) =>
    new Refused(
      'integrity',
      `${of}${what} ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}… (corrupt or a different file)`,
    );
  if (req.bytes && got.bytes.length !== req.bytes)
    throw new Refused('integrity', `${of}got ${got.bytes.length} bytes, expected ${req.bytes}`);
  const sha256 = sha256Bytes(got.bytes);
  if (req.sha256 && sha256 !== req.sha256) throw pinFailure('sha256', sha256, req.sha256);
  if (req.gitBlob) {
    const blob = gitBlobId(got.bytes);
    if (blob !== req.gitBlob) throw pinFailure('git blob', blob, req.gitBlob);
  }
  if (req.check) {
    try {
      req.check(got.bytes);
    } catch (e) {
      throw new Refused('invalid', `${of}${errorMessage(e)}`);
    }
  }
  return { ...got, sha256 };
}

async function attempt(req: DownloadRequest, settings: FetchSettings, maxBytes: number): Promise<Downloaded> {
  const dir = path.dirname(req.target);
  const tmp = path.join(
    dir,
    `.${path.basename(req.target)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.part`,
  );
  const controller = new AbortController();
  let timedOut = '';
  const stop = (why: string) => {
    timedOut = why;
    controller.abort(new Error(why));
  };
  let idle = setTimeout(() => stop(`no data for ${settings.idleMs} ms`), settings.idleMs);
  const total = setTimeout(() => stop(`not done after ${settings.totalMs} ms`), settings.totalMs);
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop(`no data for ${settings.idleMs} ms`), settings.idleMs);
  };
  let received = 0;
  let announced: number | null = null;
  let file: fs.promises.FileHandle | undefined;
  try {
    const { res, url: answered } = await httpGet(req.url, controller.signal);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      res.resume();
      const redirected = answered !== req.url ? ` after a redirect to ${answered}` : '';
      throw new Refused('http', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${redirected}`);
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    announced = Number.isFinite(length) && !res.headers['content-encoding'] ? length : null;
    if (announced !== null && announced > maxBytes)
      throw new Refused(
        'too-large',
        `the server announces ${formatBytes(announced)}, over the ${formatBytes(maxBytes)} limit`,
      );
    track(tmp);
    file = await fs.promises.open(tmp, 'wx');
    rearm();
    let first: Uint8Array = new Uint8Array(0);
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (received === 0) first = chunk;
      received += chunk.length;
      if (received > maxBytes) throw new Refused('too-large', `more than ${formatBytes(maxBytes)}, over the limit`);
      await file.write(chunk);
      rearm();
      req.onProgress?.(received, announced);
    }
    await file.sync();
    await file.close();
    file = undefined;
    if (announced !== null && received !== announced)
      throw new Refused('network', `connection cut after ${received} of ${announced} bytes`);
    const body = refusedBody(first, received, res.headers['content-type']);
    if (body) throw body;
    const used = fileUsed(req, tmp, maxBytes);
    if (used.from) writeFileAtomic(req.target, used.bytes);
    else fs.renameSync(tmp, req.target);
    return {
      path: req.target,
      url: req.url,
      bytes: used.bytes.length,
      sha256: used.sha256,
      unpacked: used.from,
      attempts: 1,
    };
  } catch (e) {
    if (e instanceof Refused) throw e;
    if (timedOut) throw new Refused('timeout', `timed out: ${timedOut}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^E(ACCES|PERM|NOSPC|ROFS|DQUOT|EXIST|NOTDIR|ISDIR)$/.test(code))
      throw new Refused('disk', `cannot write ${tmp}: ${code}`);
    if (received > 0)
      throw new Refused(
        'network',
        `connection cut after ${received}${announced !== null ? ` of ${announced}` : ''} bytes (${networkCause(e)})`,
      );
    throw new Refused('network', networkCause(e), networkCode(e) === 'ENOTFOUND');
  } finally {
    clearTimeout(idle);
    clearTimeout(total);
    controller.abort();
    if (file) await file.close().catch(() => undefined);
    removeQuietly(tmp);
    untrack(tmp);
  }
}

function retryable(e: Refused): boolean {
  if (e.failure === 'timeout') return true;
  if (e.failure === 'network') return !e.permanent;
  if (e.failure === 'http') return /^HTTP (5\d\d|429|408)\b/.test(e.message);
  return false;
}

/** Room an archive needs beyond the file it carries: headers, padding, a README beside the file. */
const ARCHIVE_ROOM = 1024 * 1024;

function transferCap(req: DownloadRequest): number {
  if (!req.bytes) return MAX_DOWNLOAD_BYTES;
  return req.unpack ? req.bytes + ARCHIVE_ROOM : req.bytes;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fetches `url` into `target`: streamed to a temporary file beside it, checked (size, sha256, `check`), then
 * renamed, so `target` is either absent or whole and verified. Time-outs and network errors and 5xx are
 * retried with back-off; a 4xx, a checksum mismatch or a file over the cap is not. Never touches the network
 * when offline. Every failure is a DownloadError with a one-line message.
 */
export async function download(req: DownloadRequest): Promise<Downloaded> {
  if (isOffline()) throw new DownloadError('offline', req.url, 'offline (--offline or MOVINET_OFFLINE=1)', req.what);
  const settings = fetchSettings();
  const maxBytes = req.maxBytes ?? transferCap(req);
  const attempts = req.attempts ?? settings.attempts;
  const dir = path.dirname(req.target);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DownloadError(
      'disk',
      req.url,
      `cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`,
      req.what,
    );
  }
  removeStaleParts(dir, path.basename(req.target));
  for (let n = 1; ; n++) {
    try {
      return { ...(await attempt(req, settings, maxBytes)), attempts: n };
    } catch (e) {
      const r = e instanceof Refused ? e : new Refused('network', errorMessage(e));
      if (n >= attempts || !retryable(r)) {
        const tries = n > 1 ? ` (${n} attempts)` : '';
        throw new DownloadError(r.failure, req.url, `${r.message}${tries}`, req.what, retryable(r));
      }
      await sleep(BACKOFF_MS * 2 ** (n - 1));
    }
  }
}
