// /api/management-keys: keys for automation on /api (docs/people.md#management-keys). Admins
// manage every key of the organization (legacy `sk-tga-` admin keys included); a team's owners
// manage the keys scoped to that team; viewers read. The master key is not one of them (it lives
// in settings: `tollgate admin rotate-master`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { actorRef } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { id, idParam, name, optionalText, parse, queryId } from '../http/validate.ts';
import { canonicalInstant, isoDateTime } from '../http/timestamps.ts';
import { authorize } from './authorize.ts';
import { teamsFor } from './permissions.ts';
import { applyChange } from '../audit/change.ts';
import { findTeam } from '../teams/teams.repository.ts';
import {
  getManagementKey, insertManagementKey, listManagementKeys, managementKeyView, revokeManagementKey, rotateManagementKey, updateManagementKey,
  type ManagementKeyRow, type ManagementRole,
} from './management-keys.repository.ts';

const ORG_ROLES = ['admin', 'member', 'viewer'];
const TEAM_ROLES = ['owner', 'member'];

const createBody = z.strictObject({
  name,
  description: optionalText,
  role: z.enum(['admin', 'member', 'viewer', 'owner']),
  team_id: id.nullish(),
  expires_at: isoDateTime.nullish(),
});
const updateBody = z.strictObject({ name: name.optional(), description: optionalText, expires_at: isoDateTime.nullish() });
const listQuery = z.strictObject({
  team_id: queryId.optional(),
  role: z.enum(['admin', 'member', 'viewer', 'owner']).optional(),
  created_by: z.string().min(1).max(100).optional(),
  include_revoked: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  after: queryId.optional(),
});

type KeyReq = FastifyRequest<{ Params: { id: string } }>;

