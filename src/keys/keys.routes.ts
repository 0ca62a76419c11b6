// Key management: team keys under /api/teams/{id}/keys (seed 000) and any key under /api/keys
// (personal keys without a team keep working). The secret is in the create/rotate response only.
// A key's access rule (models, access_groups, blocked_models, ip_allowlist) and scopes are set on
// create and PATCH; the rule may only narrow its team's and org's (access/narrowing.ts, 400 naming
// the entry), checked inside the same transaction as the write.
import type { FastifyInstance } from 'fastify';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import { actorRef, type Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { id, idParam, name, optionalText, parse } from '../http/validate.ts';
import { canonicalInstant, isoDateTime } from '../http/timestamps.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { keyOf, teamKeyOf, type KeyReq, type TeamKeyReq } from './key-lookup.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { insertKey, keyView, lineageOf, revokeKey, type KeyRow } from './keys.repository.ts';
import { applyLimits, hasLimitFields, limitFields, policyView } from '../policy/policy-input.ts';
import { assertCapFits } from '../policy/allocations.ts';
import { getPolicy, savePolicy } from '../policy/policies.repository.ts';
import { EMPTY_POLICY } from '../policy/policy.ts';
import { OPEN_RULE, ruleFromStored, storedModelAccess, type AccessRule } from '../policy/access-rules.ts';
import { loadOrgAccess } from '../access/org-access.ts';
import { aboveKey, narrowingProblem } from '../access/narrowing.ts';
import { applyRulePatch, hasRuleFields, ruleFields, rulePatch, scopesField, scopesInput, type RulePatch } from '../access/rule-input.ts';
import { createdKeyDoc, keyDoc } from './key-docs.ts';

const tags = z.array(z.string().min(1).max(100)).max(50);

export const createBody = z.strictObject({
  name,
  description: optionalText,
  tags: tags.optional(),
  scopes: scopesField,
  ...ruleFields,
  user_id: id.optional(),
  service_account_id: id.optional(),
  team_id: id.nullish(),
  expires_at: isoDateTime.nullish(),
  ...limitFields,
});

const updateBody = z.strictObject({
  name: name.optional(),
  description: optionalText,
  tags: tags.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  expires_at: isoDateTime.nullish(),
  scopes: scopesField,
  ...ruleFields,
});

export type CreateInput = z.infer<typeof createBody>;

/**
 * The team a creation body names, read alone (400 naming team_id if malformed), so that the
 * decision on that team comes before the rest of the body is validated: a refusal does not
 * depend on what else was sent. The team itself is looked up first (404 for another org's).
 */
export async function bodyTeam(deps: Deps, orgId: number, body: unknown): Promise<number | null> {
  const teamId = parse(z.object({ team_id: id.nullish() }), body).team_id ?? null;
  if (teamId !== null) await getTeam(deps.db.kysely, orgId, teamId);
  return teamId;
}

/** 400 when the key's rule asks for more than its team and org allow (read in this transaction). */
async function assertNarrows(trx: Transaction<Database>, orgId: number, teamId: number | null, patch: RulePatch): Promise<void> {
  if (patch.models == null && patch.accessGroups == null) return;
  const book = await loadOrgAccess(trx, orgId);
  const problem = narrowingProblem(book, aboveKey(book, teamId), patch);
  if (problem) throw new ApiError('invalid_request', `${problem.param}: ${problem.message}`, problem.param);
}

/**
 * The user who owns a new key. Without `user_id`: the calling user, or — for the master key and
 * management keys, which are no one — the organization's first admin (seed 000: a team key "is
 * owned by user ID 1 by default"). A team key's owner must be a member of that team or an org
 * admin (admins act in every team, and seed 000's default owner is one): anyone else would be
 * charged for, and see in "My Keys", a key of a team they do not belong to. A deactivated user
 * owns no new key.
 */
async function resolveOwner(trx: Transaction<Database>, actor: Actor, teamId: number | null, userId: number | undefined): Promise<number> {
  let ownerId = userId ?? (actor.type === 'user' ? actor.userId : null);
  if (ownerId === null) {
    const first = await trx.selectFrom('users').select('id').where('org_id', '=', actor.orgId).where('role', '=', 'admin').where('status', '=', 'active').orderBy('id').executeTakeFirst();
    if (!first) throw new ApiError('invalid_request', 'user_id: required (the organization has no active admin user)', 'user_id');
    ownerId = first.id;
  }
  const user = await trx.selectFrom('users').select(['id', 'role', 'status']).where('id', '=', ownerId).where('org_id', '=', actor.orgId).executeTakeFirst();
  if (!user) throw new ApiError('invalid_request', `user_id: user ${ownerId} does not exist`, 'user_id');
  if (user.status !== 'active') throw new ApiError('invalid_request', `user_id: user ${ownerId} is deactivated`, 'user_id');
  if (teamId === null || user.role === 'admin') return user.id;
  const member = await trx.selectFrom('memberships').select('user_id').where('team_id', '=', teamId).where('user_id', '=', user.id).executeTakeFirst();
  if (!member) throw new ApiError('invalid_request', `user_id: user ${ownerId} is not a member of team ${teamId}; a team key belongs to one of its members, an org admin, or one of its service accounts (service_account_id)`, 'user_id');
  return user.id;
}

/** What the self-service path (/api/me/keys) adds to a creation. */
export interface CreateOptions {
  /** runs first inside the creating transaction: checks that must see what they count locked */
  check?: (trx: Transaction<Database>, at: string) => Promise<void>;
  /** merged into the audit event's `after` */
  auditAfter?: Record<string, unknown>;
}

export async function createKey(deps: Deps, actor: Actor, teamId: number | null, input: CreateInput, opts: CreateOptions = {}) {
  const expiresAt = input.expires_at ? canonicalInstant(input.expires_at, 'expires_at', deps.clock.now(), { future: true }) : null;
  const scopes = input.scopes === undefined ? '*' : scopesInput(input.scopes);
  const patch = rulePatch(input);
  const rule: AccessRule = hasRuleFields(input) ? applyRulePatch(OPEN_RULE, patch) : OPEN_RULE;
  if (teamId !== null) await getTeam(deps.db.kysely, actor.orgId, teamId);
  return applyChange(deps, actor, async (trx, at) => {
    await opts.check?.(trx, at);
    await assertNarrows(trx, actor.orgId, teamId, patch);
    let userId: number | null = null;
    let serviceAccountId: number | null = null;
    if (input.service_account_id !== undefined) {
      if (input.user_id !== undefined) throw new ApiError('invalid_request', 'service_account_id: a key is owned by a user or a service account, not both', 'service_account_id');
      const sa = await trx.selectFrom('service_accounts').select(['id', 'team_id']).where('id', '=', input.service_account_id).where('org_id', '=', actor.orgId).where('deleted_at', 'is', null).executeTakeFirst();
      if (!sa || sa.team_id !== teamId) throw new ApiError('invalid_request', `service_account_id: service account ${input.service_account_id} does not exist in this team`, 'service_account_id');
      serviceAccountId = sa.id;
    } else userId = await resolveOwner(trx, actor, teamId, input.user_id);
    const { row, secret } = await insertKey(
      trx,
      {
        orgId: actor.orgId,
        teamId,
        userId,
        serviceAccountId,
        name: input.name,
        description: input.description ?? null,
        tags: input.tags ?? [],
        scopes,
        expiresAt,
        rule,
        createdBy: actorRef(actor),
      },
      at,
    );
    // Limits given inline (seed 002: budget, RPM, TPM, RPH, RPD, TPD at creation) become the key's policy.
    const policy = hasLimitFields(input) ? applyLimits(EMPTY_POLICY, input, 'replace') : EMPTY_POLICY;
    if (policy !== EMPTY_POLICY) {
      await assertCapFits(trx, deps.db.dialect, { teamId, userId, lineage: row.id }, policy.budget?.limitMicro ?? null, at);
      await savePolicy(trx, `key:${row.id}`, actor.orgId, policy, at);
    }
    const limits = policyView(policy);
    return {
      result: { ...keyView(row), limits, key: secret },
      audit: [{ orgId: actor.orgId, teamId, action: 'key.create', targetType: 'key', targetId: row.id, after: { ...keyView(row), limits, ...opts.auditAfter }, amountMicro: policy.budget?.limitMicro ?? null }],
      invalidate: [{ kind: 'key', keyId: row.id }],
    };
  });
}

/**
 * POST /api/keys and POST /internal/api-keys: a key of the team the body names (null: of no team).
 * Decided twice: whether the caller may create keys at all (before the body is read, so a refusal
 * does not depend on it), then for the team the body names.
 */
export async function createKeyFromBody(deps: Deps, actor: Actor, body: unknown) {
  authorize(actor, 'key.create');
  const teamId = await bodyTeam(deps, actor.orgId, body);
  authorize(actor, 'key.create', { teamId });
  const input = parse(createBody, body);
  return createKey(deps, actor, teamId, input);
}

export async function revoke(deps: Deps, actor: Actor, key: KeyRow) {
  if (key.status === 'revoked') return keyView(key);
  return applyChange(deps, actor, async (trx, at) => {
    const row = await revokeKey(trx, key, at);
    return {
      result: keyView(row),
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.revoke', targetType: 'key', targetId: key.id, before: keyView(key), after: keyView(row) }],
      invalidate: [{ kind: 'key', keyId: key.id }],
    };
  });
}

async function update(deps: Deps, actor: Actor, key: KeyRow, body: unknown) {
  const input = parse(updateBody, body);
  if (key.status === 'revoked') throw new ApiError('conflict', `key ${key.id} is revoked and cannot be changed`);
  // A past expiry is allowed here: it expires the key at once.
  const expiresAt = input.expires_at ? canonicalInstant(input.expires_at, 'expires_at', deps.clock.now()) : input.expires_at;
  const scopes = input.scopes === undefined ? undefined : scopesInput(input.scopes);
  const rulePatchInput = rulePatch(input);
  return applyChange(deps, actor, async (trx, at) => {
    const patch: Partial<KeyRow> = { updated_at: at };
    if (hasRuleFields(input)) {
      await assertNarrows(trx, key.org_id, key.team_id, rulePatchInput);
      const rule = applyRulePatch(ruleFromStored(key.model_access, key.ip_allowlist), rulePatchInput);
      patch.model_access = storedModelAccess(rule);
      patch.ip_allowlist = JSON.stringify(rule.ipAllowlist);
    }
    if (scopes !== undefined) patch.scopes = scopes;
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description ?? null;
    if (input.tags !== undefined) patch.tags = JSON.stringify(input.tags);
    if (input.status !== undefined) patch.status = input.status;
    // Offboarding disabled this key with its owner: it comes back only with them.
    if (input.status === 'active' && key.status !== 'active' && key.user_id !== null) {
      const owner = await trx.selectFrom('users').select('status').where('id', '=', key.user_id).executeTakeFirst();
      if (owner?.status !== 'active') throw new ApiError('conflict', `key ${key.id}'s owner (user ${key.user_id}) is deactivated: reactivate the user first`, 'status');
    }
    if (expiresAt !== undefined) patch.expires_at = expiresAt;
    const row = await trx.updateTable('api_keys').set(patch).where('id', '=', key.id).returningAll().executeTakeFirstOrThrow();
    // A new expiry can bring an expired key, and its budget cap, back to life: the cap must still
    // fit in the owner's allocation next to the keys issued meanwhile.
    if (expiresAt !== undefined) {
      const cap = (await getPolicy(trx, `key:${lineageOf(key)}`)).budget?.limitMicro ?? null;
      await assertCapFits(trx, deps.db.dialect, { teamId: key.team_id, userId: key.user_id, lineage: lineageOf(key) }, cap, at);
    }
    return {
      result: keyView(row),
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.update', targetType: 'key', targetId: key.id, before: keyView(key), after: keyView(row) }],
      invalidate: [{ kind: 'key', keyId: key.id }],
    };
  });
}


export function registerKeyRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const key = { config: { action: 'key.read' as const } };
  const change = { config: { action: 'key.update' as const } };
  const end = { config: { action: 'key.revoke' as const } };
  const create = { config: { action: 'key.create' as const } };

  api.post<{ Params: { id: string } }>('/teams/:id/keys', { config: { ...create.config, doc: { summary: 'Create a team key', description: 'The secret (key) is in this answer only.', tag: 'Keys', body: createBody.omit({ team_id: true }).meta({ examples: [{ name: 'search-backend', max_budget_usd: 50, budget_period: 'monthly', rpm: 600 }] }), response: createdKeyDoc, status: 201 } } }, async (req, reply) => {
    const teamId = idParam(req.params.id, 'team');
    await getTeam(db, req.actor.orgId, teamId);
    authorize(req.actor, 'key.create', { teamId });
    const input = parse(createBody.omit({ team_id: true }), req.body);
    return reply.code(201).send(await createKey(deps, req.actor, teamId, input));
  });
  api.get('/teams/:id/keys/:keyId', { config: { ...key.config, doc: { summary: 'Read a team key', tag: 'Keys', response: keyDoc } } }, async (req: TeamKeyReq) => keyView(await teamKeyOf(deps, req, 'key.read')));
  api.patch('/teams/:id/keys/:keyId', { config: { ...change.config, doc: { summary: 'Update a team key (name, tags, status, expiry, scopes, access rule)', tag: 'Keys', body: updateBody, response: keyDoc } } }, async (req: TeamKeyReq) => update(deps, req.actor, await teamKeyOf(deps, req, 'key.update'), req.body));
  api.delete('/teams/:id/keys/:keyId', { config: { ...end.config, doc: { summary: 'Revoke a team key', tag: 'Keys', response: keyDoc } } }, async (req: TeamKeyReq) => revoke(deps, req.actor, await teamKeyOf(deps, req, 'key.revoke')));

  api.post('/keys', { config: { ...create.config, doc: { summary: 'Create a key (of a team, or personal with team_id null)', description: 'The secret (key) is in this answer only.', tag: 'Keys', body: createBody.meta({ examples: [{ name: 'laptop', tags: ['dev'] }] }), response: createdKeyDoc, status: 201 } } }, async (req, reply) => {
    return reply.code(201).send(await createKeyFromBody(deps, req.actor, req.body));
  });
  api.get('/keys/:id', { config: { ...key.config, doc: { summary: 'Read a key', tag: 'Keys', response: keyDoc } } }, async (req: KeyReq) => keyView(await keyOf(deps, req, 'key.read')));
  api.patch('/keys/:id', { config: { ...change.config, doc: { summary: 'Update a key (name, tags, status, expiry, scopes, access rule)', tag: 'Keys', body: updateBody, response: keyDoc } } }, async (req: KeyReq) => update(deps, req.actor, await keyOf(deps, req, 'key.update'), req.body));
  api.delete('/keys/:id', { config: { ...end.config, doc: { summary: 'Revoke a key', tag: 'Keys', response: keyDoc } } }, async (req: KeyReq) => revoke(deps, req.actor, await keyOf(deps, req, 'key.revoke')));
}
