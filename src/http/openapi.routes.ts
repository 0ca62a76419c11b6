// The machine-readable API: GET /api/openapi.json (OpenAPI 3.1, built from the route table) and
// its rendered reference, GET /api/docs (+ its stylesheet). Public: the document describes routes,
// never data. Built once, on the first request, when every route is registered.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { buildOpenApi, type OpenApiDocument } from './openapi.ts';
import { REFERENCE_CSP, REFERENCE_CSS, renderReference } from './api-reference.ts';
import pkg from '../../package.json' with { type: 'json' };

const openApiDoc = z.object({ openapi: z.literal('3.1.0'), info: z.object({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });

export function registerOpenApiRoutes(api: FastifyInstance, _deps: Deps): void {
  let doc: OpenApiDocument | undefined;
  let json: string | undefined;
  let html: string | undefined;
  const document = () => (doc ??= buildOpenApi(api.routeTable, pkg.version));
  const tag = 'API description';

  api.get('/openapi.json', { config: { public: true, doc: { summary: 'This document: OpenAPI 3.1, generated from the schemas that validate each request', tag, response: openApiDoc } } }, async (_req, reply) => {
    // ~150 KB: serialized once, not on every request.
    json ??= JSON.stringify(document());
    return reply.type('application/json; charset=utf-8').send(json);
  });
  api.get('/docs', { config: { public: true, doc: { summary: 'The reference rendered from this document (HTML, no script)', tag } } }, async (_req, reply) => {
    html ??= renderReference(document());
    return reply.header('content-security-policy', REFERENCE_CSP).header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(html);
  });
  api.get('/docs/style.css', { config: { public: true, doc: { summary: "The reference's stylesheet", tag } } }, async (_req, reply) =>
    reply.header('content-security-policy', REFERENCE_CSP).header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(REFERENCE_CSS),
  );
}
