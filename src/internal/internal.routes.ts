// /internal/*: seed 001's admin API (issue 15) for operators whose scripts were written for that
// proxy. A thin layer: each route translates ids (internal-ids.ts) and shapes (internal-doc.ts)
// and calls the same domain function as its /api twin, which validates, writes the audit event and
// invalidates caches; authorization is the same action, asked of the same authorize(). Registered
// under the /api pipeline's hooks (http/admin-pipeline.ts). docs/api.md, "/internal (seed 001)".
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { decide, teamsFor } from '../auth/permissions.ts';
import { createTeam } from '../teams/teams.routes.ts';
import { listTeams } from '../teams/teams.repository.ts';
import { createUser } from '../users/users.routes.ts';
import { findUser, listUsers, teamIdsOf, userTeams } from '../users/users.repository.ts';
import { createKeyFromBody, revoke } from '../keys/keys.routes.ts';
import { listKeysFor } from '../keys/key-listing.routes.ts';
import { findKey } from '../keys/keys.repository.ts';
import { loadPolicies } from '../policy/policies.repository.ts';
import { policyView } from '../policy/policy-input.ts';
import { internalId, internalIdOrNull, pathId } from './internal-ids.ts';
import { createdKeyDoc, keyBody, keyDeletedDoc, keyPageDoc, listQuery, TAG, teamBody, teamDoc, teamPageDoc, userBody, userDoc, userPageDoc } from './internal-doc.ts';

const teamsQuery = listQuery('team');
const usersQuery = listQuery('user');
const keysQuery = listQuery('key');

const nextAfter = <T extends { id: number }>(rows: readonly T[], limit: number): number | null => (rows.length === limit ? rows.at(-1)!.id : null);

