// What GET /api/me shows the caller about themselves: who they are (a person, a management key,
// the master key), their organization and role, and per team their role, their allocation (seed
// 003: the member's monthly budget in that team) with what is spent and left, and the team's
// self-service policy (seed 002).
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { getPolicy } from '../policy/policies.repository.ts';
import { committedCaps } from '../policy/allocations.ts';
import { periodOf } from '../policy/policy.ts';
import { microToUsd, spendSummary } from '../usage/spend.repository.ts';
import { iso } from '../clock.ts';
import { getManagementKey, managementKeyView } from '../auth/management-keys.repository.ts';

export async function meView(deps: Deps, actor: Actor) {
  const db = deps.db.kysely;
  const org = await db.selectFrom('organizations').select(['id', 'name', 'slug']).where('id', '=', actor.orgId).executeTakeFirstOrThrow();
  const base = { org, role: actor.role, superadmin: actor.superadmin };
  if (actor.type === 'user' && actor.userId !== null) {
    return { type: 'user' as const, ...base, ...(await personView(deps, actor, actor.userId)) };
  }
  if (actor.superadmin) return { type: 'master_key' as const, ...base, teams: [] };
  return { type: 'management_key' as const, ...base, ...(await managementKeyMe(deps, actor)) };
}

async function personView(deps: Deps, actor: Actor, userId: number) {
  const db = deps.db.kysely;
  const u = await db
    .selectFrom('users')
    .select(['id', 'external_id', 'email', 'name', 'role', 'status', 'password_hash', 'last_login_at', 'created_at'])
    .where('id', '=', userId)
    .where('org_id', '=', actor.orgId)
    .executeTakeFirstOrThrow();
  const s = actor.sessionId == null ? undefined : await db.selectFrom('sessions').select(['method', 'created_at', 'last_seen_at', 'expires_at']).where('id', '=', actor.sessionId).executeTakeFirst();
  const idleMs = deps.config.people.sessionIdleMinutes * 60_000;
  const teams = await teamsOf(deps, actor, userId);
  return {
    user: { id: u.id, external_id: u.external_id, email: u.email, name: u.name, role: u.role, status: u.status, has_password: u.password_hash !== null, last_login_at: u.last_login_at, created_at: u.created_at },
    session: s ? { method: s.method, created_at: s.created_at, expires_at: s.expires_at, idle_expires_at: iso(Date.parse(s.last_seen_at) + idleMs) } : null,
    teams,
  };
}

async function teamsOf(deps: Deps, actor: Actor, userId: number) {
  const db = deps.db.kysely;
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .leftJoin('team_self_service as ss', 'ss.team_id', 't.id')
    .select(['t.id', 't.name', 't.slug', 'm.role', 'm.key_create_self', 'ss.enabled', 'ss.max_keys_per_user', 'ss.max_budget_micro', 'ss.require_expiry', 'ss.max_expiry_days'])
    .where('m.user_id', '=', userId)
    .where('t.org_id', '=', actor.orgId)
    .where('t.deleted_at', 'is', null)
    .orderBy('t.id')
    .execute();
  const now = deps.clock.now();
  const out = [];
  for (const r of rows) {
    const scope = `member:${r.id}:${userId}`;
    const budget = (await getPolicy(db, scope)).budget;
    let allocation = null;
    if (budget) {
      const period = periodOf(budget.period, now);
      // deps.loadSpent flushes this replica's pending request logs first: "left" includes the
      // request the member just made here.
      const spent = await deps.loadSpent(scope, period.start, period.end);
      const committed = await db.transaction().execute((trx) => committedCaps(trx, r.id, userId, iso(now)));
      allocation = {
        budget_usd: microToUsd(budget.limitMicro), period: budget.period, mode: budget.mode,
        spent_usd: microToUsd(spent), remaining_usd: microToUsd(Math.max(0, budget.limitMicro - spent)),
        // seed 003: the caps of the member's live keys are carved out of the allocation
        committed_usd: microToUsd(committed), uncommitted_usd: microToUsd(Math.max(0, budget.limitMicro - committed)),
      };
    }
    const spend = await spendSummary(db, { userId, teamId: r.id }, now);
    out.push({
      id: r.id, name: r.name, slug: r.slug, role: r.role,
      key_create_self: r.key_create_self !== 0,
      allocation,
      spent_this_month_usd: spend.this_month.cost_usd,
      self_service: r.enabled === null ? null : {
        enabled: r.enabled !== 0, max_keys_per_user: r.max_keys_per_user,
        max_budget_usd: r.max_budget_micro === null ? null : microToUsd(Number(r.max_budget_micro)),
        require_expiry: r.require_expiry !== 0, max_expiry_days: r.max_expiry_days,
      },
    });
  }
  return out;
}

/** The key's own description (the same view as GET /api/management-keys/{id}), and its team. */
async function managementKeyMe(deps: Deps, actor: Actor) {
  const db = deps.db.kysely;
  const k = await getManagementKey(db, actor.orgId, Number(actor.id));
  const team = k.team_id === null ? undefined : await db.selectFrom('teams').select(['id', 'name', 'slug']).where('id', '=', k.team_id).executeTakeFirst();
  return {
    management_key: managementKeyView(k, deps.clock.now()),
    teams: team ? [{ ...team, role: k.role }] : [],
  };
}

// GET /api/me's response as the OpenAPI document shows it (and the dashboard's session store is
// typed from). One object for the three callers rather than a union, so a client reads `user`,
// `session` or `management_key` when present without narrowing first.
const allocationDoc = z.object({
  budget_usd: z.number(),
  period: z.string().describe('total, daily, weekly or monthly'),
  mode: z.string().describe('hard or soft'),
  spent_usd: z.number().describe('in the current period'),
  remaining_usd: z.number(),
  committed_usd: z.number().describe("the caps of the member's live keys, carved out of the allocation"),
  uncommitted_usd: z.number(),
});

const meTeamDoc = z.object({
  id: z.number(),
  name: z.string(),
  slug: z.string(),
  role: z.string().describe("the caller's role in the team: owner or member (a team-scoped management key: its role)"),
  key_create_self: z.boolean().optional(),
  allocation: allocationDoc.nullable().optional().describe("the member's budget in this team (seed 003); null: none set"),
  spent_this_month_usd: z.number().optional(),
  self_service: z.object({
    enabled: z.boolean(),
    max_keys_per_user: z.number().nullable(),
    max_budget_usd: z.number().nullable(),
    require_expiry: z.boolean(),
    max_expiry_days: z.number().nullable(),
  }).nullable().optional(),
});

export const meDoc = z.object({
  type: z.enum(['user', 'master_key', 'management_key']),
  org: z.object({ id: z.number(), name: z.string(), slug: z.string() }),
  role: z.enum(['admin', 'member', 'viewer']),
  superadmin: z.boolean(),
  user: z.object({
    id: z.number(),
    external_id: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    role: z.string(),
    status: z.string(),
    has_password: z.boolean(),
    last_login_at: z.string().nullable(),
    created_at: z.string(),
  }).optional().describe('a signed-in person'),
  session: z.object({ method: z.string(), created_at: z.string(), expires_at: z.string(), idle_expires_at: z.string() }).nullable().optional(),
  management_key: z.object({
    id: z.number(),
    name: z.string(),
    description: z.string().nullable(),
    key_prefix: z.string(),
    role: z.string(),
    scope: z.enum(['org', 'team']),
    team_id: z.number().nullable(),
    status: z.enum(['active', 'expired', 'revoked']),
  }).optional().describe('the calling management key'),
  teams: z.array(meTeamDoc),
});
