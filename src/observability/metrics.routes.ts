// GET /metrics: the Prometheus scrape endpoint, beside /healthz and /readyz (not under /api: a
// scraper holds no management key). Open unless TOLLGATE_METRICS_TOKEN is set; then it takes
// `Authorization: Bearer <token>`, as Prometheus sends with `authorization: { credentials: … }`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';

export function registerMetricsRoutes(app: FastifyInstance, deps: Deps): void {
  const token = deps.config.metrics.token;
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', async (req, reply) => {
    if (expected) {
      reply.header('www-authenticate', 'Bearer');
      checkToken(req, expected);
      reply.removeHeader('www-authenticate');
    }
    const text = await deps.metrics.scrape();
    return reply.type(deps.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}

function checkToken(req: FastifyRequest, expected: Buffer): void {
  const header = req.headers.authorization;
  const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!presented) throw new ApiError('missing_credentials', 'GET /metrics needs `Authorization: Bearer <TOLLGATE_METRICS_TOKEN>`.', 'authorization');
  // Digests first: equal lengths for timingSafeEqual, and the comparison says nothing about the token's length.
  if (!timingSafeEqual(digest(presented), expected)) throw new ApiError('invalid_api_key', 'Invalid metrics token.', 'authorization');
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
