// Request log reads, newest first by (created_at, id), always inside one organization.
// Every query is an ordered walk of one of migration 0016's indexes — (org_id | team_id | key_id |
// user_id, created_at, id) — from the cursor, so a page costs the same at row 10 and at row
// 10,000,000. A caller who sees several scopes (a team owner: their teams and their own keys) gets
// one walk per scope, merged here, rather than an OR the database could only answer by sorting.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, RequestLogsTable } from '../db/types.ts';
import { microToUsd } from './spend.repository.ts';

const DAY_MS = 86_400_000;

/** What a listing asks for; every field narrows. Timestamps are canonical ISO text. */
export interface LogFilter {
  orgId: number;
  teamId?: number;
  keyId?: number;
  userId?: number;
  model?: string;
  /** one status code, or a class (4xx: 400–499) */
  status?: { min: number; max: number };
  errorCode?: string;
  endpoint?: string;
  /** created_at ≥ from and < to */
  from?: string;
  to?: string;
}

/** Which rows of the organization the caller may read: all, or these teams' and this user's. */
export type LogVisibility = 'all' | { teams: number[]; userId: number | null };

/** Where a page starts: after a row (the cursor), or after skipping rows (offset; team listing only). */
export type LogPosition = { after: { createdAt: string; id: number } } | { offset: number } | undefined;

/** A log row with the names of its key, user and team (joined by primary key; null when none). */
export type NamedLogRow = Selectable<RequestLogsTable> & { key_name: string | null; user_name: string | null; team_name: string | null };
type Row = NamedLogRow;
export type Scope = { teamId?: number; userId?: number };

export function logView(r: Row) {
  return {
    id: r.id,
    request_id: r.request_id,
    created_at: r.created_at,
    team_id: r.team_id,
    user_id: r.user_id,
    key_id: r.key_id,
    key_name: r.key_name,
    user_name: r.user_name,
    team_name: r.team_name,
    endpoint: r.endpoint,
    model: r.model,
    provider: r.provider,
    status_code: r.status_code,
    error_code: r.error_code,
    streamed: r.streamed === 1,
    tokens_in: Number(r.tokens_in),
    tokens_out: Number(r.tokens_out),
    cached_tokens: Number(r.cached_tokens),
    reasoning_tokens: Number(r.reasoning_tokens),
    cost_usd: r.cost_micro == null ? null : microToUsd(Number(r.cost_micro)),
    unpriced: r.unpriced === 1,
    usage_estimated: r.usage_estimated === 1,
    latency_ms: r.latency_ms,
    upstream_ms: r.upstream_ms,
    ttfb_ms: r.ttfb_ms,
    /** upstream calls it took (fallbacks and retries), and the ones that failed before the answer */
    attempts: Number(r.attempts ?? 1),
    attempt_log: parseAttempts(r.attempt_log),
    /** the client address as resolved (TOLLGATE_TRUST_PROXY): who used the key, e.g. after a leak */
    client_ip: r.client_ip,
  };
}

export interface FailedAttempt { provider: string; credential_id: number; deployment_id: number; status: number; error_code: string | null; ms: number }

/** The stored JSON list of failed attempts ([] when none, or unreadable). */
function parseAttempts(text: string | null | undefined): FailedAttempt[] {
  if (!text) return [];
  try {
    const list: unknown = JSON.parse(text);
    return Array.isArray(list) ? (list as FailedAttempt[]) : [];
  } catch {
    return [];
  }
}

/** The single-request view: every column, and the gateway's own time (latency − upstream). */
export function logDetail(r: Row) {
  return {
    ...logView(r),
    org_id: r.org_id,
    // null when no upstream was called (refused before, or a row from before migration 0014)
    overhead_ms: r.upstream_ms == null ? null : Math.max(0, r.latency_ms - r.upstream_ms),
  };
}

/**
 * One page (at most `limit` rows) of the rows matching `f` that `visibility` lets the caller read.
 * Ask for limit + 1 to learn whether there is a next page.
 */
export async function listLogs(db: Kysely<Database>, f: LogFilter, visibility: LogVisibility, position: LogPosition, limit: number): Promise<Row[]> {
  if (visibility === 'all') return walk(db, f, {}, position, limit);
  if (position && 'offset' in position) throw new Error('offset paging is for a single scope (the team listing)');
  const scopes: Scope[] = [...new Set(visibility.teams)].map((teamId) => ({ teamId }));
  if (visibility.userId !== null) scopes.push({ userId: visibility.userId });
  const pages = await Promise.all(scopes.filter((s) => fits(f, s)).map((s) => walk(db, f, s, position, limit)));
  // A row can be in two scopes (the caller's own key in a team they own): shown once.
  const byId = new Map<number, Row>();
  for (const page of pages) for (const r of page) byId.set(r.id, r);
  return [...byId.values()].sort(newestFirst).slice(0, limit);
}

/** The row of a request id in the organization, if any (the single-request view checks its scope). */
export async function findLog(db: Kysely<Database>, orgId: number, requestId: string): Promise<Row | undefined> {
  // A request id carries no time, so on PostgreSQL (partitioned by day, migration 0025) the lookup
  // probes every day's request_id index, and planning that costs ~20 ms for 100 days. Most lookups
  // are of a recent request: the last day (and anything stamped later) is tried first.
  const since = new Date(Date.now() - DAY_MS).toISOString();
  return (await findIn(db, orgId, requestId, since)) ?? (await findIn(db, orgId, requestId, undefined));
}

