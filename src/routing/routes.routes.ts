// /api/routes: the organization's model routes — a public model name → deployments (credential,
// upstream model, weight, priority, own price) tried in fallback order, with the route's timeout
// and retries. The catch-all '*' is a route like any other. Every change drops the routes cache
// on every replica, so the next /v1 request uses it.
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import type { CredentialRow } from '../vault/credentials.repository.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { createRouteBody, routeDeletedDoc, routeDoc, routeListDoc, updateRouteBody, type DeploymentBody } from './routes.docs.ts';
import { deleteRoute, deploymentsOf, findRoute, findRouteByModel, insertRoute, listRoutes, replaceDeployments, updateRoute, type DeploymentInput, type RouteRow } from './routes.repository.ts';
import { routeView, type ViewContext } from './routes.view.ts';
import type { PriceLookup } from '../providers/router.ts';

/** Body parsing with list positions written as the deployment checks write them: `deployments[0].weight`. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  try {
    return parse(schema, body);
  } catch (err) {
    if (!(err instanceof ApiError) || err.param === null) throw err;
    const bracket = (s: string) => s.replace(/\.(\d+)(?=\.|:|$)/g, '[$1]');
    throw new ApiError(err.code, bracket(err.message.slice(0, err.param.length)) + err.message.slice(err.param.length), bracket(err.param));
  }
}

const micro = (usd: number | undefined) => (usd === undefined ? null : Math.round(usd * 1_000_000));

async function activeCredentials(db: Kysely<Database>, orgId: number): Promise<Map<number, CredentialRow>> {
  const rows = await db.selectFrom('provider_credentials').selectAll().where('org_id', '=', orgId).where('status', '=', 'active').execute();
  return new Map(rows.map((c) => [c.id, c]));
}

/**
 * Deployments as given, checked against the organization's credentials: each bad one is a 400
 * naming its field (another organization's credential reads as unknown, like a missing one).
 */
function checkDeployments(model: string, list: DeploymentBody[], credentials: Map<number, CredentialRow>): DeploymentInput[] {
  const seen = new Set<string>();
  return list.map((d, i) => {
    const at = `deployments[${i}]`;
    const bad = (field: string, message: string) => new ApiError('invalid_request', `${at}.${field}: ${message}`, `${at}.${field}`);
    if (!credentials.has(d.credential_id)) throw bad('credential_id', `no active provider credential ${d.credential_id} in this organization (GET /api/providers)`);
    const spec = PROVIDERS.get(credentials.get(d.credential_id)!.provider);
    if (spec && spec.native.length + spec.translated.length === 0) throw bad('credential_id', `credential ${d.credential_id} is a ${spec.id} credential: it manages keys and cannot serve models`);
    if (model === '*') {
      if (d.upstream_model !== undefined) throw bad('upstream_model', 'not on the catch-all: it sends the model name asked for');
      for (const f of ['input_per_1m_usd', 'output_per_1m_usd', 'cached_input_per_1m_usd'] as const) {
        if (d[f] !== undefined) throw bad(f, 'not on the catch-all: every model it serves is priced by the price book');
      }
    }
    const priced = d.input_per_1m_usd !== undefined || d.output_per_1m_usd !== undefined || d.cached_input_per_1m_usd !== undefined;
    if (priced && d.input_per_1m_usd === undefined) throw bad('input_per_1m_usd', 'required with a deployment price (give input and output)');
    if (priced && d.output_per_1m_usd === undefined) throw bad('output_per_1m_usd', 'required with a deployment price (give input and output)');
    const upstream = d.upstream_model ?? (model === '*' ? null : model);
    const key = `${d.credential_id}\u0000${upstream ?? ''}`;
    if (seen.has(key)) throw new ApiError('invalid_request', `${at}: the same credential and upstream model twice`, at);
    seen.add(key);
    return {
      credentialId: d.credential_id, upstreamModel: d.upstream_model ?? null, weight: d.weight, priority: d.priority,
      inputMicro: micro(d.input_per_1m_usd), outputMicro: micro(d.output_per_1m_usd), cachedInputMicro: micro(d.cached_input_per_1m_usd), maxOutputTokens: d.max_output_tokens ?? null,
    };
  });
}

