// How Tollgate serves the dashboard (src/ui/): the app at every /ui path, hashed assets cached for
// a year and compressed, the security headers on every answer, and a clear page when the bundle
// was never built. The bundle is the one `npm test` built from this tree (scripts/build-ui.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { startGateway, type Gateway } from './support/gateway.ts';
import { registerUiRoutes, UI_CSP } from '../src/ui/ui.routes.ts';
import { loadUiAssets } from '../src/ui/ui-assets.ts';
import type { Deps } from '../src/deps.ts';

function assertSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/, `${what}: scripts from this origin only`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
}

describe('the dashboard as served', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  test('every path under /ui is the app, with the security headers and no caching of the page', async () => {
    for (const p of ['/ui', '/ui/', '/ui/keys', '/ui/teams/12', '/ui/a/deep/path?x=1']) {
      const res = await fetch(gw.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, p);
      assert.equal(res.headers.get('cache-control'), 'no-cache', p);
      assertSecurityHeaders(res, p);
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/ui\/assets\/main-[A-Z0-9]+\.js"><\/script>/, p);
      assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, `${p}: no inline script`);
    }
    const root = await fetch(gw.url + '/', { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
  });

  test('assets: hashed, cached for a year, compressed for clients that accept it, 304 on a matching ETag', async () => {
    const html = await (await fetch(gw.url + '/ui/')).text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const style = /href="(\/ui\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    const plain = await fetch(gw.url + script, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assertSecurityHeaders(plain, script);
    const body = Buffer.from(await plain.arrayBuffer());
    // undici decodes bodies itself: read the raw bytes over node:http to see the encoding
    const { request } = await import('node:http');
    const raw = (enc: string) => new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(gw.url + style, { headers: { 'accept-encoding': enc } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    const css = (await (await fetch(gw.url + style, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const br = await raw('br, gzip');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), Buffer.from(css));
    const gz = await raw('gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), Buffer.from(css));
    assert.ok(br.body.length < css.byteLength / 2, 'compressed to under half');

    const etag = plain.headers.get('etag')!;
    const again = await fetch(gw.url + script, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.ok(body.length > 0);
  });

  test('an unknown asset is a 404, not the app', async () => {
    const res = await fetch(gw.url + '/ui/assets/main-NOPE.js');
    assert.equal(res.status, 404);
    assertSecurityHeaders(res, 'asset 404');
  });
});

describe('the dashboard not built', () => {
  test('answers 503 with how to build it', async () => {
    const app = Fastify();
    registerUiRoutes(app, {} as Deps, { assets: new Map() });
    const res = await app.inject({ method: 'GET', url: '/ui/keys' });
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm install/);
    assert.equal(res.headers['content-security-policy'], UI_CSP);
    await app.close();
  });

  test('loadUiAssets: nothing without index.html; with it, every file typed, text compressed once', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-ui-'));
    try {
      assert.equal(loadUiAssets(dir), undefined);
      mkdirSync(path.join(dir, 'assets'));
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(path.join(dir, 'assets', 'main-AB12.js'), 'console.log(1);'.repeat(200));
      writeFileSync(path.join(dir, 'assets', 'logo-CD34.png'), Buffer.alloc(2048));
      const assets = loadUiAssets(dir)!;
      assert.deepEqual([...assets.keys()].sort(), ['assets/logo-CD34.png', 'assets/main-AB12.js', 'index.html']);
      const js = assets.get('assets/main-AB12.js')!;
      assert.equal(js.type, 'text/javascript; charset=utf-8');
      assert.ok(js.br && js.gzip, 'text over 1 KiB is compressed');
      assert.equal(assets.get('assets/logo-CD34.png')!.br, undefined, 'images are not');
      assert.equal(assets.get('index.html')!.br, undefined, 'tiny files are not');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
