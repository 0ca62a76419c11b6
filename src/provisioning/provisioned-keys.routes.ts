// Provisioned upstream keys (seed 003; docs/providers.md, "Provisioned upstream keys (OpenRouter)"):
//   POST   /api/me/provisioned-keys        {team_id, credential_id, name, limit_usd, expires_at?}: a
//                                          key at OpenRouter paid out of my allocation; its secret in this answer only
//   GET    /api/me/provisioned-keys        mine (?team_id, ?include_deleted)
//   GET    /api/me/provisioned-keys/{id}   one of mine, with its usage read from the provider
//   PATCH  /api/me/provisioned-keys/{id}   {name?, disabled?, limit_usd?} (a raised limit is checked against the allocation)
//   DELETE /api/me/provisioned-keys/{id}   revoke: deleted at the provider
//   GET    /api/me/provisioning-credentials  the credentials I may provision with (no secret, no hint)
//   GET    /api/provisioned-keys           owners (their teams) and admins (all): ?team_id, ?user_id
//   DELETE /api/provisioned-keys/{id}      an owner or admin revokes one
// As on /api/me/keys, the table decides first (403); what it allows but is not the caller's own is
// not found on /api/me. The /api/me routes act as a person: with a key they answer 400.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { id, idParam, name, parse, queryId } from '../http/validate.ts';
import { canonicalInstant, isoDateTime } from '../http/timestamps.ts';
import { authorize } from '../auth/authorize.ts';
import { teamsFor, type Action } from '../auth/permissions.ts';
import { toMicro } from '../policy/policy-input.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { findProvisionedKey, listProvisionedKeys, managementCredential, provisionedKeyView, type ProvisionedKeyRow } from './provisioned-keys.repository.ts';
import { OpenRouterClient } from './openrouter-client.ts';
import { provisionKey, revokeProvisionedKey, updateProvisionedKey } from './provisioning.ts';

type IdReq = FastifyRequest<{ Params: { id: string } }>;

const usd = z.number().positive('must be more than 0').max(1e6, 'must be at most 1000000');

const createBody = z.strictObject({
  team_id: id,
  credential_id: id,
  name,
  limit_usd: usd,
  expires_at: isoDateTime.nullish(),
});

const updateBody = z.strictObject({
  name: name.optional(),
  disabled: z.boolean().optional(),
  limit_usd: usd.optional(),
});

const listQuery = z.strictObject({
  team_id: queryId.optional(),
  user_id: queryId.optional(),
  include_deleted: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: queryId.optional().describe('the last id of the previous page (newest first)'),
});
const myListQuery = listQuery.omit({ user_id: true });

/** provisionedKeyView (provisioned-keys.repository.ts) */
const keyDoc = z.object({
  id: z.number().int(),
  team_id: z.number().int(),
  user_id: z.number().int(),
  credential_id: z.number().int(),
  provider: z.string(),
  name: z.string(),
  key_hint: z.string().describe('the last four characters of the secret'),
  limit_usd: z.number().describe('hard credit limit at the provider, for the key\'s life; counted in the owner\'s allocation while the key is live'),
  expires_at: z.string().nullable(),
  status: z.enum(['creating', 'active', 'disabled', 'expired', 'deleting', 'deleted']).describe('deleting: revoked, its deletion at the provider not confirmed yet (retried every minute)'),
  created_at: z.string(),
  updated_at: z.string(),
  deleted_at: z.string().nullable(),
});
const createdDoc = keyDoc.extend({ key: z.string().describe('the secret: shown in this answer only, never stored by Tollgate (left out of an idempotent replay)').optional() });
const detailDoc = keyDoc.extend({ usage_usd: z.number().nullable().describe('spent so far, read from the provider; null when it could not be asked') });
const pageDoc = z.object({ data: z.array(keyDoc), next_after: z.number().int().nullable() });
const credentialsDoc = z.object({ data: z.array(z.object({ id: z.number().int(), name: z.string(), provider: z.string(), team_id: z.number().int().nullable().describe('null: any of my teams') })) });

/** Providers whose credentials provision keys. */
const PROVISIONING_PROVIDERS = ['openrouter-provisioning'];

/** The signed-in user these routes act as (asked after authorize(): the table decides first). */
function sessionUser(actor: Actor): number {
  if (actor.type !== 'user' || actor.userId === null) {
    throw new ApiError('invalid_request', 'Only a signed-in person has provisioned keys of their own: this request was made with a key; use /api/provisioned-keys.');
  }
  return actor.userId;
}

