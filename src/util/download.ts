import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage, UserError } from './errors.js';
import { httpGet } from './http-get.js';
import { createProgress, logLine } from './progress.js';
import { removeQuietly } from './atomic-write.js';

/** The ceiling for a file whose size nobody pinned: far above any MoViNet model or sample clip. */
export const MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;

const ATTEMPTS = 3;
const BACKOFF_MS = 500;

/** True when the network must not be touched: `--offline` (which sets it) or MOVINET_OFFLINE=1. */
export function isOffline(): boolean {
  const v = (process.env.MOVINET_OFFLINE ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/**
 * Where a file of the data layout (`models/<file>`, `datasets/<subset>/<file>`) is fetched from:
 * MOVINET_MIRROR replaces every official source, so an air-gapped site serves one folder laid out like ../shared.
 */
export function sourceUrl(official: string | null, relative: string): string | null {
  const base = process.env.MOVINET_MIRROR;
  if (!base) return official;
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
  bytes?: number | null;
  /** Refuse anything larger; defaults to the pinned size when there is one. */
  maxBytes?: number;
  /** Runs on the complete temporary file before it is put in place; a throw refuses the file. */
  check?: (tempFile: string) => void;
  /** Bytes received so far in this attempt, and the size the server announced if it did. */
  onProgress?: (received: number, announced: number | null) => void;
}

export interface Downloaded {
  path: string;
  url: string;
  bytes: number;
  sha256: string;
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

/** A process killed outright (SIGKILL, power loss) leaves its temporary file; the next download of that file sweeps it. */
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
    const res = await httpGet(req.url, controller.signal);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      res.resume();
      throw new Refused('http', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
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
    const hash = crypto.createHash('sha256');
    rearm();
    for await (const chunk of res as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) throw new Refused('too-large', `more than ${formatBytes(maxBytes)}, over the limit`);
      hash.update(chunk);
      await file.write(chunk);
      rearm();
      req.onProgress?.(received, announced);
    }
    await file.sync();
    await file.close();
    file = undefined;
    if (announced !== null && received !== announced)
      throw new Refused('network', `connection cut after ${received} of ${announced} bytes`);
    if (req.bytes && received !== req.bytes)
      throw new Refused('integrity', `got ${received} bytes, expected ${req.bytes}; nothing saved`);
    const sha256 = hash.digest('hex');
    if (req.sha256 && sha256 !== req.sha256)
      throw new Refused(
        'integrity',
        `sha256 ${sha256.slice(0, 12)}…, expected ${req.sha256.slice(0, 12)}… (corrupt or a different file); nothing saved`,
      );
    if (req.check) {
      try {
        req.check(tmp);
      } catch (e) {
        throw new Refused('invalid', errorMessage(e));
      }
    }
    fs.renameSync(tmp, req.target);
    return { path: req.target, url: req.url, bytes: received, sha256, attempts: 1 };
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
  const maxBytes = req.maxBytes ?? req.bytes ?? MAX_DOWNLOAD_BYTES;
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
      if (n >= settings.attempts || !retryable(r)) {
        const tries = n > 1 ? ` (${n} attempts)` : '';
        throw new DownloadError(r.failure, req.url, `${r.message}${tries}`, req.what);
      }
      await sleep(BACKOFF_MS * 2 ** (n - 1));
    }
  }
}
