// /api/providers: the organization's provider credentials ("master keys") and the models each
// serves. The secret goes in once and never comes out: views carry only a hint.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, name, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { createUpstreamGuard } from '../net/ssrf.ts';
import { credentialView, deleteCredential, insertCredential, listCredentials } from './credentials.repository.ts';

const createBody = z.strictObject({
  name,
  provider: z.enum(['openai', 'openai-compatible', 'anthropic', 'openrouter']),
  base_url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
  api_key: z.string().min(1, 'must not be empty').max(4096),
  models: z.array(z.string().min(1).max(200)).min(1).max(1000).default(['*']),
});

export function registerProviderRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const guard = createUpstreamGuard(deps.config.upstreamAllow);
  api.get('/providers', { config: { action: 'provider.read', doc: { summary: 'List provider credentials (a hint of each secret, never the secret)', tag: 'Providers' } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const { credentials, routes } = await listCredentials(db, req.actor.orgId);
    return { data: credentials.map((c) => credentialView(c, routes)) };
  });
  api.post('/providers', { config: { action: 'provider.write', doc: { summary: 'Add a provider credential (stored encrypted)', tag: 'Providers', body: createBody.meta({ examples: [{ name: 'openai-main', provider: 'openai', base_url: 'https://api.openai.com/v1', api_key: 'sk-…', models: ['*'] }] }), status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'provider.write');
    const input = parse(createBody, req.body);
    // Internal addresses are refused here, clearly, and again at connect time (DNS rebinding).
    const refused = await guard.checkBaseUrl(input.base_url);
    if (refused) throw new ApiError('invalid_request', `base_url: ${refused}; Tollgate does not call internal addresses unless the operator allows them (TOLLGATE_UPSTREAM_ALLOW)`, 'base_url');
    const view = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertCredential(trx, deps.vault, { orgId: req.actor.orgId, name: input.name, provider: input.provider, baseUrl: input.base_url, apiKey: input.api_key, models: input.models }, at);
      const routes = await trx.selectFrom('model_routes').selectAll().where('credential_id', '=', row.id).execute();
      const v = credentialView(row, routes);
      return { result: v, audit: [{ orgId: req.actor.orgId, action: 'provider.create', targetType: 'provider', targetId: row.id, after: v }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
    return reply.code(201).send(view);
  });
  api.delete<{ Params: { id: string } }>('/providers/:id', { config: { action: 'provider.write', doc: { summary: 'Delete a provider credential', tag: 'Providers' } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    return applyChange(deps, req.actor, async (trx, at) => {
      if (!(await deleteCredential(trx, req.actor.orgId, id, at))) throw new ApiError('not_found', `provider ${id} not found`);
      return { result: { id, deleted: true }, audit: [{ orgId: req.actor.orgId, action: 'provider.delete', targetType: 'provider', targetId: id }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });
}
