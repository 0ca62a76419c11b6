// /api/providers: the organization's provider credentials ("master keys") and the models each
// serves. The secret goes in once (create, rotate) and never comes out: views carry only a hint.
// Every change drops the routes cache on every replica, so the next /v1 request uses it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, name, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { createUpstreamGuard } from '../net/ssrf.ts';
import { credentialView, deleteCredential, findCredential, insertCredential, listCredentials, rotateCredentialSecret, routesOf, updateCredential } from './credentials.repository.ts';
import { registerModelRoutes } from './models.routes.ts';

const baseUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const apiKey = z.string().min(1, 'must not be empty').max(4096);
const models = z.array(z.string().min(1).max(200)).min(1, 'must name at least one model (or "*")').max(1000);

const createBody = z.strictObject({
  name,
  provider: z.enum(['openai', 'openai-compatible', 'anthropic', 'openrouter']),
  base_url: baseUrl,
  api_key: apiKey,
  models: models.default(['*']),
});
const updateBody = z.strictObject({ name: name.optional(), base_url: baseUrl.optional(), models: models.optional() });
const rotateBody = z.strictObject({ api_key: apiKey });

export const credentialDoc = z.object({
  id: z.number(), name: z.string(), provider: z.string(), base_url: z.string(),
  api_key_hint: z.string().describe('the last four characters of the secret ("...abcd"); the secret itself is never returned'),
  status: z.string(), models: z.array(z.string()), created_at: z.string(), updated_at: z.string(),
});
const listDoc = z.object({ data: z.array(credentialDoc) });
const deletedDoc = z.object({ id: z.number(), deleted: z.boolean() });

export function registerProviderRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const guard = createUpstreamGuard(deps.config.upstreamAllow);
  // Internal addresses are refused here, clearly, and again at connect time (DNS rebinding).
  const checkBaseUrl = async (url: string) => {
    const refused = await guard.checkBaseUrl(url);
    if (refused) throw new ApiError('invalid_request', `base_url: ${refused}; Tollgate does not call internal addresses unless the operator allows them (TOLLGATE_UPSTREAM_ALLOW)`, 'base_url');
  };

  // Another organization's credential (or none) is a 404 before its body is even read: what a
  // caller may not touch answers the same whatever they send.
  const mustExist = async (orgId: number, id: number) => {
    if (!(await findCredential(db, orgId, id))) throw new ApiError('not_found', `provider ${id} not found`);
  };

  api.get('/providers', { config: { action: 'provider.read', doc: { summary: 'List provider credentials (a hint of each secret, never the secret)', tag: 'Providers', response: listDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const { credentials, routes } = await listCredentials(db, req.actor.orgId);
    return { data: credentials.map((c) => credentialView(c, routes)) };
  });

  api.post('/providers', { config: { action: 'provider.write', doc: { summary: 'Add a provider credential (stored encrypted)', tag: 'Providers', body: createBody.meta({ examples: [{ name: 'openai-main', provider: 'openai', base_url: 'https://api.openai.com/v1', api_key: 'sk-…', models: ['*'] }] }), response: credentialDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'provider.write');
    const input = parse(createBody, req.body);
    await checkBaseUrl(input.base_url);
    const view = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertCredential(trx, deps.vault, { orgId: req.actor.orgId, name: input.name, provider: input.provider, baseUrl: input.base_url, apiKey: input.api_key, models: input.models }, at);
      const v = credentialView(row, await routesOf(trx, row.id));
      return { result: v, audit: [{ orgId: req.actor.orgId, action: 'provider.create', targetType: 'provider', targetId: row.id, after: v }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
    return reply.code(201).send(view);
  });

  api.patch<{ Params: { id: string } }>('/providers/:id', { config: { action: 'provider.write', doc: { summary: 'Change a provider credential\'s name, base URL or models (the secret: POST …/rotate)', description: '`models` replaces the list: routes of models left out are removed, new ones added, kept ones keep their settings.', tag: 'Providers', body: updateBody.meta({ examples: [{ base_url: 'https://api.openai.com/v1', models: ['gpt-4o', 'gpt-4o-mini'] }] }), response: credentialDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    await mustExist(req.actor.orgId, id);
    const input = parse(updateBody, req.body);
    if (input.name === undefined && input.base_url === undefined && input.models === undefined) throw new ApiError('invalid_request', 'body: give at least one of name, base_url, models (the secret is changed with POST /api/providers/{id}/rotate)', 'body');
    if (input.base_url !== undefined) await checkBaseUrl(input.base_url);
    return applyChange(deps, req.actor, async (trx, at) => {
      const before = await findCredential(trx, req.actor.orgId, id);
      if (!before) throw new ApiError('not_found', `provider ${id} not found`);
      const beforeView = credentialView(before, await routesOf(trx, id));
      const row = (await updateCredential(trx, req.actor.orgId, id, { name: input.name, baseUrl: input.base_url, models: input.models }, at))!;
      const after = credentialView(row, await routesOf(trx, id));
      return { result: after, audit: [{ orgId: req.actor.orgId, action: 'provider.update', targetType: 'provider', targetId: id, before: beforeView, after }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });

  api.post<{ Params: { id: string } }>('/providers/:id/rotate', { config: { action: 'provider.write', doc: { summary: 'Replace a provider credential\'s secret (re-encrypted; the old one is discarded)', description: 'The next request routed to this credential goes out with the new secret, on every replica.', tag: 'Providers', body: rotateBody.meta({ examples: [{ api_key: 'sk-…' }] }), response: credentialDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    await mustExist(req.actor.orgId, id);
    const input = parse(rotateBody, req.body);
    return applyChange(deps, req.actor, async (trx, at) => {
      const before = await findCredential(trx, req.actor.orgId, id);
      if (!before) throw new ApiError('not_found', `provider ${id} not found`);
      const row = (await rotateCredentialSecret(trx, deps.vault, req.actor.orgId, id, input.api_key, at))!;
      const view = credentialView(row, await routesOf(trx, id));
      // Only the hints are recorded: the audit trail never holds a secret, old or new.
      return { result: view, audit: [{ orgId: req.actor.orgId, action: 'provider.rotate', targetType: 'provider', targetId: id, before: { api_key_hint: before.secret_hint }, after: { api_key_hint: row.secret_hint } }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });

  api.delete<{ Params: { id: string } }>('/providers/:id', { config: { action: 'provider.write', doc: { summary: 'Delete a provider credential (and its model routes)', tag: 'Providers', response: deletedDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    return applyChange(deps, req.actor, async (trx, at) => {
      if (!(await deleteCredential(trx, req.actor.orgId, id, at))) throw new ApiError('not_found', `provider ${id} not found`);
      return { result: { id, deleted: true }, audit: [{ orgId: req.actor.orgId, action: 'provider.delete', targetType: 'provider', targetId: id }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });

  registerModelRoutes(api, deps);
}
