// Key listings: GET /api/keys and GET /api/teams/{id}/keys. Filters, sorts and cursor paging
// (docs/api.md, "Key listings"); the query itself is key-listing.ts and key-listing-sql.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { MAX_INT32, idParam, pagination, parse, queryId } from '../http/validate.ts';
import type { Actor } from '../http/actor.ts';
import { authorize } from '../auth/authorize.ts';
import { decide } from '../auth/permissions.ts';
import { authorizedTeam } from '../teams/team-access.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { keyView, lineageOf, type KeyStatus } from './keys.repository.ts';
import { loadPolicies } from '../policy/policies.repository.ts';
import type { Policy } from '../policy/policy.ts';
import { keyPageDoc } from './key-docs.ts';
import { decodeCursor, encodeCursor } from './key-cursor.ts';
import { listKeyPage, monthOf, SORT_KEYS, type KeyListing, type KeyPage, type SortKey } from './key-listing.ts';

const STATUSES = ['active', 'disabled', 'revoked'] as const satisfies readonly KeyStatus[];
const POLICY_SLICE = 200;
const SORTS = SORT_KEYS.flatMap((k) => [k, `-${k}`]) as [string, ...string[]];

/**
 * A parameter that may be repeated (?tag=a&tag=b): its values as a list, each checked by `problem`.
 * A bad value is reported on the parameter itself (param "query.tag", not "query.tag.1").
 */
const repeated = (problem: (value: string) => string | undefined, commas = false) =>
  z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const values = (Array.isArray(v) ? v : [v]).flatMap((x) => (commas ? x.split(',') : [x]));
    const bad = values.length > 20 ? 'must not be given more than 20 times' : values.map(problem).find((p) => p !== undefined);
    if (bad === undefined) return values;
    ctx.addIssue({ code: 'custom', message: bad });
    return z.NEVER;
  });
const oneOf = (allowed: readonly string[]) => (v: string) => (allowed.includes(v) ? undefined : `must be one or more of ${allowed.join(', ')} (got "${v.slice(0, 40)}")`);

export const listQuery = pagination.extend({
  after: z.coerce.number().int().min(0).max(MAX_INT32).optional(),
  cursor: z.string().max(512).optional(),
  team_id: queryId.optional(),
  user_id: queryId.optional(),
  service_account_id: queryId.optional(),
  // ?status=active&status=disabled or ?status=active,disabled
  status: repeated(oneOf(STATUSES), true).optional(),
  include_revoked: z.enum(['true', 'false']).optional(),
  // Tags may hold commas, so several tags are several parameters (a key must carry them all).
  tag: repeated((t) => (t.length === 0 ? 'must not be empty' : t.length > 100 ? 'must be at most 100 characters' : undefined)).optional(),
  // Control characters are refused: the search text joins the fields with a newline (key-listing-sql.ts).
  q: z.string().min(1, 'must not be empty').max(200).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters').optional(),
  sort: z.enum(SORTS, { message: `must be one of ${SORTS.join(', ')}` }).default('created_at'),
});
type ListQuery = z.infer<typeof listQuery>;

/** The listing the query asks for; the combinations that cannot be honoured are a 400 naming the parameter. */
function listingOf(q: ListQuery, orgId: number, teamId: number | undefined, now: number): KeyListing {
  const desc = q.sort.startsWith('-');
  const key = (desc ? q.sort.slice(1) : q.sort) as SortKey;
  if (q.after !== undefined && q.cursor !== undefined) throw new ApiError('invalid_request', 'query.after: use either cursor or after, not both', 'query.after');
  if (q.after !== undefined && q.sort !== 'created_at') throw new ApiError('invalid_request', 'query.after: pages sort=created_at only; use cursor (next_cursor) for other sorts', 'query.after');
  const kind = key === 'created_at' ? 'none' : key === 'spend' ? 'spend' : 'text';
  const after = q.cursor !== undefined ? decodeCursor(q.cursor, q.sort, kind) : q.after !== undefined ? { value: null, id: q.after } : undefined;
  // Revoked keys are hidden unless asked for, by status or by include_revoked (status wins).
  const statuses = q.status ? [...new Set(q.status as KeyStatus[])] : q.include_revoked === 'true' ? [...STATUSES] : ['active' as const, 'disabled' as const];
  const tid = teamId ?? q.team_id;
  return {
    orgId,
    ...(tid !== undefined ? { teamId: tid } : {}),
    ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
    ...(q.service_account_id !== undefined ? { serviceAccountId: q.service_account_id } : {}),
    statuses,
    tags: q.tag ? [...new Set(q.tag)] : [],
    ...(q.q !== undefined ? { q: q.q } : {}),
    sort: { key, desc },
    ...(after ? { after } : {}),
    offset: q.offset,
    limit: q.limit,
    month: monthOf(now),
  };
}

