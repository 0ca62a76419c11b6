// The dashboard at /ui: a single-page app (ui/, built into dist/ui) served by Tollgate itself.
// Every path under /ui that is not a file is the app's index.html (its router draws the page);
// files under /ui/assets have content-hashed names and are cached for a year. The app talks only
// to /api, with the signed-in session; nothing here reads or decides anything about a person.
// Every /ui answer carries the security headers below: scripts and styles from this origin only
// (no inline script, no eval), never framed, never sniffed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { loadUiAssets, type Asset } from './ui-assets.ts';

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const UI_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Tollgate</title><p>The dashboard is not built. Run <code>npm install</code> (or <code>node scripts/build-ui.ts</code>) and start Tollgate again.</p>`;

export function registerUiRoutes(app: FastifyInstance, _deps: Deps, opts: { assets?: Map<string, Asset> } = {}): void {
  // Read on the first /ui request (most apps a test builds never serve one), then kept: the
  // bundle does not change under a running server.
  let loaded: Map<string, Asset> | undefined = opts.assets;
  const asset = (rel: string): Asset | undefined => (loaded ??= loadUiAssets() ?? new Map()).get(rel);

  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset, cache: string) => {
    reply.headers(UI_HEADERS).header('cache-control', cache).header('etag', asset.etag).header('vary', 'accept-encoding').type(asset.type);
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (asset.br && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(asset.br);
    if (asset.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const index = asset('index.html');
    if (!index) return reply.code(503).headers(UI_HEADERS).type('text/html; charset=utf-8').send(NOT_BUILT);
    // The page itself is never cached: a new build is picked up on the next load.
    return send(req, reply, index, 'no-cache');
  };

  app.get('/', async (_req, reply) => reply.redirect('/ui/', 302));
  app.get('/ui', page);
  app.get('/ui/', page);
  app.get<{ Params: { '*': string } }>('/ui/*', async (req, reply) => {
    const rest = req.params['*'];
    if (rest.startsWith('assets/')) {
      const file = asset(rest);
      if (!file) return reply.code(404).headers(UI_HEADERS).type('text/plain; charset=utf-8').send('Not found');
      return send(req, reply, file, 'public, max-age=31536000, immutable');
    }
    return page(req, reply);
  });
}
