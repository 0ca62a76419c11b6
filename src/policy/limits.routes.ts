// Limits and budgets on every level: GET (with live usage), PUT (replace), PATCH (merge), DELETE
// (clear). A change is audited, and invalidates cached policy at once on every replica (seed 002).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import type { Action } from '../auth/permissions.ts';
import { applyChange } from '../audit/change.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { findKey, lineageOf } from '../keys/keys.repository.ts';
import { loadKeyContext } from '../keys/key-context.ts';
import { getUser } from '../users/users.repository.ts';
import type { Level } from './admission.ts';
import { getPolicy, savePolicy } from './policies.repository.ts';
import { applyLimits, limitsBody, policyView } from './policy-input.ts';
import { explainKey, explainLevels } from './explain.ts';
import { assertAllocationCovers, assertCapFits } from './allocations.ts';
import { EMPTY_POLICY, type Policy } from './policy.ts';
import { keyLimitsDoc, limitsChangedDoc, limitsLayerDoc } from './limits-doc.ts';

export interface Target {
  level: Level;
  scope: string;
  orgId: number;
  teamId: number | null;
  /** the user the level belongs to (a key's owner, a member), for the authorization decision */
  userId: number | null;
  /** allocation invariant checks for this level */
  check(trx: Transaction<Database>, next: Policy, at: string): Promise<void>;
  /** a revoked key: 409, but only once the caller is authorized (a refusal must not depend on it) */
  revoked?: true;
}

type Req = FastifyRequest<{ Params: Record<string, string> }>;

export async function resolveTarget(deps: Deps, actor: Actor, kind: string, params: Record<string, string>): Promise<Target> {
  const db = deps.db.kysely;
  const none = async () => {};
  switch (kind) {
    case 'key': {
      const id = idParam(params.id, 'key');
      const key = await findKey(db, actor.orgId, id);
      if (!key) throw new ApiError('not_found', `key ${id} not found`);
      const lineage = lineageOf(key);
      return {
        level: 'key', scope: `key:${lineage}`, orgId: key.org_id, teamId: key.team_id, userId: key.user_id, ...(key.status === 'revoked' ? { revoked: true as const } : {}),
        check: (trx, next, at) => assertCapFits(trx, deps.db.dialect, { teamId: key.team_id, userId: key.user_id, lineage }, next.budget?.limitMicro ?? null, at),
      };
    }
    case 'team': {
      const team = await getTeam(db, actor.orgId, idParam(params.id, 'team'));
      return { level: 'team', scope: `team:${team.id}`, orgId: team.org_id, teamId: team.id, userId: null, check: none };
    }
    case 'member': {
      const team = await getTeam(db, actor.orgId, idParam(params.id, 'team'));
      const user = await getUser(db, actor.orgId, idParam(params.userId, 'user'));
      return {
        level: 'member', scope: `member:${team.id}:${user.id}`, orgId: team.org_id, teamId: team.id, userId: user.id,
        check: (trx, next, at) => assertAllocationCovers(trx, deps.db.dialect, team.id, user.id, next.budget?.limitMicro ?? null, at),
      };
    }
    case 'service_account': {
      const id = idParam(params.id, 'service account');
      const sa = await db.selectFrom('service_accounts').selectAll().where('id', '=', id).where('org_id', '=', actor.orgId).where('deleted_at', 'is', null).executeTakeFirst();
      if (!sa) throw new ApiError('not_found', `service account ${id} not found`);
      return { level: 'service_account', scope: `sa:${sa.id}`, orgId: sa.org_id, teamId: sa.team_id, userId: null, check: none };
    }
    default:
      return { level: 'org', scope: `org:${actor.orgId}`, orgId: actor.orgId, teamId: null, userId: null, check: none };
  }
}

