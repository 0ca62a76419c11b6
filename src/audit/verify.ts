// The verifier of the audit chain (audit-chain.ts), behind `tollgate audit verify [--org N]`.
// Walks each organization's events in id order, in one snapshot, and stops at the first broken
// link, naming what it means:
//   prev_hash_mismatch  the event does not follow the one before it: an event was deleted or
//                       inserted between them (or it was written outside the chain)
//   hash_mismatch       the event's fields no longer hash to its stored hash: the row was edited
//   head_mismatch       the chain ends elsewhere than the head recorded at the last append: the
//                       latest events were removed (or some appended outside the chain)
// It reads the stored rows only, so it also catches what a database superuser changed with the
// append-only trigger switched off.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { eventHash, GENESIS, isPostgres } from './audit-chain.ts';

export type Problem = 'prev_hash_mismatch' | 'hash_mismatch' | 'head_mismatch';

export type OrgVerification =
  | { orgId: number; ok: true; events: number; head: string }
  | { orgId: number; ok: false; events: number; eventId: number | null; problem: Problem; detail: string };

const PAGE = 1000;

/** Every organization with an audit trail (or only `orgId`), each verified. */
export async function verifyAudit(db: Kysely<Database>, opts: { orgId?: number; pageSize?: number } = {}): Promise<OrgVerification[]> {
  const orgs = opts.orgId !== undefined ? [opts.orgId] : await orgsWithTrail(db);
  const out: OrgVerification[] = [];
  for (const orgId of orgs) out.push(await verifyOrg(db, orgId, opts.pageSize ?? PAGE));
  return out;
}

async function orgsWithTrail(db: Kysely<Database>): Promise<number[]> {
  const events = await db.selectFrom('audit_events').select('org_id').distinct().execute();
  const heads = await db.selectFrom('audit_heads').select('org_id').execute();
  return [...new Set([...events, ...heads].map((r) => Number(r.org_id)))].sort((a, b) => a - b);
}

/** One organization's chain, read in one snapshot so that appends made meanwhile do not look like a break. */
export async function verifyOrg(db: Kysely<Database>, orgId: number, pageSize = PAGE): Promise<OrgVerification> {
  let tx = db.transaction();
  if (isPostgres(db)) tx = tx.setIsolationLevel('repeatable read').setAccessMode('read only');
  return tx.execute(async (trx) => {
    let expected = GENESIS;
    let previous: number | null = null;
    let events = 0;
    const broken = (eventId: number | null, problem: Problem, detail: string): OrgVerification => ({ orgId, ok: false, events, eventId, problem, detail });
    for (let after = 0; ; ) {
      const rows = await trx.selectFrom('audit_events').selectAll().where('org_id', '=', orgId).where('id', '>', after).orderBy('id').limit(pageSize).execute();
      for (const r of rows) {
        const id = Number(r.id);
        if (r.prev_hash !== expected) {
          const before = previous === null ? 'the genesis value (it is not the first event)' : `event ${previous}'s hash`;
          return broken(id, 'prev_hash_mismatch', r.prev_hash === null
            ? 'the event has no prev_hash: it was written outside the chain'
            : `prev_hash is not ${before}: an event before it was deleted or inserted`);
        }
        if (eventHash({ ...r, id }) !== r.hash) return broken(id, 'hash_mismatch', 'the event no longer matches its hash: the row was edited');
        expected = r.hash;
        previous = id;
        events++;
      }
      if (rows.length < pageSize) break;
      after = Number(rows.at(-1)!.id);
    }
    const head = await trx.selectFrom('audit_heads').select(['last_id', 'last_hash']).where('org_id', '=', orgId).executeTakeFirst();
    if (!head) {
      if (events === 0) return { orgId, ok: true, events, head: GENESIS };
      return broken(previous, 'head_mismatch', 'the organization has events but no recorded head');
    }
    const headId = Number(head.last_id);
    if (headId === (previous ?? 0) && head.last_hash === expected) return { orgId, ok: true, events, head: expected };
    if (headId > (previous ?? 0)) {
      return broken(previous, 'head_mismatch', `the head is event ${headId} but the chain ends at ${previous === null ? 'no event' : `event ${previous}`}: the latest events were removed`);
    }
    if (headId < (previous ?? 0)) {
      return broken(previous, 'head_mismatch', `the head is event ${headId} but the chain goes on to event ${previous}: events were appended outside the chain`);
    }
    return broken(previous, 'head_mismatch', `the last event's hash is not the head's: event ${headId} was replaced`);
  });
}

/** One line for the operator: `org 1: ok: 12 events, head <hash>`, or the first broken link. */
export function describe(v: OrgVerification): string {
  if (v.ok) return `org ${v.orgId}: ok: ${v.events} events, head ${v.head}`;
  const where = v.eventId === null ? 'at the head' : `at event ${v.eventId}`;
  return `org ${v.orgId}: broken ${where}: ${v.problem}: ${v.detail} (${v.events} events verified before it)`;
}
