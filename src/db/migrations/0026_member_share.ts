// Frozen once landed. Issue 15 / seed 001: "a single user cannot exhaust team quota alone". A team's
// policy may give each member a share of the team's token limits (tpm, tpd): 'fair' (the limit
// divided among the team's active members) or a fraction such as '0.25'. Stored as text.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('policies').addColumn('member_share', 'text').execute();
}
