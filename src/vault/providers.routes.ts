// /api/providers: the organization's provider credentials ("master keys") and the models each
// serves. The secret goes in once (create, rotate) and never comes out: views carry only a hint.
// Every change drops the routes cache on every replica, so the next /v1 request uses it.
// Deleting a credential never reroutes: the deployments it served go, their routes stay
// (/api/routes), so its models answer model_not_found (or their remaining fallback).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { id as idField, idParam, name, parse } from '../http/validate.ts';
import { findTeam } from '../teams/teams.repository.ts';
import { CREDENTIAL_PROVIDERS, PROVIDERS } from '../providers/registry.ts';
import type { ProviderSpec } from '../providers/types.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { createUpstreamGuard } from '../net/ssrf.ts';
import { credentialView, deleteCredential, findCredential, insertCredential, listCredentials, rotateCredentialSecret, routesOf, updateCredential } from './credentials.repository.ts';
import { registerModelRoutes } from './models.routes.ts';

const baseUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const apiKey = z.string().min(1, 'must not be empty').max(4096);
const models = z.array(z.string().min(1).max(200)).min(1, 'must name at least one model (or "*")').max(1000);

const options = z.record(z.string().max(100), z.string().max(1000, 'must be at most 1000 characters')).describe('provider settings, e.g. { "api_version": "2024-10-21" } for Azure (GET /api/providers/kinds lists each provider\'s)');

const createBody = z.strictObject({
  name,
  provider: z.enum(CREDENTIAL_PROVIDERS as [string, ...string[]]).describe('a provider of GET /api/providers/kinds'),
  base_url: baseUrl.optional().describe('default: the provider\'s own (required for a provider without one, e.g. openai-compatible, azure, vllm)'),
  api_key: apiKey,
  options: options.optional(),
  team_id: idField.nullable().optional().describe('a team-scoped credential: only that team\'s keys are served by it'),
  models: models.optional().describe('each model gets a route if it has none, else this credential joins its route as one more deployment; "*" = the catch-all route (the default, for a provider that serves models; a provider that serves none, e.g. openrouter-provisioning, takes none)'),
});
const updateBody = z.strictObject({ name: name.optional(), base_url: baseUrl.optional(), options: options.optional().describe('replaces the settings as a whole'), models: models.optional() });
const rotateBody = z.strictObject({ api_key: apiKey });

export const credentialDoc = z.object({
  id: z.number(), name: z.string(), provider: z.string(), base_url: z.string(),
  team_id: z.number().nullable().describe('null: serves the whole organization; else only this team\'s keys'),
  options: z.record(z.string(), z.string()),
  api_key_hint: z.string().describe('the last four characters of the secret ("...abcd"); the secret itself is never returned'),
  status: z.string(), models: z.array(z.string()), created_at: z.string(), updated_at: z.string(),
});
const listDoc = z.object({ data: z.array(credentialDoc) });
const deletedDoc = z.object({ id: z.number(), deleted: z.boolean() });
const kindsDoc = z.object({
  data: z.array(z.object({
    id: z.string(), label: z.string(),
    default_base_url: z.string().nullable().describe('null: base_url is required'),
    options: z.array(z.object({ name: z.string(), required: z.boolean(), description: z.string() })),
    native: z.array(z.string()).describe('client APIs passed through as they are'),
    translated: z.array(z.string()).describe('client APIs translated to this provider\'s API'),
  })),
});

/** A provider whose adapter serves no /v1 API (a provisioning key) is never routed to. */
const servesModels = (spec: ProviderSpec | undefined): boolean => !spec || spec.native.length + spec.translated.length > 0;

function checkModels(spec: ProviderSpec | undefined, list: string[] | undefined): void {
  if (list !== undefined && list.length > 0 && !servesModels(spec)) {
    throw new ApiError('invalid_request', `models: a ${spec!.id} credential cannot call models (it manages keys); give no models`, 'models');
  }
}