export function registerRouteRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  // The price book is read before any transaction: the Router loads it on its own connection,
  // which SQLite's single writer connection would wait for inside one (a deadlock).
  const context = async (orgId: number, credentials?: Map<number, CredentialRow>, book?: PriceLookup): Promise<ViewContext> => ({
    credentials: credentials ?? (await activeCredentials(db, orgId)),
    book: book ?? (await deps.router.priceBook(orgId)),
    circuit: (id) => deps.router.circuit(id),
  });
  const view = async (d: Kysely<Database>, route: RouteRow, ctx: ViewContext) => routeView(route, await deploymentsOf(d, route.org_id, route.model), ctx);
  const invalidate = (orgId: number) => [{ kind: 'routes' as const, orgId }];

  api.get('/routes', { config: { action: 'provider.read', doc: { summary: 'List model routes (the catch-all included) with their deployments, prices and circuit state', tag: 'Routes', response: routeListDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const { routes, deployments } = await listRoutes(db, req.actor.orgId);
    const ctx = await context(req.actor.orgId);
    return { data: routes.map((r) => routeView(r, deployments, ctx)) };
  });

  api.get<{ Params: { id: string } }>('/routes/:id', { config: { action: 'provider.read', doc: { summary: 'One model route', tag: 'Routes', response: routeDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const route = await findRoute(db, req.actor.orgId, idParam(req.params.id, 'route'));
    if (!route) throw new ApiError('not_found', `route ${req.params.id} not found`);
    return view(db, route, await context(req.actor.orgId));
  });

  api.post('/routes', { config: { action: 'provider.write', doc: {
    summary: 'Create a model route: a public model name and the deployments that serve it, in fallback order',
    description: 'Deployments are tried highest priority first; within one priority in a weighted random order. A failed attempt (429, 5xx, timeout, connection error, before any byte reached the client) is retried `retries` times on the same deployment, then falls back to the next. `"*"` is the catch-all.',
    tag: 'Routes', status: 201, response: routeDoc,
    body: createRouteBody.meta({ examples: [{ model: 'gpt-4o', deployments: [{ credential_id: 1, priority: 1 }, { credential_id: 2, upstream_model: 'openai/gpt-4o' }], retries: 1 }] }),
  } } }, async (req, reply) => {
    authorize(req.actor, 'provider.write');
    const input = parseBody(createRouteBody, req.body);
    const orgId = req.actor.orgId;
    const book = await deps.router.priceBook(orgId);
    const result = await applyChange(deps, req.actor, async (trx, at) => {
      if (await findRouteByModel(trx, orgId, input.model)) throw new ApiError('conflict', `model: a route for ${input.model} exists already (PATCH /api/routes/{id} changes it)`, 'model');
      const credentials = await activeCredentials(trx, orgId);
      const deployments = checkDeployments(input.model, input.deployments, credentials);
      const row = await insertRoute(trx, orgId, input.model, { timeoutMs: input.timeout_ms ?? null, retries: input.retries ?? null }, at);
      await replaceDeployments(trx, orgId, input.model, deployments, at);
      const after = await view(trx, row, await context(orgId, credentials, book));
      return { result: after, audit: [{ orgId, action: 'route.create', targetType: 'route', targetId: row.id, after }], invalidate: invalidate(orgId) };
    });
    return reply.code(201).send(result);
  });

  api.patch<{ Params: { id: string } }>('/routes/:id', { config: { action: 'provider.write', doc: {
    summary: 'Change a model route: its timeout, retries, or its deployments (replaced as a whole)',
    tag: 'Routes', response: routeDoc,
    body: updateRouteBody.meta({ examples: [{ retries: 2, deployments: [{ credential_id: 1, weight: 3 }, { credential_id: 2, weight: 1 }] }] }),
  } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'route');
    const orgId = req.actor.orgId;
    if (!(await findRoute(db, orgId, id))) throw new ApiError('not_found', `route ${id} not found`);
    const input = parseBody(updateRouteBody, req.body);
    if (input.deployments === undefined && input.timeout_ms === undefined && input.retries === undefined) throw new ApiError('invalid_request', 'body: give at least one of deployments, timeout_ms, retries', 'body');
    const book = await deps.router.priceBook(orgId);
    return applyChange(deps, req.actor, async (trx, at) => {
      const before = await findRoute(trx, orgId, id);
      if (!before) throw new ApiError('not_found', `route ${id} not found`);
      const credentials = await activeCredentials(trx, orgId);
      const ctx = await context(orgId, credentials, book);
      const beforeView = await view(trx, before, ctx);
      if (input.deployments !== undefined) await replaceDeployments(trx, orgId, before.model, checkDeployments(before.model, input.deployments, credentials), at);
      const row = (await updateRoute(trx, orgId, id, { timeoutMs: input.timeout_ms, retries: input.retries }, at))!;
      const after = await view(trx, row, ctx);
      return { result: after, audit: [{ orgId, action: 'route.update', targetType: 'route', targetId: id, before: beforeView, after }], invalidate: invalidate(orgId) };
    });
  });

  api.delete<{ Params: { id: string } }>('/routes/:id', { config: { action: 'provider.write', doc: {
    summary: 'Delete a model route and its deployments',
    description: 'The model then reaches the catch-all route if there is one (the admin chose so by deleting the route), else answers model_not_found. To keep a model off the catch-all, PATCH its deployments to [] instead.',
    tag: 'Routes', response: routeDeletedDoc,
  } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'route');
    const orgId = req.actor.orgId;
    return applyChange(deps, req.actor, async (trx) => {
      const gone = await deleteRoute(trx, orgId, id);
      if (!gone) throw new ApiError('not_found', `route ${id} not found`);
      return { result: { id, model: gone.model, deleted: true }, audit: [{ orgId, action: 'route.delete', targetType: 'route', targetId: id, before: { model: gone.model } }], invalidate: invalidate(orgId) };
    });
  });
}
