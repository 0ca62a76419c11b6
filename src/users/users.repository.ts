// Users: people (or identities from your IdP) who own keys. external_id is your identifier for
// them (email, employee id) and is unique within an organization.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, UsersTable } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';

export type UserRow = Selectable<UsersTable>;

export function userView(u: UserRow) {
  return { id: u.id, external_id: u.external_id, name: u.name, email: u.email, role: u.role, status: u.status, created_at: u.created_at, updated_at: u.updated_at };
}

export async function findUser(db: Kysely<Database>, orgId: number, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export async function getUser(db: Kysely<Database>, orgId: number, id: number): Promise<UserRow> {
  const user = await findUser(db, orgId, id);
  if (!user) throw new ApiError('not_found', `user ${id} not found`);
  return user;
}

export async function listUsers(db: Kysely<Database>, orgId: number, limit: number, offset: number): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().where('org_id', '=', orgId).orderBy('id').limit(limit).offset(offset).execute();
}

export interface UserInput {
  externalId: string;
  name?: string | null | undefined;
  email?: string | null | undefined;
  role?: 'admin' | 'member' | 'viewer' | undefined;
}

export async function insertUser(trx: Transaction<Database>, orgId: number, input: UserInput, at: string): Promise<UserRow> {
  const taken = await trx.selectFrom('users').select('id').where('org_id', '=', orgId).where('external_id', '=', input.externalId).executeTakeFirst();
  if (taken) throw new ApiError('conflict', `a user with external_id "${input.externalId}" already exists`, 'external_id');
  return trx
    .insertInto('users')
    .values({ org_id: orgId, external_id: input.externalId, name: input.name ?? null, email: input.email ?? null, role: input.role ?? 'member', created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function addMembership(trx: Transaction<Database>, teamId: number, userId: number, role: 'owner' | 'member', at: string): Promise<void> {
  await trx
    .insertInto('memberships')
    .values({ team_id: teamId, user_id: userId, role, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet({ role, updated_at: at }))
    .execute();
}
