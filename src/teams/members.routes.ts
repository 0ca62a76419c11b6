// Team members and their monthly allocations (seed 003), and the team's transaction trail.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { idParam, pagination, parse } from '../http/validate.ts';
import { authorizedTeam } from './team-access.ts';
import { ApiError } from '../http/errors.ts';
import { applyChange } from '../audit/change.ts';
import type { AuditInput } from '../audit/audit.repository.ts';
import { getTeam } from './teams.repository.ts';
import { addMembership, getUser } from '../users/users.repository.ts';
import { getPolicy } from '../policy/policies.repository.ts';
import { applyLimits } from '../policy/policy-input.ts';
import { resolveTarget, writeLimits } from '../policy/limits.routes.ts';
import { teamMembersChanged } from '../policy/member-share.ts';
import { committedCaps } from '../policy/allocations.ts';
import { microToUsd, spendSummary } from '../usage/spend.repository.ts';
import { iso } from '../clock.ts';
import { memberListDoc, memberRemovedDoc, memberSetDoc, transactionListDoc } from './teams-doc.ts';
import { revokeOwnedProvisioned, type ProvisionedKeyRow } from '../provisioning/provisioned-keys.repository.ts';
import { deleteRevokedSoon, ownerGoneEvents } from '../provisioning/provisioning.ts';

const memberBody = z.strictObject({
  role: z.enum(['owner', 'member']).optional(),
  allocation_usd: z.number().nonnegative('must not be negative').max(1e9).nullable().optional(),
  // false: this member may not create keys through self-service, whatever the team's policy (seed 002)
  key_create_self: z.boolean().optional(),
});

const TRANSACTION_ACTIONS = ['allocation.set', 'key.create', 'key.limits.set', 'key.revoke', 'key.rotate', 'member.set', 'member.remove', 'provisioned_key.create', 'provisioned_key.update', 'provisioned_key.delete', 'provisioned_key.expire'];

type MemberReq = FastifyRequest<{ Params: { id: string; userId: string } }>;