/** Writes a level's policy inside an open change; returns the audit entry. Shared with key/team creation. */
export async function writeLimits(trx: Transaction<Database>, target: Target, before: Policy, next: Policy, at: string) {
  await target.check(trx, next, at);
  await savePolicy(trx, target.scope, target.orgId, next, at);
  const action = target.level === 'member' ? 'allocation.set' : `${target.level}.limits.set`;
  return { orgId: target.orgId, teamId: target.teamId, action, targetType: target.level, targetId: target.scope, before: policyView(before), after: policyView(next), amountMicro: next.budget?.limitMicro ?? null };
}

export function registerLimitRoutes(api: FastifyInstance, deps: Deps): void {
  const paths: Array<[string, string]> = [
    ['key', '/keys/:id/limits'],
    ['team', '/teams/:id/limits'],
    ['member', '/teams/:id/members/:userId/limits'],
    ['service_account', '/service-accounts/:id/limits'],
    ['org', '/orgs/current/limits'],
  ];
  const LEVEL_NAMES: Record<string, string> = { key: "a key's", team: "a team's", member: "a member's (in a team)", service_account: "a service account's", org: "the organization's" };
  const actions: Record<string, string> = { key: 'key.limits', team: 'team.limits', member: 'member.limits', service_account: 'service_account.limits', org: 'org.limits' };
  for (const [kind, path] of paths) {
    const read = `${actions[kind]}.read` as Action;
    const write = `${actions[kind]}.write` as Action;
    const authorized = async (req: Req, action: Action) => {
      const target = await resolveTarget(deps, req.actor, kind, req.params);
      authorize(req.actor, action, kind === 'org' ? undefined : { teamId: target.teamId, userId: target.userId });
      if (target.revoked) throw new ApiError('conflict', `key ${req.params.id} is revoked`);
      return target;
    };
    const what = LEVEL_NAMES[kind];
    api.get(path, { config: { action: read, doc: { summary: `Read ${what} limits and budget (with current usage)`, tag: 'Limits', response: kind === 'key' ? keyLimitsDoc : limitsLayerDoc } } }, async (req: Req) => {
      const target = await authorized(req, read);
      if (kind === 'key') {
        const key = (await findKey(deps.db.kysely, req.actor.orgId, Number(req.params.id)))!;
        return explainKey(deps, (await loadKeyContext(deps.db.kysely, deps.orgAccess, key.key_hash))!);
      }
      const policy = await getPolicy(deps.db.kysely, target.scope);
      const [layer] = await explainLevels(deps, req.actor.orgId, [{ level: target.level, scope: target.scope, policy }]);
      return layer;
    });
    const change = (mode: 'replace' | 'merge' | 'clear') => async (req: Req) => {
      const target = await authorized(req, write);
      const input = mode === 'clear' ? {} : parse(limitsBody, req.body);
      const next = await applyChange(deps, req.actor, async (trx, at) => {
        const before = await getPolicy(trx, target.scope);
        const policy = mode === 'clear' ? EMPTY_POLICY : applyLimits(before, input, mode);
        // The same limits again (a retried or converging PUT): nothing to record.
        if (JSON.stringify(policyView(policy)) === JSON.stringify(policyView(before))) return { result: before, audit: [] };
        return { result: policy, audit: [await writeLimits(trx, target, before, policy, at)], invalidate: [{ kind: 'policy', scope: target.scope }] };
      });
      return { level: target.level, scope: target.scope, ...policyView(next) };
    };
    api.put(path, { config: { action: write, doc: { summary: `Set ${what} limits and budget (fields left out are cleared)`, tag: 'Limits', body: limitsBody, response: limitsChangedDoc } } }, change('replace'));
    api.patch(path, { config: { action: write, doc: { summary: `Change some of ${what} limits (fields left out stay)`, tag: 'Limits', body: limitsBody, response: limitsChangedDoc } } }, change('merge'));
    api.delete(path, { config: { action: write, doc: { summary: `Clear ${what} limits and budget`, tag: 'Limits', response: limitsChangedDoc } } }, change('clear'));
  }
}
