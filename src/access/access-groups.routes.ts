// /api/access-groups: named sets of models (names and patterns such as "gpt-4o*") that the org,
// teams and keys grant by id (docs/access.md). Every change is audited and drops the org's
// compiled access on every replica ({kind: 'access'}), so keys see it on their next request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, name, optionalText, pagination, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import type { Action } from '../auth/permissions.ts';
import { applyChange } from '../audit/change.ts';
import { MAX_MODEL_ENTRIES, modelEntries } from './rule-input.ts';
import { accessGroupDeletedDoc, accessGroupDetailDoc, accessGroupDoc, accessGroupListDoc } from './access-doc.ts';
import { deleteGroup, getGroup, groupUsage, groupView, inUse, insertGroup, listGroups, removeGroupFromRules, updateGroup, type GroupUsage } from './access-groups.repository.ts';

const models = z.array(z.unknown()).max(MAX_MODEL_ENTRIES, `must have at most ${MAX_MODEL_ENTRIES} entries`);
const createBody = z.strictObject({ name, description: optionalText, models });
const updateBody = z.strictObject({ name: name.optional(), description: optionalText, models: models.optional() });
const deleteQuery = z.strictObject({ force: z.enum(['true', 'false']).optional() });

type GroupReq = FastifyRequest<{ Params: { id: string } }>;

/** Counts and the first few ids, for a 409 and for the group's view. */
function usageView(u: GroupUsage) {
  return { org: u.org, teams: u.teams.length, team_ids: u.teams.slice(0, 10).map((t) => t.id), keys: u.keys.length, key_ids: u.keys.slice(0, 10).map((k) => k.id) };
}

function usageText(u: GroupUsage): string {
  const few = (ids: number[]) => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '');
  const parts = [];
  if (u.org) parts.push('the organization rule');
  if (u.teams.length > 0) parts.push(`${u.teams.length} team${u.teams.length === 1 ? '' : 's'} (${few(u.teams.map((t) => t.id))})`);
  if (u.keys.length > 0) parts.push(`${u.keys.length} key${u.keys.length === 1 ? '' : 's'} (${few(u.keys.map((k) => k.id))})`);
  return parts.join(', ');
}

export function registerAccessGroupRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const groupOf = async (req: GroupReq, action: Action) => {
    const group = await getGroup(db, req.actor.orgId, idParam(req.params.id, 'access group'));
    authorize(req.actor, action);
    return group;
  };
  const changed = (actor: Actor) => [{ kind: 'access' as const, orgId: actor.orgId }];

  api.get('/access-groups', { config: { action: 'access_group.read', doc: { summary: 'List access groups (named sets of models)', tag: 'Access', query: pagination, response: accessGroupListDoc } } }, async (req) => {
    authorize(req.actor, 'access_group.read');
    const { limit, offset } = parse(pagination, req.query, 'query');
    return { data: (await listGroups(db, req.actor.orgId, limit, offset)).map(groupView), limit, offset };
  });

  api.post('/access-groups', { config: { action: 'access_group.write', doc: { summary: 'Create an access group', tag: 'Access', body: createBody.meta({ examples: [{ name: 'cheap-models', models: ['gpt-4o-mini'] }] }), response: accessGroupDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'access_group.write');
    const input = parse(createBody, req.body);
    const entries = modelEntries('models', input.models);
    const created = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertGroup(trx, req.actor.orgId, { name: input.name, description: input.description, models: entries }, at);
      return {
        result: groupView(row),
        audit: [{ orgId: row.org_id, action: 'access_group.create', targetType: 'access_group', targetId: row.id, after: groupView(row) }],
        invalidate: changed(req.actor),
      };
    });
    return reply.code(201).send(created);
  });

  api.get('/access-groups/:id', { config: { action: 'access_group.read', doc: { summary: 'Read an access group', tag: 'Access', response: accessGroupDetailDoc } } }, async (req: GroupReq) => {
    const group = await groupOf(req, 'access_group.read');
    return { ...groupView(group), used_by: usageView(await groupUsage(db, group.org_id, group.id)) };
  });

  api.patch('/access-groups/:id', { config: { action: 'access_group.write', doc: { summary: 'Update an access group', tag: 'Access', body: updateBody, response: accessGroupDoc } } }, async (req: GroupReq) => {
    const group = await groupOf(req, 'access_group.write');
    const input = parse(updateBody, req.body);
    const entries = input.models === undefined ? undefined : modelEntries('models', input.models);
    return applyChange(deps, req.actor, async (trx, at) => {
      const row = await updateGroup(trx, group, { ...input, models: entries }, at);
      return {
        result: groupView(row),
        audit: [{ orgId: row.org_id, action: 'access_group.update', targetType: 'access_group', targetId: row.id, before: groupView(group), after: groupView(row) }],
        invalidate: changed(req.actor),
      };
    });
  });

  // A group still named somewhere is not deleted by accident: 409 saying who names it. With
  // ?force=true it is removed from those rules in the same transaction (which only narrows them).
  api.delete('/access-groups/:id', { config: { action: 'access_group.write', doc: { summary: 'Delete an access group (force=true: also from the rules naming it)', tag: 'Access', query: deleteQuery, response: accessGroupDeletedDoc } } }, async (req: GroupReq) => {
    const group = await groupOf(req, 'access_group.write');
    const force = parse(deleteQuery, req.query, 'query').force === 'true';
    return applyChange(deps, req.actor, async (trx, at) => {
      const usage = await groupUsage(trx, group.org_id, group.id);
      if (inUse(usage) && !force) {
        throw new ApiError('conflict', `access group "${group.name}" (${group.id}) is still used by ${usageText(usage)}; remove it from those rules first, or delete with ?force=true to remove it from them`, null, { used_by: usageView(usage) });
      }
      if (inUse(usage)) await removeGroupFromRules(trx, group.org_id, group.id, usage, at);
      await deleteGroup(trx, group);
      const removedFrom = { org: usage.org, team_ids: usage.teams.map((t) => t.id), key_ids: usage.keys.map((k) => k.id) };
      return {
        result: { id: group.id, deleted: true, removed_from: removedFrom },
        audit: [{ orgId: group.org_id, action: 'access_group.delete', targetType: 'access_group', targetId: group.id, before: groupView(group), after: { removed_from: removedFrom } }],
        invalidate: changed(req.actor),
      };
    });
  });
}
