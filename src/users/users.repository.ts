// Users: people (or identities from your IdP) who own keys and sign in. external_id is your
// identifier for them (email, employee id); it and the email (compared lower-cased) are unique
// within an organization (migrations 0001 and 0011).
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, UsersTable } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';

export type UserRow = Selectable<UsersTable>;
export type OrgRoleName = 'admin' | 'member' | 'viewer';
export type UserStatus = 'active' | 'deactivated';

/** What the API shows of a user: never the password hash, only whether there is one. */
export function userView(u: UserRow) {
  return {
    id: u.id, external_id: u.external_id, name: u.name, email: u.email, role: u.role, status: u.status,
    password_set: u.password_hash !== null, last_login_at: u.last_login_at, deactivated_at: u.deactivated_at,
    created_at: u.created_at, updated_at: u.updated_at,
  };
}

export async function findUser(db: Kysely<Database>, orgId: number, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export async function getUser(db: Kysely<Database>, orgId: number, id: number): Promise<UserRow> {
  const user = await findUser(db, orgId, id);
  if (!user) throw new ApiError('not_found', `user ${id} not found`);
  return user;
}

export interface UserFilter {
  externalId?: string | undefined;
  /** exact, case-insensitive */
  email?: string | undefined;
  /** a case-insensitive substring of external_id, email or name */
  q?: string | undefined;
  teamId?: number | undefined;
  role?: OrgRoleName | undefined;
  status?: UserStatus | undefined;
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern built from input. */
export function likeSubstring(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

/** One page in id order: after `after` (cursor), or skipping `offset` rows (legacy paging). */
export async function listUsers(db: Kysely<Database>, orgId: number, filter: UserFilter, page: { limit: number; after?: number | undefined; offset?: number | undefined }): Promise<UserRow[]> {
  let q = db.selectFrom('users').selectAll().where('org_id', '=', orgId);
  if (filter.externalId !== undefined) q = q.where('external_id', '=', filter.externalId);
  if (filter.email !== undefined) q = q.where(sql<string>`lower(email)`, '=', filter.email.toLowerCase());
  if (filter.role !== undefined) q = q.where('role', '=', filter.role);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.teamId !== undefined) {
    const teamId = filter.teamId;
    q = q.where((eb) => eb.exists(eb.selectFrom('memberships as m').select('m.user_id').whereRef('m.user_id', '=', 'users.id').where('m.team_id', '=', teamId)));
  }
  if (filter.q !== undefined) {
    const pattern = likeSubstring(filter.q);
    q = q.where((eb) => eb.or(['external_id', 'email', 'name'].map((col) => eb(sql`lower(${sql.ref(col)})`, 'like', sql`${pattern} escape '\\'`))));
  }
  if (page.after !== undefined) q = q.where('id', '>', page.after);
  q = q.orderBy('id').limit(page.limit);
  if (page.offset) q = q.offset(page.offset);
  return q.execute();
}

/** The teams a user belongs to, with their role in each (deleted teams left out). */
export async function userTeams(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['t.id as team_id', 't.name', 't.slug', 'm.role', 'm.created_at as joined_at'])
    .where('m.user_id', '=', userId)
    .where('t.deleted_at', 'is', null)
    .orderBy('t.id')
    .execute();
}

/** The live teams of each of `userIds`, in id order (users in no team are absent from the map). */
export async function teamIdsOf(db: Kysely<Database>, userIds: readonly number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['m.user_id', 'm.team_id'])
    .where('m.user_id', 'in', [...userIds])
    .where('t.deleted_at', 'is', null)
    .orderBy('m.user_id')
    .orderBy('m.team_id')
    .execute();
  for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.team_id]);
  return out;
}

export interface UserInput {
  externalId: string;
  name?: string | null | undefined;
  email?: string | null | undefined;
  role?: OrgRoleName | undefined;
  passwordHash?: string | null | undefined;
}

/** 409 naming the field when another user of the organization has this external_id or email. */
export async function assertIdentityFree(db: Kysely<Database>, orgId: number, ids: { externalId?: string | undefined; email?: string | null | undefined }, exceptId?: number): Promise<void> {
  if (ids.externalId !== undefined) {
    let q = db.selectFrom('users').select('id').where('org_id', '=', orgId).where('external_id', '=', ids.externalId);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) throw new ApiError('conflict', `a user with external_id "${ids.externalId}" already exists`, 'external_id');
  }
  if (ids.email != null) {
    let q = db.selectFrom('users').select('id').where('org_id', '=', orgId).where(sql<string>`lower(email)`, '=', ids.email.toLowerCase());
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) throw new ApiError('conflict', `a user with email "${ids.email}" already exists`, 'email');
  }
}

/**
 * A unique index refused the write: two requests raced past assertIdentityFree. Answered as the
 * same 409 the check gives (the email index is the one a race can hit besides external_id's).
 */
export function identityConflict(err: unknown): ApiError | undefined {
  const e = err as { code?: string; message?: string; constraint?: string };
  if (e.code !== '23505' && e.code !== 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
  const text = `${e.constraint ?? ''} ${e.message ?? ''}`;
  if (/email/.test(text)) return new ApiError('conflict', 'a user with this email already exists', 'email');
  if (/external/.test(text)) return new ApiError('conflict', 'a user with this external_id already exists', 'external_id');
  return undefined;
}

export async function insertUser(trx: Transaction<Database>, orgId: number, input: UserInput, at: string): Promise<UserRow> {
  await assertIdentityFree(trx, orgId, { externalId: input.externalId, email: input.email });
  return trx
    .insertInto('users')
    .values({ org_id: orgId, external_id: input.externalId, name: input.name ?? null, email: input.email ?? null, role: input.role ?? 'member', password_hash: input.passwordHash ?? null, created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface UserPatch {
  externalId?: string | undefined;
  name?: string | null | undefined;
  email?: string | null | undefined;
  role?: OrgRoleName | undefined;
}

export async function updateUser(trx: Transaction<Database>, user: UserRow, patch: UserPatch, at: string): Promise<UserRow> {
  await assertIdentityFree(trx, user.org_id, { externalId: patch.externalId, email: patch.email }, user.id);
  const set: Partial<UserRow> = { updated_at: at };
  if (patch.externalId !== undefined) set.external_id = patch.externalId;
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.email !== undefined) set.email = patch.email;
  if (patch.role !== undefined) set.role = patch.role;
  return trx.updateTable('users').set(set).where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
}

export async function setUserStatus(trx: Transaction<Database>, user: UserRow, status: UserStatus, at: string): Promise<UserRow> {
  return trx
    .updateTable('users')
    .set({ status, deactivated_at: status === 'deactivated' ? (user.deactivated_at ?? at) : null, updated_at: at })
    .where('id', '=', user.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Offboarding: the user's own keys (not their team's service-account keys) that are still active
 * become 'disabled'; returns their ids, each of which the caller invalidates after commit.
 * Revoked and already-disabled keys are left as they are.
 */
export async function disableOwnedKeys(trx: Transaction<Database>, orgId: number, userId: number, at: string): Promise<number[]> {
  const rows = await trx
    .updateTable('api_keys')
    .set({ status: 'disabled', updated_at: at })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('service_account_id', 'is', null)
    .where('status', '=', 'active')
    .returning('id')
    .execute();
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

export async function addMembership(trx: Transaction<Database>, teamId: number, userId: number, role: 'owner' | 'member', at: string): Promise<void> {
  await trx
    .insertInto('memberships')
    .values({ team_id: teamId, user_id: userId, role, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet({ role, updated_at: at }))
    .execute();
}
