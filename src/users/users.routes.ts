// /api/users: create (optionally into a team, seed 001), list with filters and cursor paging, get
// (with teams), update (a role change is its own audit event), deactivate / reactivate
// (offboarding.ts). docs/people.md#users.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { id, idParam, MAX_INT32, parse, queryId } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { decide } from '../auth/permissions.ts';
import { applyChange } from '../audit/change.ts';
import { teamMembersChanged } from '../policy/member-share.ts';
import type { AuditInput } from '../audit/audit.repository.ts';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';
import { findTeam } from '../teams/teams.repository.ts';
import { ApiError, invalid } from '../http/errors.ts';
import type { Actor } from '../http/actor.ts';
import { addMembership, getUser, identityConflict, insertUser, listUsers, updateUser, userTeams, userView, type UserRow } from './users.repository.ts';
import { deactivateUser, reactivateUser } from './offboarding.ts';
import { userCreatedDoc, userDeactivatedDoc, userDetailDoc, userDoc, userPageDoc } from './users-doc.ts';

const role = z.enum(['admin', 'member', 'viewer']);
const externalId = z.string().trim().min(1, 'must not be empty').max(320);
const email = z.email('must be an email address').max(320);
const userName = z.string().max(200);

export const createBody = z.strictObject({
  external_id: externalId,
  name: userName.nullish(),
  email: email.nullish(),
  role: role.optional(),
  team_id: id.optional(),
  team_role: z.enum(['owner', 'member']).optional(),
  // Optional: people can also get a password through an invitation, or sign in with SSO only.
  password: z.string().optional(),
});

export type CreateUserInput = z.infer<typeof createBody>;

const updateBody = z.strictObject({ external_id: externalId.optional(), name: userName.nullish(), email: email.nullish(), role: role.optional() });

const listQuery = z.strictObject({
  external_id: z.string().min(1).max(320).optional(),
  email: z.string().min(1).max(320).optional(),
  q: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  team_id: queryId.optional(),
  role: role.optional(),
  status: z.enum(['active', 'deactivated']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  after: queryId.optional(),
  offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0),
});

const noBody = z.strictObject({});

type UserReq = FastifyRequest<{ Params: { id: string } }>;

/** A unique index that caught a race the route's own check missed still answers 409 naming the field. */
async function withIdentityConflicts<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw identityConflict(err) ?? err;
  }
}

/**
 * Creates a user (POST /api/users, POST /internal/users) from a validated body, optionally into a
 * team (seed 001), with one audit event. The caller has authorized user.create.
 */
export async function createUser(deps: Deps, actor: Actor, input: CreateUserInput) {
  if (input.team_role !== undefined && input.team_id === undefined) throw invalid('team_role', 'needs team_id');
  if (input.team_id !== undefined && !(await findTeam(deps.db.kysely, actor.orgId, input.team_id))) throw invalid('team_id', `team ${input.team_id} does not exist`);
  let passwordHash: string | undefined;
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw invalid('password', problem);
    passwordHash = await hashPassword(input.password);
  }
  const user = await withIdentityConflicts(() =>
    applyChange(deps, actor, async (trx, at) => {
      const row = await insertUser(trx, actor.orgId, { externalId: input.external_id, name: input.name, email: input.email, role: input.role, passwordHash }, at);
      if (input.team_id !== undefined) await addMembership(trx, input.team_id, row.id, input.team_role ?? 'member', at);
      const teamPart = input.team_id === undefined ? {} : { team_role: input.team_role ?? 'member' };
      return {
        result: row,
        audit: [{ orgId: actor.orgId, teamId: input.team_id ?? null, action: 'user.create', targetType: 'user', targetId: row.id, after: { ...userView(row), team_id: input.team_id ?? null, ...teamPart } }],
        // A new member changes the team's fair member share (policy/member-share.ts).
        invalidate: input.team_id !== undefined ? [teamMembersChanged(input.team_id)] : [],
      };
    }),
  );
  return { ...userView(user), team_id: input.team_id ?? null };
}

