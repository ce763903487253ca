/**
 * Local stand-ins for the hosts in models/sources.json, answering as the real ones have been reported to
 * (tensorflow/tensorflow#72802, iree-org/iree#17794, blakeblackshear/frigate#12200, tensorflow/examples#504):
 *   www.kaggle.com             the models API redirects (302) to storage, which serves a tar.gz holding
 *                              `<version>.tflite`
 *   tfhub.dev                  a `lite-format` file URL answers an HTML page with status 200, an empty body,
 *                              or a redirect to Kaggle that ends in HTTP 500
 *   raw.githubusercontent.com  raw files at pinned commits; here only A0's is real, so other paths serve A0's
 *                              bytes, which fail their pins as a wrong file would
 *   storage.googleapis.com     Kaggle's storage, and the Model Garden float32 files (absent here: 404)
 * A URL `https://HOST/PATH` of the real list becomes `http://127.0.0.1:PORT/HOST/PATH`, so the order and shape
 * of the shipped list are what a test exercises. Behaviours per host can be changed while the server runs.
 *
 * As a program (for the CI's first-run check): node dist/scripts/source-hosts.js --data ../shared --sources OUT
 * writes the rewritten list to OUT, prints the port, and serves until killed.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { c as tarCreate } from 'tar';

export interface HostBehaviour {
  /** The two archive faults are what an archive with another layout would look like. */
  kaggle: 'tar.gz' | 'tar.gz-without-model' | 'tar.gz-two-models' | 'server-error' | 'html';
  tfhub: 'html' | 'empty' | 'server-error';
  raw: 'file' | 'not-found';
  /** The Model Garden's float32 files: absent here, or A0's int8 bytes standing in for an unpinned file. */
  modelGarden: 'not-found' | 'a0-bytes';
}

export const REAL_BEHAVIOUR: HostBehaviour = { kaggle: 'tar.gz', tfhub: 'html', raw: 'file', modelGarden: 'not-found' };

const A0_FILE = 'models/movinet_a0_stream_k600_int8.tflite';
const LABELS_FILE = 'models/kinetics600_labels.txt';

