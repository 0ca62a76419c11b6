// The built dashboard (dist/ui, made by scripts/build-ui.ts), read into memory once: every file
// with its type, its ETag, and brotli and gzip copies made once for clients that accept them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

export interface Asset {
  type: string;
  etag: string;
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

export const UI_DIST = path.resolve(import.meta.dirname, '..', '..', 'dist', 'ui');

/** index.html and assets/*, by path relative to dist/ui; undefined when the dashboard is not built. */
export function loadUiAssets(dir = UI_DIST): Map<string, Asset> | undefined {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  const add = (rel: string) => {
    const body = readFileSync(path.join(dir, rel));
    const type = TYPES[path.extname(rel)] ?? 'application/octet-stream';
    const asset: Asset = { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    if (/^(text|application\/json|image\/svg)/.test(type) && body.length > 1024) {
      asset.br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 10 } });
      asset.gzip = gzipSync(body, { level: 9 });
    }
    assets.set(rel, asset);
  };
  add('index.html');
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) for (const f of readdirSync(assetDir)) add('assets/' + f);
  return assets;
}
