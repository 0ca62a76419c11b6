// Frozen once landed. invitations.user_id: the existing user an invitation completes (an account
// made by an admin or by single sign-on, with no password yet), fixed when the invitation is
// created. Whoever holds an invitation's token may set that user's password, so only an inviter
// allowed to create such a user (an organization admin) may bind one; an invitation without it
// always creates a new user, and is refused at acceptance if its email or external id has meanwhile
// been taken — so the holder of a team owner's invitation can never take over an existing account.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('invitations').addColumn('user_id', 'integer', (c) => c.references('users.id')).execute();
}