export function registerInternalRoutes(scope: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  scope.post('/teams', { config: { action: 'team.create', doc: { summary: 'Create a team (seed 001)', description: 'POST /api/teams with seed 001\'s fields; member_share: each member\'s share of the team\'s limits (docs/limits.md).', tag: TAG, body: teamBody, response: teamDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'team.create');
    const team = await createTeam(deps, req.actor, parse(teamBody, req.body));
    const limits = 'limits' in team ? team.limits : undefined;
    return reply.code(201).send({ id: internalId('team', team.id), name: team.name, tpm_limit: limits?.tpm ?? null, daily_token_limit: limits?.tpd ?? null, member_share: limits?.member_share ?? null, created_at: team.created_at });
  });

  scope.get('/teams', { config: { action: 'team.list', doc: { summary: 'List teams (seed 001)', description: 'Admins and viewers: every team; anyone else: their teams.', tag: TAG, query: teamsQuery, response: teamPageDoc } } }, async (req) => {
    authorize(req.actor, 'team.list');
    const q = parse(teamsQuery, req.query, 'query');
    const rows = await listTeams(db, req.actor.orgId, q.limit, 0, teamsFor(req.actor, 'team.read'), undefined, q.after);
    const policies = await loadPolicies(db, rows.map((t) => `team:${t.id}`));
    const data = rows.map((t) => {
      const limits = policyView(policies.get(`team:${t.id}`)!);
      return { id: internalId('team', t.id), name: t.name, tpm_limit: limits.tpm, daily_token_limit: limits.tpd, member_share: limits.member_share, created_at: t.created_at };
    });
    return { data, next_after: internalIdOrNull('team', nextAfter(rows, q.limit)) };
  });

  scope.post('/users', { config: { action: 'user.create', doc: { summary: 'Create a user (seed 001)', description: 'POST /api/users: external_id, and optionally the team the user joins (as a member).', tag: TAG, body: userBody, response: userDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'user.create');
    const input = parse(userBody, req.body);
    const user = await createUser(deps, req.actor, input);
    const teamIds = user.team_id === null ? [] : [internalId('team', user.team_id)];
    return reply.code(201).send({ id: internalId('user', user.id), external_id: user.external_id, team_id: teamIds[0] ?? null, team_ids: teamIds, created_at: user.created_at });
  });

  scope.get('/users', { config: { action: 'user.list', doc: { summary: 'List users (seed 001)', description: 'team_id: the user\'s first team (by id) or null; team_ids: all of them the caller may see.', tag: TAG, query: usersQuery, response: userPageDoc } } }, async (req) => {
    authorize(req.actor, 'user.list');
    const q = parse(usersQuery, req.query, 'query');
    const rows = await listUsers(db, req.actor.orgId, {}, { limit: q.limit, after: q.after });
    const teams = await teamIdsOf(db, rows.map((u) => u.id));
    // As GET /api/users/:id: a user's teams are shown only where the caller may read the team.
    const data = rows.map((u) => {
      const teamIds = (teams.get(u.id) ?? []).filter((teamId) => decide(req.actor, 'team.read', { teamId })).map((id) => internalId('team', id));
      return { id: internalId('user', u.id), external_id: u.external_id, team_id: teamIds[0] ?? null, team_ids: teamIds, created_at: u.created_at };
    });
    return { data, next_after: internalIdOrNull('user', nextAfter(rows, q.limit)) };
  });

  scope.post('/api-keys', { config: { action: 'key.create', doc: { summary: 'Create an API key for a user (seed 001)', description: 'The secret (key) is in this answer only. The key goes in the user\'s team when they have exactly one; in none, a key of no team; in several, team_id is required.', tag: TAG, body: keyBody, response: createdKeyDoc, status: 201 } } }, async (req, reply) => {
    // Whether the caller may create keys at all comes first, before any lookup the body asks for.
    authorize(req.actor, 'key.create');
    const input = parse(keyBody, req.body);
    const teamId = input.team_id !== undefined ? input.team_id : await defaultTeam(deps, req.actor, input.user_id);
    const key = await createKeyFromBody(deps, req.actor, { name: input.name, user_id: input.user_id, team_id: teamId });
    return reply.code(201).send({ id: internalId('key', key.id), name: key.name, key: key.key, key_prefix: key.key_prefix, user_id: internalId('user', key.user_id!), created_at: key.created_at });
  });

  scope.get('/api-keys', { config: { action: 'key.list', doc: { summary: 'List API keys (seed 001): metadata only, never the key', description: 'Revoked (deleted) keys are left out.', tag: TAG, query: keysQuery, response: keyPageDoc } } }, async (req) => {
    authorize(req.actor, 'key.list');
    const q = parse(keysQuery, req.query, 'query');
    const page = await listKeysFor(deps, req.actor, { limit: q.limit, ...(q.after !== undefined ? { after: q.after } : {}) });
    const data = page.data.map((k) => ({ id: internalId('key', k.id), name: k.name, key_prefix: k.key_prefix, user_id: internalIdOrNull('user', k.user_id), team_id: internalIdOrNull('team', k.team_id), status: k.status, created_at: k.created_at, expires_at: k.expires_at, last_used_at: k.last_used_at }));
    return { data, next_after: internalIdOrNull('key', page.next_after) };
  });

  scope.delete('/api-keys/:id', { config: { action: 'key.revoke', doc: { summary: 'Delete (revoke) an API key (seed 001)', description: 'DELETE /api/keys/{id}: refused on /v1 at once, on every replica.', tag: TAG, response: keyDeletedDoc } } }, async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const id = pathId('key', req.params.id);
    const key = await findKey(db, req.actor.orgId, id);
    if (!key) throw new ApiError('not_found', `id: API key ${internalId('key', id)} not found`, 'id');
    authorize(req.actor, 'key.revoke', { teamId: key.team_id, userId: key.user_id });
    // Deleted is gone on this surface: a second DELETE is a 404, as the key is no longer listed.
    if (key.status === 'revoked') throw new ApiError('not_found', `id: API key ${internalId('key', id)} not found`, 'id');
    await revoke(deps, req.actor, key);
    return { id: internalId('key', id), deleted: true as const };
  });
}

/**
 * The team of a key created without team_id: the user's one team; none → a key of no team;
 * several → 400 naming team_id (which one cannot be guessed), listing those the caller may read.
 * The user is looked up in the caller's organization only.
 */
async function defaultTeam(deps: Deps, actor: Actor, userId: number): Promise<number | null> {
  const user = await findUser(deps.db.kysely, actor.orgId, userId);
  if (!user) throw invalid('user_id', `user ${internalId('user', userId)} does not exist`);
  const teams = await userTeams(deps.db.kysely, user.id);
  if (teams.length <= 1) return teams[0]?.team_id ?? null;
  const visible = teams.filter((t) => decide(actor, 'team.read', { teamId: t.team_id })).map((t) => internalId('team', t.team_id));
  throw invalid('team_id', `required: user ${internalId('user', userId)} is in ${teams.length} teams${visible.length > 0 ? ` (${visible.join(', ')})` : ''}; name the key's team`);
}
