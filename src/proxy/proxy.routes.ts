// /v1: the OpenAI-compatible surface. Routes hand the raw request to the pipeline, which writes
// the response itself (streams go straight to the socket).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import type { Endpoint } from '../providers/openai-compatible/adapter.ts';
import { errorBody } from '../http/errors.ts';
import { proxyRequest } from './pipeline.ts';
import { describeKey, listModels } from './models.routes.ts';

export function registerProxyRoutes(app: FastifyInstance, deps: Deps): void {
  const handler = (endpoint: Endpoint) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return reply.code(400).send(errorBody('invalid_request', 'The request body must be a JSON object.'));
    }
    reply.hijack();
    await deps.inFlight.track(proxyRequest(deps, { endpoint, body: body as Record<string, unknown>, bodyBytes: req.bodyBytes, raw: req.rawBody!, headers: req.headers, ip: req.ip, res: reply.raw })).catch((err: unknown) => {
      req.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, 'proxy failure');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify(errorBody('internal_error', 'Internal error.')));
      } else reply.raw.end();
    });
  };
  app.post('/v1/chat/completions', handler('chat/completions'));
  app.post('/v1/completions', handler('completions'));
  app.post('/v1/embeddings', handler('embeddings'));
  app.get('/v1/models', async (req, reply) => listModels(deps, req, reply));
  app.get('/v1/key', async (req, reply) => describeKey(deps, req, reply));
}