/**
 * The page as the API answers it. Each row carries its budget cap (the dashboard's budget column):
 * one read of the page's key policies by primary key, whatever the listing's size.
 */
async function pageView(deps: Deps, p: KeyPage, q: ListQuery, l: KeyListing) {
  const scopes = p.keys.map((k) => `key:${lineageOf(k.row)}`);
  // In slices: loadPolicies ORs one condition per scope, and SQLite refuses an expression 1,000 deep.
  const policies = new Map<string, Policy>();
  for (let i = 0; i < scopes.length; i += POLICY_SLICE) {
    for (const [scope, policy] of await loadPolicies(deps.db.kysely, scopes.slice(i, i + POLICY_SLICE))) policies.set(scope, policy);
  }
  return {
    data: p.keys.map((k, i) => {
      const budget = policies.get(scopes[i]!)?.budget ?? null;
      return { ...keyView(k.row), owner_name: k.ownerName, spend_this_month_usd: microToUsd(k.monthSpendMicro), max_budget_usd: budget ? microToUsd(budget.limitMicro) : null, budget_period: budget?.period ?? null };
    }),
    limit: q.limit,
    offset: q.offset,
    sort: q.sort,
    spend_month: l.month,
    next_cursor: p.next ? encodeCursor(q.sort, p.next) : null,
    // the legacy keyset parameter, for creation order (ascending) only
    next_after: p.next && q.sort === 'created_at' ? p.next.id : null,
  };
}

/**
 * What of a listing the caller may see: admins and viewers everything, a team's owners that team's
 * keys, anyone else only the keys they own ("My Keys"); null: nothing.
 */
function visibleTo(actor: Actor, l: KeyListing): KeyListing | null {
  if (decide(actor, 'key.read', { teamId: l.teamId ?? null, userId: null })) return l;
  if (actor.userId === null || (l.userId !== undefined && l.userId !== actor.userId)) return null;
  return { ...l, userId: actor.userId };
}

/**
 * A page of keys as `actor` may see it, within a team or (`ownerId`: "My Keys", GET /api/me/keys)
 * owned by one user whatever the query's user_id says.
 */
export async function listKeysFor(deps: Deps, actor: Actor, query: unknown, within: { teamId?: number; ownerId?: number } = {}) {
  const q = parse(listQuery, query, 'query');
  const asked = listingOf(q, actor.orgId, within.teamId, deps.clock.now());
  const l = within.ownerId === undefined ? asked : { ...asked, userId: within.ownerId };
  const visible = visibleTo(actor, l);
  return pageView(deps, visible ? await listKeyPage(deps.db, visible) : { keys: [], next: null }, q, l);
}

export function registerKeyListingRoutes(api: FastifyInstance, deps: Deps): void {
  const list = (actor: Actor, query: unknown, teamId?: number) => listKeysFor(deps, actor, query, teamId === undefined ? {} : { teamId });
  api.get<{ Params: { id: string } }>('/teams/:id/keys', { config: { action: 'team.read', doc: { summary: "List a team's keys (filters, sort, cursor)", tag: 'Keys', query: listQuery, response: keyPageDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.read');
    return list(req.actor, req.query, team.id);
  });
  api.get('/keys', { config: { action: 'key.list', doc: { summary: 'List keys (filters, sort, cursor)', tag: 'Keys', query: listQuery, response: keyPageDoc } } }, async (req) => {
    authorize(req.actor, 'key.list');
    return list(req.actor, req.query);
  });
}
