import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';

/**
 * A GET on Node's own http/https client, with the proxy variables users set for every other tool honoured and
 * redirects followed. Node's fetch ignores HTTPS_PROXY, and undici (which reads it) crashes the process with an
 * uncatchable assertion when a server closes the connection while the body is paused under backpressure
 * (nodejs/undici#5360, unfixed in the releases that still run on Node 20) — the normal case for an HTTP/1.0
 * mirror such as `python3 -m http.server`.
 */

const MAX_REDIRECTS = 10;

interface NoProxyEntry {
  host: string;
  port: number | null;
}

function env(...names: string[]): string | undefined {
  for (const n of names) {
    const v = process.env[n];
    if (v) return v;
  }
  return undefined;
}

/** NO_PROXY as curl and undici read it: hosts (a leading `.` or `*.` optional) with an optional port, or `*`. */
function noProxyEntries(): NoProxyEntry[] | '*' {
  const raw = env('no_proxy', 'NO_PROXY') ?? '';
  if (raw.trim() === '*') return '*';
  return raw
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((entry) => {
      const m = /^(.+):(\d+)$/.exec(entry);
      const host = (m ? m[1]! : entry).replace(/^\*?\./, '').toLowerCase();
      return { host, port: m ? Number(m[2]) : null };
    });
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

/** The proxy a URL goes through: HTTPS_PROXY (else HTTP_PROXY) for https, HTTP_PROXY for http, none per NO_PROXY. */
export function proxyFor(url: URL): URL | null {
  const raw =
    url.protocol === 'https:'
      ? env('https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY')
      : env('http_proxy', 'HTTP_PROXY');
  if (!raw) return null;
  const skip = noProxyEntries();
  if (skip === '*') return null;
  const host = url.hostname.toLowerCase();
  const port = Number(url.port) || defaultPort(url.protocol);
  if (skip.some((e) => (e.port === null || e.port === port) && (host === e.host || host.endsWith(`.${e.host}`))))
    return null;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`the proxy setting '${raw}' is not a URL`);
  }
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(user).toString('base64')}` };
}

const HEADERS = { 'user-agent': 'movinet-bench', 'accept-encoding': 'identity' };

/**
 * An aborted request can report more than one error (the abort, then the socket's); `once` hears only the
 * first, and an unheard one would end the process. The first still rejects, and later ones reach the reader
 * through the response.
 */
function quiet<T extends http.ClientRequest>(req: T): T {
  req.on('error', () => undefined);
  return req;
}

async function response(req: http.ClientRequest): Promise<http.IncomingMessage> {
  quiet(req).end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  return res;
}

/** A tunnel through the proxy to host:port (HTTP CONNECT), for an https URL. */
async function tunnel(proxy: URL, url: URL, signal: AbortSignal): Promise<Socket> {
  const target = `${url.hostname}:${Number(url.port) || 443}`;
  const lib = proxy.protocol === 'https:' ? https : http;
  const req = lib.request({
    host: proxy.hostname,
    port: Number(proxy.port) || defaultPort(proxy.protocol),
    method: 'CONNECT',
    path: target,
    headers: { host: target, ...proxyAuth(proxy) },
    signal,
  });
  quiet(req).end();
  const [res, socket] = (await once(req, 'connect')) as [http.IncomingMessage, Socket];
  if (res.statusCode !== 200) {
    socket.destroy();
    throw new Error(`the proxy ${proxy.host} answered ${res.statusCode ?? '?'} to CONNECT ${target}`);
  }
  return socket;
}

async function getOnce(url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
  const proxy = proxyFor(url);
  if (!proxy) return response((url.protocol === 'https:' ? https : http).request(url, { headers: HEADERS, signal }));
  if (url.protocol === 'http:') {
    // Plain http goes to the proxy as an absolute-form request, which every forward proxy accepts.
    return response(
      (proxy.protocol === 'https:' ? https : http).request({
        host: proxy.hostname,
        port: Number(proxy.port) || defaultPort(proxy.protocol),
        path: url.href,
        headers: { ...HEADERS, host: url.host, ...proxyAuth(proxy) },
        signal,
      }),
    );
  }
  const socket = await tunnel(proxy, url, signal);
  return response(
    https.request(url, {
      headers: HEADERS,
      signal,
      agent: false,
      createConnection: () => tls.connect({ socket, servername: url.hostname }),
    }),
  );
}

export interface HttpAnswer {
  res: http.IncomingMessage;
  /** The URL that answered, after redirects; equal to the one asked for when there were none. */
  url: string;
}

/** GET with redirects followed (hubs answer with one to their storage); the caller reads or discards the body. */
export async function httpGet(href: string, signal: AbortSignal): Promise<HttpAnswer> {
  let url = new URL(href);
  for (let hops = 0; ; hops++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`cannot fetch a ${url.protocol} URL`);
    const res = await getOnce(url, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || !location) return { res, url: url.href };
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
  }
}
