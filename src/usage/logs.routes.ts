// GET /api/logs and GET /api/logs/{requestId}: the organization's request logs, filtered and paged
// by cursor, newest first (docs/observability.md, "Request logs"). Every caller may ask (logs.read);
// what they see is narrowed here: admins and viewers the whole organization, team owners their
// teams, anyone else the requests made with their own keys; a team-scoped management key its
// team's. GET /api/teams/{id}/logs (teams.routes.ts) takes the same filters through parseLogQuery.
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import type { RequestLogsTable } from '../db/types.ts';
import { authorize } from '../auth/authorize.ts';
import { teamsFor } from '../auth/permissions.ts';
import { ApiError } from '../http/errors.ts';
import { isoDateTime } from '../http/timestamps.ts';
import { MAX_INT32, parse, queryId } from '../http/validate.ts';
import { findLog, listLogs, logDetail, logView, visibleTo, type NamedLogRow, type LogFilter, type LogPosition, type LogVisibility } from './logs.repository.ts';

const filterFields = {
  key_id: queryId.optional(),
  user_id: queryId.optional(),
  model: z.string().min(1, 'must not be empty').max(256).optional(),
  status: z.string().regex(/^[1-5]([0-9][0-9]|xx)$/, 'must be a status code (429) or a class (4xx, 5xx)').optional(),
  error_code: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be an error code, e.g. budget_exceeded').optional(),
  endpoint: z.string().regex(/^[a-z0-9][a-z0-9/_.-]{0,63}$/, 'must be an endpoint, e.g. chat/completions').optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  cursor: z.string().max(200).optional(),
};

