// Audit events: who did what to which object, from where, before/after with secrets never present.
// Written inside the same transaction as the change it records, so neither exists without the
// other, and appended to the organization's tamper-evident chain (audit-chain.ts). The table is
// append-only: nothing here (or anywhere) updates or deletes an event.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Actor } from '../http/actor.ts';
import { appendEvent, type NewEvent } from './audit-chain.ts';
import { redact, redactText } from './redact.ts';

export { redact } from './redact.ts';

export interface AuditInput {
  orgId: number;
  teamId?: number | null;
  action: string;
  targetType: string;
  targetId?: string | number | null;
  before?: unknown;
  after?: unknown;
  amountMicro?: number | null;
}

/** Longer user agents are cut (they are the client's to choose). */
const USER_AGENT_MAX = 500;

function eventOf(actor: Actor, input: AuditInput, at: string): NewEvent {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(redact(v)));
  return {
    created_at: at,
    org_id: input.orgId,
    team_id: input.teamId ?? null,
    actor_type: actor.type,
    actor_id: actor.id,
    action: input.action,
    target_type: input.targetType,
    target_id: input.targetId == null ? null : String(input.targetId),
    before: json(input.before),
    after: json(input.after),
    amount_micro: input.amountMicro ?? null,
    source_ip: actor.ip,
    user_agent: actor.userAgent ? redactText(actor.userAgent.slice(0, USER_AGENT_MAX)) : null,
  };
}

/**
 * Records one event. Inside a transaction it joins it (the organization's chain head stays locked
 * until that commits); otherwise it runs in a transaction of its own.
 */
export async function recordAudit(db: Kysely<Database>, actor: Actor, input: AuditInput, at: string): Promise<void> {
  const event = eventOf(actor, input, at);
  if (db.isTransaction) await appendEvent(db, event);
  else await db.transaction().execute((trx) => appendEvent(trx, event));
}

/** What GET /api/audit asks for (audit.routes.ts); every field narrows. */
export interface AuditFilter {
  orgId: number;
  /** only events of these teams (a team owner's view); undefined: the whole organization */
  visibleTeams?: number[];
  actorType?: string;
  actorId?: string;
  /** an exact action, or a prefix ending in '.' (`key.` for `key.*`) */
  action?: { exact: string } | { prefix: string };
  targetType?: string;
  targetId?: string;
  teamId?: number;
  /** created_at ≥ from and < to (canonical ISO text) */
  from?: string;
  to?: string;
  /** events older than this id (the cursor) */
  beforeId?: number;
  limit: number;
}

/** Newest first: the organization's (org_id, id) index walks backwards from the cursor. */
export async function listAuditEvents(db: Kysely<Database>, f: AuditFilter) {
  let q = db.selectFrom('audit_events').selectAll().where('org_id', '=', f.orgId);
  if (f.visibleTeams) q = f.visibleTeams.length ? q.where('team_id', 'in', f.visibleTeams) : q.where(sql<boolean>`1 = 0`);
  if (f.actorType !== undefined) q = q.where('actor_type', '=', f.actorType);
  if (f.actorId !== undefined) q = q.where('actor_id', '=', f.actorId);
  if (f.action && 'exact' in f.action) q = q.where('action', '=', f.action.exact);
  // LIKE with '_' and '%' escaped: an action name holds '_' (key.rotation_schedule.set).
  if (f.action && 'prefix' in f.action) q = q.where(sql<boolean>`action like ${f.action.prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%'} escape '\\'`);
  if (f.targetType !== undefined) q = q.where('target_type', '=', f.targetType);
  if (f.targetId !== undefined) q = q.where('target_id', '=', f.targetId);
  if (f.teamId !== undefined) q = q.where('team_id', '=', f.teamId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}