async function findIn(db: Kysely<Database>, orgId: number, requestId: string, since: string | undefined): Promise<Row | undefined> {
  let q = withNames(db).where('l.request_id', '=', requestId).where('l.org_id', '=', orgId);
  if (since !== undefined) q = q.where('l.created_at', '>=', since);
  // The newest one if ever there were several, chosen here: asking the database to order by id
  // makes PostgreSQL merge the day partitions in id order, walking their primary keys (a scan of
  // each partition) instead of probing each one's request_id index.
  const rows = await q.limit(16).execute();
  return rows.reduce<Row | undefined>((a, r) => (a === undefined || r.id > a.id ? r : a), undefined);
}

/**
 * request_logs with the names a person reads instead of ids: the key's, the user's (their name,
 * else email, else external id) and the team's. Each is a left join on a primary key, so a page
 * still walks the log index from its cursor and looks up at most `limit` rows of each table
 * (keys, users and teams are never deleted, only marked: a revoked key keeps its name).
 */
function withNames(db: Kysely<Database>) {
  return db.selectFrom('request_logs as l')
    .leftJoin('api_keys as k', 'k.id', 'l.key_id')
    .leftJoin('users as u', 'u.id', 'l.user_id')
    .leftJoin('teams as t', 't.id', 'l.team_id')
    .selectAll('l')
    .select((eb) => [
      'k.name as key_name',
      eb.fn.coalesce('u.name', 'u.email', 'u.external_id').as('user_name'),
      't.name as team_name',
    ]);
}

export function visibleTo(r: Pick<Row, 'team_id' | 'user_id'>, visibility: LogVisibility): boolean {
  if (visibility === 'all') return true;
  return (r.team_id !== null && visibility.teams.includes(r.team_id)) || (visibility.userId !== null && r.user_id === visibility.userId);
}

/** A scope contradicting the filter (another team, another user) has no rows to walk. */
const fits = (f: LogFilter, s: Scope) => (s.teamId === undefined || f.teamId === undefined || s.teamId === f.teamId) && (s.userId === undefined || f.userId === undefined || s.userId === f.userId);

const newestFirst = (a: Row, b: Row) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : b.id - a.id);

/** Days back from the top of the walk that each successive window reaches; the last one is unbounded. */
const WINDOW_DAYS = [1, 7, 30];

/**
 * One scope's page, walked in time windows going back from its top (the cursor, `to`, or now):
 * the last day, the week, the month, then the rest (or down to `from`), stopping once the page is
 * full. On PostgreSQL request_logs is partitioned by day (migration 0025): a query bounded in time
 * reads only its days' partitions, whereas an unbounded one plans and opens an index walk on every
 * partition (measured: ~30 ms for 100 days of partitions instead of ~2 ms). The windows are
 * consecutive and each is walked newest first, so their rows in order are the unbounded walk's.
 * Offset paging (the team listing) stays one query.
 */
async function walk(db: Kysely<Database>, f: LogFilter, scope: Scope, position: LogPosition, limit: number): Promise<Row[]> {
  if (position && 'offset' in position) return logQuery(db, f, scope, position, limit).execute();
  const after = position?.after.createdAt;
  const top = f.to !== undefined && (after === undefined || f.to < after) ? f.to : after;
  const topMs = top === undefined ? Date.now() : Date.parse(top);
  if (Number.isNaN(topMs)) return logQuery(db, f, scope, position, limit).execute();
  const rows: Row[] = [];
  let upper: string | undefined;
  for (const days of [...WINDOW_DAYS, undefined]) {
    const lower = days === undefined ? undefined : new Date(topMs - days * DAY_MS).toISOString();
    // The window: [lower, upper), narrowed by the filter's own range; the first has no upper bound
    // but the filter's and the cursor's (a row stamped after now is still found).
    const last = lower === undefined || (f.from !== undefined && lower <= f.from);
    const window: LogFilter = { ...f, ...(last ? {} : { from: lower }), ...(upper !== undefined ? { to: upper } : {}) };
    rows.push(...(await logQuery(db, window, scope, position, limit - rows.length).execute()));
    if (last || rows.length >= limit) break;
    upper = lower;
  }
  return rows;
}

/** One scope's page as a query (exported for bench/lib/logs-scale.ts, which EXPLAINs it). */
export function logQuery(db: Kysely<Database>, f: LogFilter, scope: Scope, position: LogPosition, limit: number) {
  let q = withNames(db).where('l.org_id', '=', f.orgId);
  const teamId = scope.teamId ?? f.teamId;
  const userId = scope.userId ?? f.userId;
  if (teamId !== undefined) q = q.where('l.team_id', '=', teamId);
  if (userId !== undefined) q = q.where('l.user_id', '=', userId);
  if (f.keyId !== undefined) q = q.where('l.key_id', '=', f.keyId);
  if (f.model !== undefined) q = q.where('l.model', '=', f.model);
  if (f.status !== undefined) q = f.status.min === f.status.max ? q.where('l.status_code', '=', f.status.min) : q.where('l.status_code', '>=', f.status.min).where('l.status_code', '<=', f.status.max);
  if (f.errorCode !== undefined) q = q.where('l.error_code', '=', f.errorCode);
  if (f.endpoint !== undefined) q = q.where('l.endpoint', '=', f.endpoint);
  if (f.from !== undefined) q = q.where('l.created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('l.created_at', '<', f.to);
  // A row-value comparison: both PostgreSQL and SQLite use it as the bound of the index walk.
  // The plain bound on created_at says the same for the rows, and lets PostgreSQL skip the day
  // partitions after the cursor (it does not prune on a row-value comparison).
  if (position && 'after' in position) q = q.where('l.created_at', '<=', position.after.createdAt).where(sql<boolean>`(l.created_at, l.id) < (${position.after.createdAt}, ${position.after.id})`);
  q = q.orderBy('l.created_at', 'desc').orderBy('l.id', 'desc').limit(limit);
  if (position && 'offset' in position && position.offset > 0) q = q.offset(position.offset);
  return q;
}
