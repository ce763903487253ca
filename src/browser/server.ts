import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { packageDir } from '../backends/package-info.js';

/**
 * The page's only origin: loopback, cross-origin isolated (COOP + COEP) so that
 * performance.now() keeps its fine resolution and SharedArrayBuffer exists, and
 * every asset carries CORP so require-corp admits it.
 */

/** Packages whose browser builds the page may load, straight from node_modules. */
const SERVED_PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-tflite', '@litertjs/core', 'onnxruntime-web'];

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export interface PageServer {
  readonly url: string;
  /** Package files the page fetched, in order (e.g. `@litertjs/core/wasm/litert_wasm_internal.wasm`). */
  readonly served: string[];
  setModel(bytes: Uint8Array): void;
  setFrames(frames: readonly Float32Array[]): void;
  /** A served file name the page asks for, mapped to another (e.g. a pthread build to its single-thread twin). */
  setRewrite(rewrite: ((file: string) => string) | null): void;
  close(): Promise<void>;
}

export async function startPageServer(pageScript: string): Promise<PageServer> {
  const roots = new Map(SERVED_PACKAGES.map((p) => [p, packageDir(p)]));
  const served: string[] = [];
  let model: Uint8Array = new Uint8Array();
  let frames: Buffer = Buffer.alloc(0);
  let rewrite: ((file: string) => string) | null = null;

  const send = (res: http.ServerResponse, status: number, type: string, body: Uint8Array | string) => {
    res.writeHead(status, { ...ISOLATION, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const packageFile = (urlPath: string): { file: string; label: string } | null => {
    const rest = decodeURIComponent(urlPath.slice('/pkg/'.length));
    const pkg = SERVED_PACKAGES.find((p) => rest.startsWith(`${p}/`));
    if (!pkg) return null;
    const root = roots.get(pkg)!;
    let rel = rest.slice(pkg.length + 1);
    if (rewrite) rel = path.posix.join(path.posix.dirname(rel), rewrite(path.posix.basename(rel)));
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
    return { file, label: `${pkg}/${rel}` };
  };

  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only');
    if (urlPath === '/') {
      return send(res, 200, TYPES['.html']!, '<!doctype html><meta charset="utf-8"><script src="/page.js"></script>');
    }
    if (urlPath === '/page.js') return send(res, 200, TYPES['.js']!, pageScript);
    if (urlPath === '/model') return send(res, 200, 'application/octet-stream', model);
    if (urlPath === '/frames') return send(res, 200, 'application/octet-stream', frames);
    if (urlPath.startsWith('/pkg/')) {
      const found = packageFile(urlPath);
      if (!found) return send(res, 404, 'text/plain', 'not found');
      served.push(found.label);
      return send(res, 200, TYPES[path.extname(found.file)] ?? 'application/octet-stream', fs.readFileSync(found.file));
    }
    return send(res, 404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    served,
    setModel: (bytes) => void (model = bytes),
    setFrames(list) {
      frames = Buffer.concat(list.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)));
    },
    setRewrite: (r) => void (rewrite = r),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
