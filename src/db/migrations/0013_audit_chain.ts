// Frozen once landed. The audit trail becomes tamper-evident and append-only (docs/people.md,
// "Audit trail"; src/audit/audit-chain.ts):
// - Events written before the chain existed are chained now, per organization in id order, and
//   each organization's head is recorded, so `tollgate audit verify` covers the whole history.
//   The hash is computed here with its own copy of the v1 serialization (a migration never changes
//   with the code); the audit tests verify the chain this writes.
// - Indexes for the trail's filters by actor and by target (GET /api/audit).
// - PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE on audit_events unless the session
//   has set tollgate.audit_maintenance = 'on' (deliberate maintenance by an operator), so no path of
//   the application can rewrite history silently. `verify` still catches what a superuser changes.
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

const GENESIS = '0'.repeat(64);
const PAGE = 1000;

interface Row {
  id: number; org_id: number; created_at: string; actor_type: string; actor_id: string | null; action: string;
  target_type: string; target_id: string | null; team_id: number | null; before: string | null; after: string | null;
  amount_micro: number | null; source_ip: string | null; user_agent: string | null;
}

const num = (v: number | string | null): number | null => (v == null ? null : Number(v));

function hashV1(r: Row, prev: string): string {
  const canonical = JSON.stringify([
    'tollgate-audit-v1', num(r.org_id), num(r.id), r.created_at, r.actor_type, r.actor_id, r.action, r.target_type, r.target_id,
    num(r.team_id), r.before, r.after, num(r.amount_micro), r.source_ip, r.user_agent, prev,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const orgs = await sql<{ org_id: number }>`select distinct org_id from audit_events order by org_id`.execute(db);
  for (const { org_id } of orgs.rows) {
    let prev = GENESIS;
    let lastId = 0;
    for (;;) {
      const page = await sql<Row>`
        select id, org_id, created_at, actor_type, actor_id, action, target_type, target_id, team_id, before, after, amount_micro, source_ip, user_agent
        from audit_events where org_id = ${org_id} and id > ${lastId} order by id limit ${PAGE}`.execute(db);
      if (page.rows.length === 0) break;
      const links: Array<{ id: number; prev: string; hash: string }> = [];
      for (const r of page.rows) {
        const hash = hashV1(r, prev);
        links.push({ id: Number(r.id), prev, hash });
        prev = hash;
        lastId = Number(r.id);
      }
      // One UPDATE … FROM (VALUES …) per page (SQLite names a VALUES list's columns column1…).
      if (dialect === 'postgres') {
        const values = sql.join(links.map((l) => sql`(${l.id}::bigint, ${l.prev}, ${l.hash})`));
        await sql`update audit_events as a set prev_hash = v.prev, hash = v.hash from (values ${values}) as v(id, prev, hash) where a.id = v.id`.execute(db);
      } else {
        const values = sql.join(links.map((l) => sql`(${l.id}, ${l.prev}, ${l.hash})`));
        await sql`update audit_events set prev_hash = v.column2, hash = v.column3 from (values ${values}) as v where audit_events.id = v.column1`.execute(db);
      }
    }
    await sql`insert into audit_heads (org_id, last_id, last_hash) values (${org_id}, ${lastId}, ${prev})
      on conflict (org_id) do update set last_id = excluded.last_id, last_hash = excluded.last_hash`.execute(db);
  }

  await db.schema.createIndex('audit_events_actor_idx').on('audit_events').columns(['org_id', 'actor_type', 'actor_id', 'id']).execute();
  await db.schema.createIndex('audit_events_target_idx').on('audit_events').columns(['org_id', 'target_type', 'target_id', 'id']).execute();

  if (dialect === 'postgres') {
    await sql`
      create function tollgate_audit_append_only() returns trigger language plpgsql as $$
      begin
        if current_setting('tollgate.audit_maintenance', true) = 'on' then
          if tg_op = 'DELETE' then return old; end if;
          return new;
        end if;
        raise exception 'audit_events is append-only: % refused (an operator may set tollgate.audit_maintenance = ''on'' for deliberate maintenance)', tg_op
          using errcode = 'insufficient_privilege';
      end
      $$`.execute(db);
    await sql`create trigger audit_events_append_only before update or delete on audit_events for each row execute function tollgate_audit_append_only()`.execute(db);
    await sql`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function tollgate_audit_append_only()`.execute(db);
  }
}