export function registerUserRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.post('/users', { config: { action: 'user.create', doc: { summary: 'Create a user', tag: 'Users', body: createBody.meta({ examples: [{ external_id: 'ada@example.com', email: 'ada@example.com', name: 'Ada', role: 'member' }] }), response: userCreatedDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'user.create');
    const input = parse(createBody, req.body);
    return reply.code(201).send(await createUser(deps, req.actor, input));
  });

  api.get('/users', { config: { action: 'user.list', doc: { summary: 'List users (filters, search)', description: 'q: a part of the external id, email or name (any case). Paged by cursor: pass next_after as after.', tag: 'Users', query: listQuery, response: userPageDoc } } }, async (req) => {
    // Team owners may list the organization's users too: that is how they find people to add.
    authorize(req.actor, 'user.list');
    const query = parse(listQuery, req.query, 'query');
    if (query.after !== undefined && query.offset > 0) throw new ApiError('invalid_request', 'query.after: use either after (cursor) or offset, not both', 'query.after');
    const filter = { externalId: query.external_id, email: query.email, q: query.q, teamId: query.team_id, role: query.role, status: query.status };
    const rows = await listUsers(db, req.actor.orgId, filter, { limit: query.limit, after: query.after, offset: query.offset });
    const last = rows.at(-1);
    return { data: rows.map(userView), limit: query.limit, offset: query.offset, next_after: rows.length === query.limit && last ? last.id : null };
  });

  api.get('/users/:id', { config: { action: 'user.read', doc: { summary: 'Read a user and their teams', tag: 'Users', response: userDetailDoc } } }, async (req: UserReq) => {
    const user = await getUser(db, req.actor.orgId, idParam(req.params.id, 'user'));
    authorize(req.actor, 'user.read', { userId: user.id });
    // A team owner may look anyone up (to add them), but sees only the teams they may read.
    const teams = (await userTeams(db, user.id)).filter((t) => decide(req.actor, 'team.read', { teamId: t.team_id }));
    return { ...userView(user), teams };
  });

  api.patch('/users/:id', { config: { action: 'user.update', doc: { summary: 'Update a user', tag: 'Users', body: updateBody, response: userDoc } } }, async (req: UserReq) => {
    const user = await getUser(db, req.actor.orgId, idParam(req.params.id, 'user'));
    authorize(req.actor, 'user.update', { userId: user.id });
    const input = parse(updateBody, req.body);
    // Demoting oneself could leave an organization without an admin; another admin does it.
    if (input.role !== undefined && input.role !== user.role && req.actor.userId === user.id) throw invalid('role', 'you cannot change your own role; ask another admin');
    return withIdentityConflicts(() =>
      applyChange(deps, req.actor, async (trx, at) => {
        const current = await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
        const row = await updateUser(trx, current, { externalId: input.external_id, name: input.name, email: input.email, role: input.role }, at);
        return { result: userView(row), audit: updateEvents(current, row) };
      }),
    );
  });

  api.post('/users/:id/deactivate', { config: { action: 'user.deactivate', doc: { summary: 'Deactivate a user (their keys and sessions stop working)', tag: 'Users', body: noBody, response: userDeactivatedDoc } } }, async (req: UserReq) => {
    const user = await getUser(db, req.actor.orgId, idParam(req.params.id, 'user'));
    authorize(req.actor, 'user.deactivate', { userId: user.id });
    parse(noBody, req.body);
    if (req.actor.userId === user.id) throw invalid('id', 'you cannot deactivate yourself; ask another admin');
    return deactivateUser(deps, req.actor, user);
  });

  // Same action as deactivation: whoever may take access away may give it back.
  api.post('/users/:id/reactivate', { config: { action: 'user.deactivate', doc: { summary: 'Reactivate a user', tag: 'Users', body: noBody, response: userDoc } } }, async (req: UserReq) => {
    const user = await getUser(db, req.actor.orgId, idParam(req.params.id, 'user'));
    authorize(req.actor, 'user.deactivate', { userId: user.id });
    parse(noBody, req.body);
    return reactivateUser(deps, req.actor, user);
  });
}

/** `user.update` for the profile fields that changed, and `user.role_change` for the role (its own event, easy to find). */
function updateEvents(before: UserRow, after: UserRow): AuditInput[] {
  const base = { orgId: before.org_id, targetType: 'user', targetId: before.id };
  const events: AuditInput[] = [];
  const fields = ['external_id', 'name', 'email'] as const;
  const changed = fields.filter((f) => before[f] !== after[f]);
  if (changed.length > 0) {
    events.push({ ...base, action: 'user.update', before: Object.fromEntries(changed.map((f) => [f, before[f]])), after: Object.fromEntries(changed.map((f) => [f, after[f]])) });
  }
  if (before.role !== after.role) events.push({ ...base, action: 'user.role_change', before: { role: before.role }, after: { role: after.role } });
  return events;
}