export function registerProvisionedKeyRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  /** A provisioned key the caller may act on: 404 unknown, 403 as the table decides, 404 on /api/me someone else's. */
  async function keyFor(req: IdReq, action: Action, own: boolean): Promise<ProvisionedKeyRow> {
    const keyId = idParam(req.params.id, 'provisioned key');
    const key = await findProvisionedKey(db, req.actor.orgId, keyId);
    if (!key) throw new ApiError('not_found', `provisioned key ${keyId} not found`);
    authorize(req.actor, action, { teamId: key.team_id, userId: key.user_id });
    if (own && key.user_id !== sessionUser(req.actor)) throw new ApiError('not_found', `provisioned key ${keyId} is not one of yours`);
    return key;
  }

  const page = (rows: ProvisionedKeyRow[], limit: number) => {
    const now = deps.clock.now();
    return { data: rows.map((r) => provisionedKeyView(r, now)), next_after: rows.length === limit ? rows.at(-1)!.id : null };
  };

  api.post('/me/provisioned-keys', { config: { action: 'provisioned_key.create_self', doc: { summary: 'Provision one of my own OpenRouter keys, with a hard credit limit paid out of my allocation', description: 'The secret (key) is in this answer only. The limit must fit in what is left of your allocation in the team (shared with your Tollgate keys\' budget caps).', tag: 'Self-service', body: createBody.meta({ examples: [{ team_id: 1, credential_id: 2, name: 'notebook', limit_usd: 20, expires_at: '2026-12-31T00:00:00Z' }] }), response: createdDoc, status: 201 } } }, async (req, reply) => {
    const actor = req.actor;
    authorize(actor, 'provisioned_key.create_self');
    const userId = sessionUser(actor);
    const input = parse(createBody, req.body);
    await getTeam(db, actor.orgId, input.team_id);
    authorize(actor, 'provisioned_key.create_self', { teamId: input.team_id });
    const expiresAt = input.expires_at ? canonicalInstant(input.expires_at, 'expires_at', deps.clock.now(), { future: true }) : null;
    const created = await provisionKey(deps, actor, { teamId: input.team_id, userId, credentialId: input.credential_id, name: input.name, limitMicro: toMicro(input.limit_usd), expiresAt });
    return reply.code(201).send(created);
  });

  // What a member provisions with: the organization's provisioning credentials (org-wide, or
  // scoped to one of their teams) — names and ids only, never a secret or its hint.
  api.get('/me/provisioning-credentials', { config: { action: 'me.read', doc: { summary: 'The provisioning credentials I may create keys with (id, name, provider, team)', tag: 'Self-service', response: credentialsDoc } } }, async (req) => {
    authorize(req.actor, 'me.read');
    sessionUser(req.actor);
    const teams = [...(req.actor.teams?.keys() ?? [])];
    const rows = await db.selectFrom('provider_credentials').select(['id', 'name', 'provider', 'team_id'])
      .where('org_id', '=', req.actor.orgId).where('status', '=', 'active').where('provider', 'in', PROVISIONING_PROVIDERS)
      .orderBy('id').execute();
    return { data: rows.filter((r) => r.team_id === null || teams.includes(r.team_id)) };
  });

  // Everyone may read their own (as GET /api/me): what is listed is the caller's keys only.
  api.get('/me/provisioned-keys', { config: { action: 'me.read', doc: { summary: 'My provisioned keys (newest first)', tag: 'Self-service', query: myListQuery, response: pageDoc } } }, async (req) => {
    authorize(req.actor, 'me.read');
    const userId = sessionUser(req.actor);
    const q = parse(myListQuery, req.query, 'query');
    const rows = await listProvisionedKeys(db, req.actor.orgId, { userId, teams: 'all', teamId: q.team_id, includeDeleted: q.include_deleted === 'true' }, { limit: q.limit, after: q.after });
    return page(rows, q.limit);
  });

  api.get('/me/provisioned-keys/:id', { config: { action: 'provisioned_key.read', doc: { summary: 'One of my provisioned keys, with what it has spent at the provider', tag: 'Self-service', response: detailDoc } } }, async (req: IdReq) => {
    const key = await keyFor(req, 'provisioned_key.read', true);
    const view = provisionedKeyView(key, deps.clock.now());
    if (view.status === 'deleted') return { ...view, usage_usd: null };
    // One bounded call (the client's timeout); the listing never asks the provider.
    const cred = await managementCredential(db, deps.vault, key.org_id, key.credential_id);
    const usage = cred ? await new OpenRouterClient(cred, deps.upstreamPool).get(key.upstream_id).then((k) => k.usage, () => null) : null;
    return { ...view, usage_usd: usage };
  });

  api.patch('/me/provisioned-keys/:id', { config: { action: 'provisioned_key.write', doc: { summary: 'Rename, disable or re-limit one of my provisioned keys (pushed to the provider)', tag: 'Self-service', body: updateBody.meta({ examples: [{ limit_usd: 30 }, { disabled: true }] }), response: keyDoc } } }, async (req: IdReq) => {
    const key = await keyFor(req, 'provisioned_key.write', true);
    const input = parse(updateBody, req.body);
    if (input.name === undefined && input.disabled === undefined && input.limit_usd === undefined) throw invalid('body', 'give at least one of name, disabled, limit_usd');
    return updateProvisionedKey(deps, req.actor, key, { name: input.name, disabled: input.disabled, limitMicro: input.limit_usd === undefined ? undefined : toMicro(input.limit_usd) });
  });

  api.delete('/me/provisioned-keys/:id', { config: { action: 'provisioned_key.write', doc: { summary: 'Revoke one of my provisioned keys (deleted at the provider)', tag: 'Self-service', response: keyDoc } } }, async (req: IdReq) => revokeProvisionedKey(deps, req.actor, await keyFor(req, 'provisioned_key.write', true)));

  api.get('/provisioned-keys', { config: { action: 'provisioned_key.read', doc: { summary: 'Provisioned keys of the teams I own (admins: all), newest first', tag: 'Providers', query: listQuery, response: pageDoc } } }, async (req) => {
    authorize(req.actor, 'provisioned_key.read');
    const q = parse(listQuery, req.query, 'query');
    const rows = await listProvisionedKeys(db, req.actor.orgId, { teams: teamsFor(req.actor, 'provisioned_key.read'), teamId: q.team_id, userId: q.user_id, includeDeleted: q.include_deleted === 'true' }, { limit: q.limit, after: q.after });
    return page(rows, q.limit);
  });

  api.delete('/provisioned-keys/:id', { config: { action: 'provisioned_key.write', doc: { summary: 'Revoke a provisioned key (deleted at the provider)', tag: 'Providers', response: keyDoc } } }, async (req: IdReq) => {
    const key = await keyFor(req, 'provisioned_key.write', false);
    return revokeProvisionedKey(deps, req.actor, key);
  });
}
