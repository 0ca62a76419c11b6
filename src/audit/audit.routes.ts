// GET /api/audit: the organization's audit trail, newest first, filtered and paged by cursor
// (docs/api.md, "Audit"). Admins and viewers read every event of the organization; a team owner
// reads the events of the teams they own (audit.read in auth/permissions.ts). Each event carries
// its chain links (prev_hash, hash), so a reader can check a page against `tollgate audit verify`.
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { authorize } from '../auth/authorize.ts';
import { teamsFor } from '../auth/permissions.ts';
import { ApiError } from '../http/errors.ts';
import { isoDateTime } from '../http/timestamps.ts';
import { parse, queryId } from '../http/validate.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { listAuditEvents, type AuditFilter } from './audit.repository.ts';
import { eventNames, type EventNames } from './audit-names.ts';
import { verifyOrg } from './verify.ts';
import type { AuditEventsTable } from '../db/types.ts';

const ACTOR_TYPE = /^[a-z][a-z_]{0,31}$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$/;

const auditQuery = z.strictObject({
  actor: z.string().max(100).regex(/^[a-z][a-z_]{0,31}:[^\s:]{1,64}$/, 'must be <actor type>:<id>, e.g. user:5, admin_key:3 or admin_key:master').optional(),
  actor_type: z.string().regex(ACTOR_TYPE, 'must be an actor type: admin_key, user or system').optional(),
  action: z.string().max(100).regex(ACTION, 'must be an action (key.create) or a prefix of one ending in .* (key.*)').optional(),
  target_type: z.string().min(1, 'must not be empty').max(64).optional(),
  target_id: z.string().min(1, 'must not be empty').max(200).optional(),
  team_id: queryId.optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// An ISO date-time with an offset can fall outside years 0000-9999 in UTC, whose toISOString no
// longer compares as text with the stored ones; the bounds of a filter are clamped to them.
const EARLIEST = Date.parse('0000-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const instant = (v: string) => new Date(Math.min(LATEST, Math.max(EARLIEST, Date.parse(v)))).toISOString();

/** The cursor is the id of the last event shown (opaque to clients: base64url of ["audit", id]). */
const encodeCursor = (id: number) => Buffer.from(JSON.stringify(['audit', id])).toString('base64url');
function decodeCursor(cursor: string): number {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch { /* refused below */ }
  const id = Array.isArray(parsed) && parsed.length === 2 && parsed[0] === 'audit' ? parsed[1] : undefined;
  if (!(Number.isInteger(id) && (id as number) >= 1 && (id as number) <= Number.MAX_SAFE_INTEGER)) {
    throw new ApiError('invalid_request', 'query.cursor: is not a cursor returned by this listing (next_cursor)', 'query.cursor');
  }
  return id as number;
}

const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: shown as stored (verify reports such a row as edited)
  }
};

export function eventView(r: Selectable<AuditEventsTable>, names: EventNames = { actor_name: null, target_name: null }) {
  return {
    id: r.id,
    at: r.created_at,
    actor: `${r.actor_type}:${r.actor_id ?? 'unknown'}`,
    actor_type: r.actor_type,
    actor_id: r.actor_id,
    actor_name: names.actor_name,
    action: r.action,
    target_type: r.target_type,
    target_id: r.target_id,
    target_name: names.target_name,
    team_id: r.team_id,
    before: parseJson(r.before),
    after: parseJson(r.after),
    amount_usd: r.amount_micro == null ? null : microToUsd(r.amount_micro),
    source_ip: r.source_ip,
    user_agent: r.user_agent,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

const eventDoc = z.object({
  id: z.number(), at: z.string(), actor: z.string(), actor_type: z.string(), actor_id: z.string().nullable(),
  actor_name: z.string().nullable().describe('who acted, as a person reads it: a name or email, a management key\'s name, "Master key", a label for the system\'s own jobs; null when unknown'),
  action: z.string(), target_type: z.string(), target_id: z.string().nullable(),
  target_name: z.string().nullable().describe("the target's name (a key, team, user, provider, access group, management key, service account, member; a deleted one's as its event recorded it); null when none"),
  team_id: z.number().nullable(),
  before: z.unknown().describe('the object before the change (secrets redacted), or null'),
  after: z.unknown().describe('the object after the change (secrets redacted), or null'),
  amount_usd: z.number().nullable(), source_ip: z.string().nullable(), user_agent: z.string().nullable(),
  prev_hash: z.string().nullable(), hash: z.string().nullable(),
});
const auditPage = z.object({ data: z.array(eventDoc), limit: z.number(), next_cursor: z.string().nullable() });

const verifyDoc = z.object({
  ok: z.boolean(),
  events: z.number().describe('events verified (before the break, when broken)'),
  head: z.string().nullable().describe("the chain's last hash when ok"),
  event_id: z.number().nullable().describe('where the chain breaks'),
  problem: z.enum(['prev_hash_mismatch', 'hash_mismatch', 'head_mismatch']).nullable(),
  detail: z.string().nullable(),
});

export function registerAuditRoutes(api: FastifyInstance, deps: Deps): void {
  // The same check as `tollgate audit verify --org`, for the caller's organization: every event's
  // link to the one before and its own hash, then the recorded head (audit/verify.ts).
  api.get('/audit/verify', { config: { action: 'audit.verify', doc: { summary: "Verify the organization's audit chain (deleted, inserted or edited events)", tag: 'Audit', response: verifyDoc } } }, async (req) => {
    authorize(req.actor, 'audit.verify');
    const v = await verifyOrg(deps.db.kysely, req.actor.orgId);
    return v.ok
      ? { ok: true, events: v.events, head: v.head, event_id: null, problem: null, detail: null }
      : { ok: false, events: v.events, head: null, event_id: v.eventId, problem: v.problem, detail: v.detail };
  });
  api.get('/audit', { config: { action: 'audit.read', doc: { summary: 'Audit events (filters, cursor)', tag: 'Audit', query: auditQuery, response: auditPage } } }, async (req) => {
    authorize(req.actor, 'audit.read');
    const q = parse(auditQuery, req.query, 'query');
    const teams = teamsFor(req.actor, 'audit.read');
    // A team owner asking for a team they do not own is refused, not shown an empty page.
    if (q.team_id !== undefined && teams !== 'all') authorize(req.actor, 'audit.read', { teamId: q.team_id });
    const from = q.from === undefined ? undefined : instant(q.from);
    const to = q.to === undefined ? undefined : instant(q.to);
    if (from !== undefined && to !== undefined && from >= to) throw new ApiError('invalid_request', 'query.to: must be after from', 'query.to');
    const [actorType, actorId] = q.actor === undefined ? [] : [q.actor.slice(0, q.actor.indexOf(':')), q.actor.slice(q.actor.indexOf(':') + 1)];
    if (q.actor !== undefined && q.actor_type !== undefined && q.actor_type !== actorType) {
      throw new ApiError('invalid_request', `query.actor_type: contradicts actor (${actorType})`, 'query.actor_type');
    }
    const filter: AuditFilter = {
      orgId: req.actor.orgId,
      ...(teams === 'all' ? {} : { visibleTeams: teams }),
      ...(actorType !== undefined ? { actorType, actorId } : {}),
      ...(q.actor_type !== undefined && actorType === undefined ? { actorType: q.actor_type } : {}),
      ...(q.action === undefined ? {} : q.action.endsWith('.*') ? { action: { prefix: q.action.slice(0, -1) } } : { action: { exact: q.action } }),
      ...(q.target_type !== undefined ? { targetType: q.target_type } : {}),
      ...(q.target_id !== undefined ? { targetId: q.target_id } : {}),
      ...(q.team_id !== undefined ? { teamId: q.team_id } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(q.cursor !== undefined ? { beforeId: decodeCursor(q.cursor) } : {}),
      limit: q.limit + 1,
    };
    const rows = await listAuditEvents(deps.db.kysely, filter);
    const page = rows.slice(0, q.limit);
    const names = await eventNames(deps.db.kysely, req.actor.orgId, page);
    return {
      data: page.map((e) => eventView(e, names.get(e.id))),
      limit: q.limit,
      next_cursor: rows.length > q.limit ? encodeCursor(page.at(-1)!.id) : null,
    };
  });
}