/** managementKeyView (management-keys.repository.ts) */
const managementKeyDoc = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  key_prefix: z.string().describe('enough of the secret to recognize it, never enough to use it'),
  role: z.string(),
  scope: z.enum(['org', 'team']),
  team_id: z.number().int().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
  legacy: z.boolean(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
/** create and rotate: the view and the secret, in this answer only */
const withSecretDoc = managementKeyDoc.extend({ key: z.string().describe('the secret: in this answer only').optional() });
const listDoc = z.object({ data: z.array(managementKeyDoc), limit: z.number().int(), next_after: z.number().int().nullable() });

export function registerManagementKeyRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const view = (k: ManagementKeyRow) => managementKeyView(k, deps.clock.now());

  /** The key the URL names, in the caller's organization (404), with `action` decided on its team (403). */
  async function keyOf(req: KeyReq, action: 'management_key.list' | 'management_key.update' | 'management_key.revoke'): Promise<ManagementKeyRow> {
    const key = await getManagementKey(db, req.actor.orgId, idParam(req.params.id, 'management key'));
    authorize(req.actor, action, { teamId: key.team_id });
    return key;
  }

  api.get('/management-keys', { config: { action: 'management_key.list', doc: { summary: 'List management keys', tag: 'Management keys', query: listQuery, response: listDoc } } }, async (req) => {
    authorize(req.actor, 'management_key.list');
    const query = parse(listQuery, req.query, 'query');
    // Admins and viewers see every key; a team owner the keys scoped to the teams they own.
    const visibleTeams = teamsFor(req.actor, 'management_key.list');
    const rows = await listManagementKeys(db, req.actor.orgId, { visibleTeams, teamId: query.team_id, role: query.role, createdBy: query.created_by, includeRevoked: query.include_revoked === 'true' }, { limit: query.limit, after: query.after });
    const last = rows.at(-1);
    return { data: rows.map(view), limit: query.limit, next_after: rows.length === query.limit && last ? last.id : null };
  });

  api.get('/management-keys/:id', { config: { action: 'management_key.list', doc: { summary: 'Read a management key', tag: 'Management keys', response: managementKeyDoc } } }, async (req: KeyReq) => view(await keyOf(req, 'management_key.list')));

  api.post('/management-keys', { config: { action: 'management_key.create', doc: { summary: 'Create a management key (org- or team-scoped, with a role)', description: 'The secret (key) is in this answer only.', tag: 'Management keys', body: createBody.meta({ examples: [{ name: 'terraform', role: 'admin' }] }), response: withSecretDoc, status: 201 } } }, async (req, reply) => {
    // Decided twice, as POST /api/keys: whether the caller may create any (before the body is
    // read), then for the scope the body names — an org-scoped key (team null) only for admins.
    authorize(req.actor, 'management_key.create');
    const input = parse(createBody, req.body);
    const teamId = input.team_id ?? null;
    authorize(req.actor, 'management_key.create', { teamId });
    if (teamId !== null && !(await findTeam(db, req.actor.orgId, teamId))) throw invalid('team_id', `team ${teamId} does not exist`);
    if (!(teamId === null ? ORG_ROLES : TEAM_ROLES).includes(input.role)) {
      throw invalid('role', teamId === null ? 'an organization key has the role admin, member or viewer' : 'a team key has the role owner or member');
    }
    const expiresAt = input.expires_at ? canonicalInstant(input.expires_at, 'expires_at', deps.clock.now(), { future: true }) : null;
    const created = await applyChange(deps, req.actor, async (trx, at) => {
      const { row, secret } = await insertManagementKey(trx, { orgId: req.actor.orgId, name: input.name, description: input.description, role: input.role as ManagementRole, teamId, expiresAt, createdBy: actorRef(req.actor) }, at);
      return { result: { ...view(row), key: secret }, audit: [{ orgId: row.org_id, teamId, action: 'management_key.create', targetType: 'management_key', targetId: row.id, after: view(row) }] };
    });
    return reply.code(201).send(created);
  });

  api.patch('/management-keys/:id', { config: { action: 'management_key.update', doc: { summary: 'Update a management key', tag: 'Management keys', body: updateBody, response: managementKeyDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(req, 'management_key.update');
    const input = parse(updateBody, req.body);
    if (key.revoked_at !== null) throw new ApiError('conflict', `management key ${key.id} is revoked and cannot be changed`);
    // A past expiry is accepted: it ends the key at once.
    const expiresAt = input.expires_at ? canonicalInstant(input.expires_at, 'expires_at', deps.clock.now()) : input.expires_at;
    return applyChange(deps, req.actor, async (trx) => {
      const row = await updateManagementKey(trx, key, { name: input.name, description: input.description, expiresAt });
      return { result: view(row), audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'management_key.update', targetType: 'management_key', targetId: key.id, before: view(key), after: view(row) }] };
    });
  });

  api.post('/management-keys/:id/rotate', { config: { action: 'management_key.update', doc: { summary: "Rotate a management key's secret (the old one stops at once)", tag: 'Management keys', body: z.strictObject({}), response: withSecretDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(req, 'management_key.update');
    parse(z.strictObject({}), req.body);
    return applyChange(deps, req.actor, async (trx) => {
      const { row, secret } = await rotateManagementKey(trx, key);
      return { result: { ...view(row), key: secret }, audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'management_key.rotate', targetType: 'management_key', targetId: key.id, before: view(key), after: view(row) }] };
    });
  });

  // A key allowed to revoke may revoke itself (its next request is 401).
  api.delete('/management-keys/:id', { config: { action: 'management_key.revoke', doc: { summary: 'Revoke a management key', tag: 'Management keys', response: managementKeyDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(req, 'management_key.revoke');
    return applyChange(deps, req.actor, async (trx, at) => {
      const { row, revoked } = await revokeManagementKey(trx, key, at);
      return { result: view(row), audit: revoked ? [{ orgId: key.org_id, teamId: key.team_id, action: 'management_key.revoke', targetType: 'management_key', targetId: key.id, before: view(key), after: view(row) }] : [] };
    });
  });
}