export const logsQuery = z.strictObject({
  team_id: queryId.optional(),
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** The team listing keeps seed 000's limit/offset (and its larger limit) beside the cursor. */
export const teamLogsQuery = z.strictObject({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(MAX_INT32).optional(),
});

const logEntry = z.object({
  id: z.number(), request_id: z.string(), created_at: z.string(), team_id: z.number().nullable(), user_id: z.number().nullable(), key_id: z.number(),
  key_name: z.string().nullable().describe("the key's name (a revoked key's too)"),
  user_name: z.string().nullable().describe("the user's name, else email, else external id; null for a service account's key"),
  team_name: z.string().nullable().describe("the team's name (a deleted team's too)"),
  endpoint: z.string(), model: z.string(), provider: z.string().nullable(), status_code: z.number(), error_code: z.string().nullable(), streamed: z.boolean(),
  tokens_in: z.number(), tokens_out: z.number(), cached_tokens: z.number(), reasoning_tokens: z.number(), cost_usd: z.number().nullable(), unpriced: z.boolean(),
  usage_estimated: z.boolean(), latency_ms: z.number(), upstream_ms: z.number().nullable(), ttfb_ms: z.number().nullable(), client_ip: z.string().nullable(),
  attempts: z.number().describe('upstream calls the request took: 1, or more after fallbacks and retries'),
  attempt_log: z.array(z.object({
    provider: z.string(), credential_id: z.number(), deployment_id: z.number(), status: z.number().describe('upstream HTTP status; 502 connection error, 504 timeout'),
    error_code: z.string().nullable(), ms: z.number(),
  })).describe('the attempts that failed before the one that answered, in order'),
});
export const logPage = z.object({ data: z.array(logEntry), limit: z.number(), next_cursor: z.string().nullable() });
export const teamLogPage = logPage.extend({ offset: z.number() });
const logDetailDoc = logEntry.extend({ org_id: z.number(), overhead_ms: z.number().nullable() });

// Bounds of a filter are clamped to years 0000–9999, whose ISO text compares like the instants.
const EARLIEST = Date.parse('0000-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const instant = (v: string) => new Date(Math.min(LATEST, Math.max(EARLIEST, Date.parse(v)))).toISOString();
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The cursor is the last row shown, (created_at, id), opaque to clients: base64url of ["logs", at, id]. */
export const encodeCursor = (r: Pick<Selectable<RequestLogsTable>, 'created_at' | 'id'>) => Buffer.from(JSON.stringify(['logs', r.created_at, r.id])).toString('base64url');
function decodeCursor(cursor: string): { createdAt: string; id: number } {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch { /* refused below */ }
  const [tag, createdAt, id] = Array.isArray(parsed) && parsed.length === 3 ? parsed : [];
  if (tag !== 'logs' || typeof createdAt !== 'string' || !CANONICAL.test(createdAt) || !(Number.isSafeInteger(id) && id >= 1)) {
    throw new ApiError('invalid_request', 'query.cursor: is not a cursor returned by this listing (next_cursor)', 'query.cursor');
  }
  return { createdAt, id };
}

/** The filter, position and limit of a listing query (GET /api/logs, GET /api/teams/{id}/logs). */
export function parseLogQuery(q: z.infer<typeof logsQuery> | z.infer<typeof teamLogsQuery>, orgId: number): { filter: LogFilter; position: LogPosition } {
  const from = q.from === undefined ? undefined : instant(q.from);
  const to = q.to === undefined ? undefined : instant(q.to);
  if (from !== undefined && to !== undefined && from >= to) throw new ApiError('invalid_request', 'query.to: must be after from', 'query.to');
  const offset = 'offset' in q ? q.offset : undefined;
  if (offset !== undefined && q.cursor !== undefined) throw new ApiError('invalid_request', 'query.offset: give either offset or cursor, not both', 'query.offset');
  const status = q.status === undefined ? undefined : q.status.endsWith('xx') ? { min: Number(q.status[0]) * 100, max: Number(q.status[0]) * 100 + 99 } : { min: Number(q.status), max: Number(q.status) };
  const filter: LogFilter = {
    orgId,
    ...('team_id' in q && q.team_id !== undefined ? { teamId: q.team_id } : {}),
    ...(q.key_id !== undefined ? { keyId: q.key_id } : {}),
    ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
    ...(q.model !== undefined ? { model: q.model } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(q.error_code !== undefined ? { errorCode: q.error_code } : {}),
    ...(q.endpoint !== undefined ? { endpoint: q.endpoint } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
  const position: LogPosition = q.cursor !== undefined ? { after: decodeCursor(q.cursor) } : offset !== undefined ? { offset } : undefined;
  return { filter, position };
}

/** The rows of the organization this caller may read (see the top of this file). */
export function logVisibility(actor: Actor): LogVisibility {
  const teams = teamsFor(actor, 'team.logs.read');
  if (teams === 'all') return 'all';
  // A team-scoped management key acts for no person: it reads its team's requests, whatever its role.
  const ownTeam = actor.type === 'admin_key' && actor.userId === null ? [...(actor.teams?.keys() ?? [])] : [];
  return { teams: [...teams, ...ownTeam], userId: actor.userId };
}

/** A page and the cursor after it (null on the last page). */
export function pageOf(rows: NamedLogRow[], limit: number) {
  const page = rows.slice(0, limit);
  return { data: page.map(logView), next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
}

export function registerLogRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.get('/logs', {
    config: {
      action: 'logs.read',
      doc: { summary: 'List request logs', description: 'Newest first, filtered, paged by cursor (next_cursor). Narrowed to what the caller may read: the organization (admins, viewers), their teams (team owners), their own keys (anyone else).', tag: 'Usage', query: logsQuery, response: logPage },
    },
  }, async (req) => {
    authorize(req.actor, 'logs.read');
    const q = parse(logsQuery, req.query, 'query');
    const { filter, position } = parseLogQuery(q, req.actor.orgId);
    // This replica's queued rows are written first; other replicas' within TOLLGATE_LOG_FLUSH_MS.
    await deps.logWriter.flush();
    const rows = await listLogs(db, filter, logVisibility(req.actor), position, q.limit + 1);
    return { ...pageOf(rows, q.limit), limit: q.limit };
  });

  api.get<{ Params: { requestId: string } }>('/logs/:requestId', {
    config: {
      action: 'logs.read',
      doc: { summary: 'One request', description: 'Every recorded column of one request (its x-request-id), with the gateway\'s own time (overhead_ms = latency_ms − upstream_ms). 404 outside what the caller may read.', tag: 'Usage', response: logDetailDoc },
    },
  }, async (req) => {
    authorize(req.actor, 'logs.read');
    const requestId = req.params.requestId;
    // (Fastify answers 414 for a parameter longer than its maxParamLength, 100.)
    const notFound = () => new ApiError('not_found', `request ${requestId} not found`);
    // Request ids are UUIDs (randomUUID on the hot path): anything else names no request, and never
    // reaches the database (PostgreSQL refuses a NUL in text).
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requestId)) throw new ApiError('not_found', 'request not found: a request id is a UUID (the x-request-id header of its answer)');
    await deps.logWriter.flush();
    const row = await findLog(db, req.actor.orgId, requestId);
    // Out of the caller's scope reads exactly like a request that does not exist.
    if (!row || !visibleTo(row, logVisibility(req.actor))) throw notFound();
    return logDetail(row);
  });
}