export function registerMemberRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.get<{ Params: { id: string } }>('/teams/:id/members', { config: { action: 'team.members.read', doc: { summary: "List a team's members, their allocations and spend", tag: 'Members', response: memberListDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.members.read');
    const rows = await db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id').select(['u.id', 'u.external_id', 'u.name', 'u.email', 'm.role', 'm.created_at', 'm.key_create_self']).where('m.team_id', '=', team.id).orderBy('u.id').execute();
    const nowIso = iso(deps.clock.now());
    const data = [];
    for (const r of rows) {
      const policy = await getPolicy(db, `member:${team.id}:${r.id}`);
      const committed = await db.transaction().execute((trx) => committedCaps(trx, team.id, r.id, nowIso));
      const spend = await spendSummary(db, { userId: r.id, teamId: team.id }, deps.clock.now());
      const allocation = policy.budget?.limitMicro ?? null;
      data.push({
        user_id: r.id, external_id: r.external_id, name: r.name, email: r.email, role: r.role, joined_at: r.created_at, key_create_self: Boolean(r.key_create_self),
        allocation_usd: allocation === null ? null : microToUsd(allocation),
        committed_usd: microToUsd(committed),
        unallocated_usd: allocation === null ? null : microToUsd(Math.max(0, allocation - committed)),
        spent_this_month_usd: spend.this_month.cost_usd,
      });
    }
    return { data };
  });

  api.put('/teams/:id/members/:userId', { config: { action: 'team.members.write', doc: { summary: 'Add a member or change their role, allocation or self-service right', tag: 'Members', body: memberBody, response: memberSetDoc } } }, async (req: MemberReq) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.members.write');
    const user = await getUser(db, req.actor.orgId, idParam(req.params.userId, 'user'));
    const input = parse(memberBody, req.body);
    const target = await resolveTarget(deps, req.actor, 'member', { id: String(team.id), userId: String(user.id) });
    const { role, keyCreateSelf } = await applyChange(deps, req.actor, async (trx, at) => {
      const existing = await trx.selectFrom('memberships').select(['role', 'key_create_self']).where('team_id', '=', team.id).where('user_id', '=', user.id).executeTakeFirst();
      const role = input.role ?? (existing?.role as 'owner' | 'member' | undefined) ?? 'member';
      await addMembership(trx, team.id, user.id, role, at);
      const keyCreateSelf = input.key_create_self ?? (existing ? Boolean(existing.key_create_self) : true);
      if (input.key_create_self !== undefined) await trx.updateTable('memberships').set({ key_create_self: keyCreateSelf ? 1 : 0 }).where('team_id', '=', team.id).where('user_id', '=', user.id).execute();
      const before = existing ? { user_id: user.id, role: existing.role, key_create_self: Boolean(existing.key_create_self) } : undefined;
      const audit: AuditInput[] = [{ orgId: team.org_id, teamId: team.id, action: 'member.set', targetType: 'member', targetId: target.scope, before, after: { user_id: user.id, role, key_create_self: keyCreateSelf } }];
      if (input.allocation_usd !== undefined) {
        const before = await getPolicy(trx, target.scope);
        // The allocation is the member's monthly, hard budget.
        const next = applyLimits(before, input.allocation_usd === null ? { max_budget_usd: null } : { max_budget_usd: input.allocation_usd, budget_period: 'monthly', budget_mode: 'hard' }, 'merge');
        audit.push(await writeLimits(trx, target, before, next, at));
      }
      // A new member changes the team's fair member share (policy/member-share.ts).
      return { result: { role, keyCreateSelf }, audit, invalidate: [{ kind: 'policy', scope: target.scope }, ...(existing ? [] : [teamMembersChanged(team.id)])] };
    });
    const policy = await getPolicy(db, target.scope);
    return { team_id: team.id, user_id: user.id, role, key_create_self: keyCreateSelf, allocation_usd: policy.budget ? microToUsd(policy.budget.limitMicro) : null };
  });

  api.delete('/teams/:id/members/:userId', { config: { action: 'team.members.write', doc: { summary: 'Remove a member (revokes their keys in the team)', tag: 'Members', response: memberRemovedDoc } } }, async (req: MemberReq) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.members.write');
    const userId = idParam(req.params.userId, 'user');
    let provisioned: ProvisionedKeyRow[] = [];
    const revoked = await applyChange(deps, req.actor, async (trx, at) => {
      const gone = await trx.deleteFrom('memberships').where('team_id', '=', team.id).where('user_id', '=', userId).executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw new ApiError('not_found', `user ${userId} is not a member of team ${team.id}`);
      // The member's keys in this team belong to the team's trust in them: they stop working.
      const keys = await trx.updateTable('api_keys').set({ status: 'revoked', revoked_at: at, updated_at: at }).where('team_id', '=', team.id).where('user_id', '=', userId).where('status', '!=', 'revoked').returning('id').execute();
      // So do their provisioned upstream keys in this team (deleted at the provider after commit).
      provisioned = await revokeOwnedProvisioned(trx, team.org_id, userId, at, team.id);
      return {
        result: keys.map((k) => k.id),
        audit: [{ orgId: team.org_id, teamId: team.id, action: 'member.remove', targetType: 'member', targetId: `member:${team.id}:${userId}`, after: { revoked_key_ids: keys.map((k) => k.id) } }, ...ownerGoneEvents(provisioned, at, 'owner_removed_from_team')],
        invalidate: [...keys.map((k) => ({ kind: 'key' as const, keyId: k.id })), { kind: 'policy' as const, scope: `member:${team.id}:${userId}` }, teamMembersChanged(team.id)],
      };
    });
    await deleteRevokedSoon(deps, provisioned);
    return { team_id: team.id, user_id: userId, removed: true, revoked_keys: revoked.length };
  });

  api.get<{ Params: { id: string } }>('/teams/:id/transactions', { config: { action: 'team.transactions.read', doc: { summary: "A team's credit transactions (allocations, key caps, revocations)", tag: 'Members', query: pagination, response: transactionListDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.transactions.read');
    const { limit, offset } = parse(pagination, req.query, 'query');
    const rows = await db.selectFrom('audit_events').selectAll().where('team_id', '=', team.id).where('action', 'in', TRANSACTION_ACTIONS).orderBy('id', 'desc').limit(limit).offset(offset).execute();
    return {
      data: rows.map((r) => ({
        id: r.id, at: r.created_at, action: r.action, actor_type: r.actor_type, actor_id: r.actor_id, target_type: r.target_type, target_id: r.target_id,
        amount_usd: r.amount_micro == null ? null : microToUsd(r.amount_micro), before: r.before ? JSON.parse(r.before) : null, after: r.after ? JSON.parse(r.after) : null,
      })),
      limit, offset,
    };
  });
}