export interface SourceHosts {
  port: number;
  behaviour: HostBehaviour;
  /** Paths asked for, as `HOST/PATH`, in order. */
  requests: string[];
  /** The shipped source list with every host pointed here, written to `file`. */
  writeSources(file: string, edit?: (list: Record<string, string[]>) => void): string;
  close(): Promise<void>;
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>Kaggle</title></head><body>Sign in to continue</body></html>';

/** A tar.gz holding these members, as Kaggle's API serves a model version. */
function tarGz(members: Record<string, Buffer>): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'source-hosts-'));
  try {
    for (const [name, bytes] of Object.entries(members)) fs.writeFileSync(path.join(dir, name), bytes);
    const out = path.join(dir, 'out.tar.gz');
    tarCreate({ gzip: true, cwd: dir, file: out, sync: true, portable: true }, Object.keys(members));
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSourceHosts(dataDir: string, behaviour: HostBehaviour = { ...REAL_BEHAVIOUR }) {
  const a0 = fs.readFileSync(path.join(dataDir, A0_FILE));
  const labels = fs.readFileSync(path.join(dataDir, LABELS_FILE));
  const requests: string[] = [];
  const archives = new Map<string, Buffer>();
  const sockets = new Set<net.Socket>();
  let port = 0;
  const here = (hostPath: string) => `http://127.0.0.1:${port}/${hostPath}`;

  const answer = (res: http.ServerResponse, status: number, body: Buffer | string = '', type = 'text/plain') =>
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
  const redirect = (res: http.ServerResponse, to: string) => res.writeHead(302, { location: to }).end();

  const kaggle = (res: http.ServerResponse, rest: string) => {
    // api/v1/models/<owner>/<model>/<framework>/<variation>/<version>/download
    const m = /^api\/v1\/models\/[^/]+\/[^/]+\/[^/]+\/([^/]+)\/(\d+)\/download$/.exec(rest);
    if (!m) return answer(res, 404, 'not found');
    if (behaviour.kaggle === 'html') return answer(res, 200, HTML_PAGE, 'text/html; charset=utf-8');
    redirect(res, here(`storage.googleapis.com/kaggle-models-data/${m[1]}/${m[2]}.tar.gz?X-Goog-Signature=x`));
  };
  const storage = (res: http.ServerResponse, rest: string) => {
    const m = /^kaggle-models-data\/([^/]+)\/(\d+)\.tar\.gz$/.exec(rest);
    if (rest.startsWith('tf_model_garden/') && behaviour.modelGarden === 'a0-bytes')
      return answer(res, 200, a0, 'application/octet-stream');
    if (!m) return answer(res, 404, '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', 'application/xml');
    if (behaviour.kaggle === 'server-error') return answer(res, 500, 'Internal Server Error');
    // Only A0's int8 file is real here; any other variation carries A0's bytes and fails its own pins.
    const model = `${m[2]}.tflite`;
    const members: Record<HostBehaviour['kaggle'], Record<string, Buffer>> = {
      'tar.gz': { [model]: a0 },
      'tar.gz-without-model': { 'saved_model.pb': a0.subarray(0, 4096) },
      'tar.gz-two-models': { [model]: a0, [`${m[2]}_metadata.tflite`]: a0.subarray(0, 64 * 1024) },
      'server-error': {},
      html: {},
    };
    // Built once per kind and version: real storage answers at once, and a build on every request could
    // outlast a short idle time-out on a loaded machine.
    const key = `${behaviour.kaggle}/${m[2]}`;
    const body = archives.get(key) ?? tarGz(members[behaviour.kaggle]);
    archives.set(key, body);
    answer(res, 200, body, 'application/x-gzip');
  };
  const tfhub = (res: http.ServerResponse, rest: string) => {
    if (behaviour.tfhub === 'empty') return answer(res, 200, '', 'application/octet-stream');
    if (behaviour.tfhub === 'html') return answer(res, 200, HTML_PAGE, 'text/html; charset=utf-8');
    redirect(res, here(`www.kaggle.com/models/google/movinet/${encodeURIComponent(rest)}?tfhub-redirect=true`));
  };
  const raw = (res: http.ServerResponse, rest: string) => {
    if (behaviour.raw === 'not-found') return answer(res, 404, '404: Not Found');
    if (/label/i.test(rest)) return answer(res, 200, labels);
    answer(res, 200, a0, 'application/octet-stream');
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, host = '', ...parts] = url.pathname.split('/');
    const rest = parts.join('/');
    requests.push(`${host}/${rest}`);
    if (host === 'www.kaggle.com') {
      if (rest.startsWith('models/'))
        return answer(res, 500, '<html><body>Internal Server Error</body></html>', 'text/html');
      return kaggle(res, rest);
    }
    if (host === 'storage.googleapis.com') return storage(res, rest);
    if (host === 'tfhub.dev') return tfhub(res, rest);
    if (host === 'raw.githubusercontent.com') return raw(res, rest);
    answer(res, 404, 'no such host here');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;

  const shipped = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'sources.json');
  const hosts: SourceHosts = {
    port,
    behaviour,
    requests,
    writeSources(file, edit) {
      const list = JSON.parse(fs.readFileSync(shipped, 'utf8')) as Record<string, unknown>;
      const local: Record<string, string[]> = {};
      for (const [id, urls] of Object.entries(list)) {
        if (Array.isArray(urls)) local[id] = (urls as string[]).map((u) => u.replace(/^https?:\/\//, here('')));
      }
      edit?.(local);
      fs.writeFileSync(file, JSON.stringify(local, null, 2));
      return file;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return hosts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, sources: { type: 'string' } } });
  if (!values.data || !values.sources) throw new Error('usage: source-hosts.js --data DIR --sources OUT.json');
  const hosts = await startSourceHosts(path.resolve(values.data));
  hosts.writeSources(values.sources);
  process.stdout.write(`${hosts.port}\n`);
  const stop = () => void hosts.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
