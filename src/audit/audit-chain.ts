// The tamper-evident chain of audit events (docs/people.md, "Audit trail").
//
//   org's head ──► event n: prev_hash = hash(n-1), hash = SHA-256(canonical(n))
//
// Each organization has its own chain: every event stores the hash of the organization's previous
// event (GENESIS for the first) and its own hash over a canonical serialization of all its fields,
// its id and prev_hash included. Editing a row changes its hash; deleting or inserting one breaks
// the next event's prev_hash; removing the latest ones leaves the head (audit_heads) pointing past
// the end. `tollgate audit verify` (verify.ts) walks the chains and names the first broken link.
//
// Appends never fork: the writer locks the organization's audit_heads row for the rest of its
// transaction (PostgreSQL: FOR UPDATE; SQLite runs one writer at a time anyway), takes the next id,
// computes the hash and inserts the row once — no event is ever updated after it is written. The
// id is reserved before the insert because it is hashed; under the head lock, reserved ids grow in
// chain order, so walking an organization's events by id walks its chain.
import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { AuditEventsTable, Database } from '../db/types.ts';

/** prev_hash of an organization's first event. */
export const GENESIS = '0'.repeat(64);
/** Names the serialization below; a future change of it would hash under another name. */
const FORMAT = 'tollgate-audit-v1';

/** Every stored column the hash covers (all of them but `hash`). */
export type ChainedEvent = Omit<AuditEventsTable, 'id' | 'hash'> & { id: number };
export type NewEvent = Omit<ChainedEvent, 'id' | 'prev_hash'>;

const num = (v: number | string | null | undefined): number | null => (v == null ? null : Number(v));

/**
 * SHA-256 (hex) of the event's canonical form: a JSON array of its fields in a fixed order, numbers
 * as numbers (PostgreSQL's bigint and SQLite's integer read back alike), text exactly as stored —
 * before/after are hashed as their stored JSON text, so nothing depends on re-serializing them.
 */
export function eventHash(e: ChainedEvent): string {
  const canonical = JSON.stringify([
    FORMAT, num(e.org_id), num(e.id), e.created_at, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id,
    num(e.team_id), e.before, e.after, num(e.amount_micro), e.source_ip, e.user_agent, e.prev_hash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The organization's head, locked until the transaction ends; created (at GENESIS) on first use. */
async function lockHead(trx: Kysely<Database>, orgId: number, postgres: boolean): Promise<{ last_hash: string }> {
  await trx.insertInto('audit_heads').values({ org_id: orgId, last_id: 0, last_hash: GENESIS }).onConflict((oc) => oc.column('org_id').doNothing()).execute();
  const q = trx.selectFrom('audit_heads').select('last_hash').where('org_id', '=', orgId);
  return (postgres ? q.forUpdate() : q).executeTakeFirstOrThrow();
}

/** The id the next audit event gets: its sequence's next value (PostgreSQL), or AUTOINCREMENT's (SQLite). */
async function reserveId(trx: Kysely<Database>, postgres: boolean): Promise<number> {
  if (postgres) {
    const { rows } = await sql<{ id: number }>`select nextval(pg_get_serial_sequence('audit_events', 'id')) as id`.execute(trx);
    return Number(rows[0]!.id);
  }
  // AUTOINCREMENT never reuses an id: the next is one past the largest ever given (sqlite_sequence).
  const { rows } = await sql<{ id: number }>`select max(coalesce((select seq from sqlite_sequence where name = 'audit_events'), 0), coalesce((select max(id) from audit_events), 0)) + 1 as id`.execute(trx);
  return Number(rows[0]!.id);
}

/** Appends one event to its organization's chain. `trx` must be a transaction (the head stays locked until it ends). */
export async function appendEvent(trx: Kysely<Database>, event: NewEvent): Promise<{ id: number; hash: string }> {
  if (!trx.isTransaction) throw new Error('appendEvent needs a transaction: the chain head is locked until it commits');
  const postgres = isPostgres(trx);
  const head = await lockHead(trx, event.org_id, postgres);
  const row: ChainedEvent = { ...event, id: await reserveId(trx, postgres), prev_hash: head.last_hash };
  const hash = eventHash(row);
  await trx.insertInto('audit_events').values({ ...row, hash }).execute();
  await trx.updateTable('audit_heads').set({ last_id: row.id, last_hash: hash }).where('org_id', '=', event.org_id).execute();
  return { id: row.id, hash };
}
