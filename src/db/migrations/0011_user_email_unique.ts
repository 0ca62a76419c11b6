// Frozen once landed. A user's email is unique within an organization, compared lower-cased
// (docs/people.md, "Users"): sign-in finds a person by email, so two users of one organization with
// the same address would make it ambiguous. The API checks it first to answer 409 naming `email`;
// this index makes it hold for every path that writes users (invitations, OIDC just-in-time users,
// the first admin) and under concurrent requests. It replaces 0008's plain index on the same
// expression.
//
// Users created before 0008 could share an email (nothing checked it then). Rather than pick one
// and change the others, the migration stops and names them: fix them (PATCH /api/users/{id}
// {"email": …} on an older version, or SQL), then start again.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  const dupes = await sql<{ org_id: number; email: string; n: number }>`
    select org_id, lower(email) as email, count(*) as n from users where email is not null
    group by org_id, lower(email) having count(*) > 1 order by org_id limit 20`.execute(db);
  if (dupes.rows.length > 0) {
    const list = dupes.rows.map((r) => `org ${r.org_id}: ${r.email} (${Number(r.n)} users)`).join('; ');
    throw new Error(`migration 0011: users share an email within an organization, which sign-in cannot tell apart; give each a distinct email (or none) and start again: ${list}`);
  }
  await sql`create unique index users_org_email_unique on users (org_id, lower(email)) where email is not null`.execute(db);
  await sql`drop index users_org_email_idx`.execute(db);
}