/** Options checked against the provider's spec: unknown, missing or malformed ones name their field. */
function checkOptions(spec: ProviderSpec, given: Record<string, string> | undefined): Record<string, string> {
  const known = new Map((spec.options ?? []).map((o) => [o.name, o]));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given ?? {})) {
    const o = known.get(k);
    const allowed = [...known.keys()].join(', ') || 'none';
    if (!o) throw new ApiError('invalid_request', `options.${k}: not a setting of ${spec.id} (its settings: ${allowed})`, `options.${k}`);
    if (o.pattern && !o.pattern.test(v)) throw new ApiError('invalid_request', `options.${k}: ${o.description}`, `options.${k}`);
    out[k] = v;
  }
  for (const o of known.values()) {
    if (o.required && !(o.name in out)) throw new ApiError('invalid_request', `options.${o.name}: required for ${spec.id} (${o.description})`, `options.${o.name}`);
  }
  return out;
}

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

  api.get('/providers/kinds', { config: { action: 'provider.read', doc: { summary: 'The providers a credential may name: default base URL, settings, client APIs served', tag: 'Providers', response: kindsDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const data = CREDENTIAL_PROVIDERS.map((id) => {
      const s = PROVIDERS.get(id)!;
      return { id, label: s.label, default_base_url: s.defaultBaseUrl ?? null, options: (s.options ?? []).map((o) => ({ name: o.name, required: o.required, description: o.description })), native: [...s.native], translated: [...s.translated] };
    });
    return { data };
  });

  api.get('/providers', { config: { action: 'provider.read', doc: { summary: 'List provider credentials (a hint of each secret, never the secret)', tag: 'Providers', response: listDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const { credentials, routes } = await listCredentials(db, req.actor.orgId);
    return { data: credentials.map((c) => credentialView(c, routes)) };
  });

  api.post('/providers', { config: { action: 'provider.write', doc: { summary: 'Add a provider credential (stored encrypted)', tag: 'Providers', body: createBody.meta({ examples: [{ name: 'openai-main', provider: 'openai', base_url: 'https://api.openai.com/v1', api_key: 'sk-…', models: ['*'] }] }), response: credentialDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'provider.write');
    const input = parse(createBody, req.body);
    const spec = PROVIDERS.get(input.provider)!;
    const url = input.base_url ?? spec.defaultBaseUrl;
    if (url === undefined) throw new ApiError('invalid_request', `base_url: required for ${input.provider} (it has no default)`, 'base_url');
    const settings = checkOptions(spec, input.options);
    checkModels(spec, input.models);
    const served = input.models ?? (servesModels(spec) ? ['*'] : []);
    await checkBaseUrl(url);
    if (input.team_id != null && !(await findTeam(db, req.actor.orgId, input.team_id))) throw new ApiError('invalid_request', `team_id: no team ${input.team_id} in this organization`, 'team_id');
    const view = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertCredential(trx, deps.vault, { orgId: req.actor.orgId, name: input.name, provider: input.provider, baseUrl: url, apiKey: input.api_key, models: served, teamId: input.team_id ?? null, options: settings }, at);
      const v = credentialView(row, await routesOf(trx, row.id));
      return { result: v, audit: [{ orgId: req.actor.orgId, action: 'provider.create', targetType: 'provider', targetId: row.id, after: v }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
    return reply.code(201).send(view);
  });

  api.patch<{ Params: { id: string } }>('/providers/:id', { config: { action: 'provider.write', doc: { summary: 'Change a provider credential\'s name, base URL, settings or models (the secret: POST …/rotate)', description: '`models` replaces the list: this credential\'s deployments of models left out are removed (their routes stay), new ones added, kept ones keep their settings.', tag: 'Providers', body: updateBody.meta({ examples: [{ base_url: 'https://api.openai.com/v1', models: ['gpt-4o', 'gpt-4o-mini'] }] }), response: credentialDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    await mustExist(req.actor.orgId, id);
    const input = parse(updateBody, req.body);
    if (input.name === undefined && input.base_url === undefined && input.models === undefined && input.options === undefined) throw new ApiError('invalid_request', 'body: give at least one of name, base_url, options, models (the secret is changed with POST /api/providers/{id}/rotate)', 'body');
    if (input.base_url !== undefined) await checkBaseUrl(input.base_url);
    return applyChange(deps, req.actor, async (trx, at) => {
      const before = await findCredential(trx, req.actor.orgId, id);
      if (!before) throw new ApiError('not_found', `provider ${id} not found`);
      const beforeView = credentialView(before, await routesOf(trx, id));
      // A provider no longer in the registry keeps its settings unchecked (it is served as OpenAI-compatible).
      const spec = PROVIDERS.get(before.provider);
      checkModels(spec, input.models);
      const settings = input.options !== undefined && spec ? checkOptions(spec, input.options) : input.options;
      const row = (await updateCredential(trx, req.actor.orgId, id, { name: input.name, baseUrl: input.base_url, options: settings, models: input.models }, at))!;
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

  api.delete<{ Params: { id: string } }>('/providers/:id', { config: { action: 'provider.write', doc: { summary: 'Delete a provider credential and the deployments it served (their routes stay: no model is rerouted)', tag: 'Providers', response: deletedDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const id = idParam(req.params.id, 'provider');
    return applyChange(deps, req.actor, async (trx, at) => {
      // Keys provisioned with it could no longer be deleted at the provider (on revocation,
      // expiry or offboarding): they go first.
      const live = await trx.selectFrom('provisioned_keys').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', req.actor.orgId).where('credential_id', '=', id).where('status', '!=', 'deleted').executeTakeFirst();
      if (Number(live?.n ?? 0) > 0) throw new ApiError('conflict', `provider ${id} still manages ${live!.n} provisioned key(s) at the provider; revoke them first (GET /api/provisioned-keys), so Tollgate can delete them there`);
      if (!(await deleteCredential(trx, req.actor.orgId, id, at))) throw new ApiError('not_found', `provider ${id} not found`);
      return { result: { id, deleted: true }, audit: [{ orgId: req.actor.orgId, action: 'provider.delete', targetType: 'provider', targetId: id }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });

  registerModelRoutes(api, deps);
}
