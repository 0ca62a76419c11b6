// /v1 reads handled by Fastify. The completion endpoints are served by the fast lane.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { describeKey, listModels } from './models.routes.ts';

export function registerProxyRoutes(app: FastifyInstance, deps: Deps): void {
  // POST /v1/chat/completions, /v1/completions, /v1/embeddings: see fast-lane.ts.
  app.get('/v1/models', async (req, reply) => listModels(deps, req, reply));
  app.get('/v1/key', async (req, reply) => describeKey(deps, req, reply));
}
