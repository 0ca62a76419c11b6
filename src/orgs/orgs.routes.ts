// /api/orgs: organizations (tenants) and their admin keys. Creating an organization needs the
// master admin key; it returns the new org's first admin key once. Admin keys are management keys
// (`sk-tgm-…`, role admin: auth/management-keys.routes.ts lists, rotates and revokes them).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { idParam, name, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { ApiError } from '../http/errors.ts';
import { applyChange } from '../audit/change.ts';
import { slugify } from '../teams/teams.repository.ts';
import { actorRef } from '../http/actor.ts';
import { insertManagementKey, managementKeyView } from '../auth/management-keys.repository.ts';

const createBody = z.strictObject({ name, slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes').optional() });
const adminKeyBody = z.strictObject({ name });
const orgDoc = z.object({ id: z.number(), name: z.string(), slug: z.string(), created_at: z.string(), updated_at: z.string() });

export function registerOrgRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  api.get('/orgs', { config: { action: 'org.list', doc: { summary: 'List organizations (master key)', tag: 'Organizations', response: z.object({ data: z.array(orgDoc) }) } } }, async (req) => {
    authorize(req.actor, 'org.list');
    return { data: await db.selectFrom('organizations').selectAll().orderBy('id').execute() };
  });
  api.get('/orgs/current', { config: { action: 'org.read', doc: { summary: "The caller's organization", tag: 'Organizations', response: orgDoc } } }, async (req) => {
    authorize(req.actor, 'org.read');
    return db.selectFrom('organizations').selectAll().where('id', '=', req.actor.orgId).executeTakeFirstOrThrow();
  });
  api.post('/orgs', { config: { action: 'org.create', doc: { summary: 'Create an organization and its first admin management key (master key)', tag: 'Organizations', body: createBody.meta({ examples: [{ name: 'Acme', slug: 'acme' }] }), status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'org.create');
    const input = parse(createBody, req.body);
    const slug = input.slug ?? slugify(input.name);
    const created = await applyChange(deps, req.actor, async (trx, at) => {
      if (await trx.selectFrom('organizations').select('id').where('slug', '=', slug).executeTakeFirst()) throw new ApiError('conflict', `an organization with slug "${slug}" already exists`, 'slug');
      const org = await trx.insertInto('organizations').values({ name: input.name, slug, created_at: at, updated_at: at }).returningAll().executeTakeFirstOrThrow();
      await trx.insertInto('users').values({ org_id: org.id, external_id: 'admin', name: 'Administrator', email: null, role: 'admin', created_at: at, updated_at: at }).execute();
      const { row: key, secret } = await insertManagementKey(trx, { orgId: org.id, name: 'initial', role: 'admin', teamId: null, expiresAt: null, createdBy: actorRef(req.actor) }, at);
      return {
        result: { ...org, admin_key: secret },
        audit: [
          { orgId: org.id, action: 'org.create', targetType: 'org', targetId: org.id, after: org },
          { orgId: org.id, action: 'management_key.create', targetType: 'management_key', targetId: key.id, after: managementKeyView(key, Date.parse(at)) },
        ],
      };
    });
    return reply.code(201).send(created);
  });
  api.post<{ Params: { id: string } }>('/orgs/:id/admin-keys', { config: { action: 'org.admin_key.create', doc: { summary: 'Issue an admin management key for an organization', tag: 'Organizations', body: adminKeyBody, status: 201 } } }, async (req, reply) => {
    const orgId = idParam(req.params.id, 'organization');
    if (!req.actor.superadmin && req.actor.orgId !== orgId) throw new ApiError('not_found', `organization ${orgId} not found`);
    authorize(req.actor, 'org.admin_key.create');
    const input = parse(adminKeyBody, req.body);
    const created = await applyChange(deps, req.actor, async (trx, at) => {
      if (!(await trx.selectFrom('organizations').select('id').where('id', '=', orgId).executeTakeFirst())) throw new ApiError('not_found', `organization ${orgId} not found`);
      const { row: key, secret } = await insertManagementKey(trx, { orgId, name: input.name, role: 'admin', teamId: null, expiresAt: null, createdBy: actorRef(req.actor) }, at);
      const view = managementKeyView(key, Date.parse(at));
      return { result: { ...view, key: secret }, audit: [{ orgId, action: 'management_key.create', targetType: 'management_key', targetId: key.id, after: view }] };
    });
    return reply.code(201).send(created);
  });
}
