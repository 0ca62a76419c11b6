// Audit events: who did what to which object, before/after with secrets never present.
// Written inside the same transaction as the change it records, so neither exists without the other.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Actor } from '../http/actor.ts';

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

const SECRET_FIELDS = new Set(['key', 'api_key', 'secret', 'secret_enc', 'key_hash', 'password', 'token']);

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELDS.has(k) ? '[redacted]' : redact(v);
    return out;
  }
  return value;
}

export async function recordAudit(db: Kysely<Database>, actor: Actor, input: AuditInput, at: string): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      created_at: at,
      org_id: input.orgId,
      team_id: input.teamId ?? null,
      actor_type: actor.type,
      actor_id: actor.id,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId == null ? null : String(input.targetId),
      before: input.before === undefined ? null : JSON.stringify(redact(input.before)),
      after: input.after === undefined ? null : JSON.stringify(redact(input.after)),
      amount_micro: input.amountMicro ?? null,
      source_ip: actor.ip,
    })
    .execute();
}
