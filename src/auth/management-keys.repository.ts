// Management keys: credentials for automation on /api (Terraform, scripts, the CLI), stored in
// admin_keys. Org-scoped (role admin | member | viewer) or team-scoped (team_id, role owner |
// member). Only the SHA-256 hash of a secret is stored; the secret is returned once, at creation
// and at rotation. They are looked up on every /api request (http/admin-auth.ts), never cached, so
// a revocation or a rotation takes effect on every replica at the next request. They are not
// api_keys rows: /v1 does not know them.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AdminKeysTable, Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { ADMIN_KEY_PREFIX, displayPrefix, generateKey, hashSecret, MANAGEMENT_KEY_PREFIX } from '../keys/key-format.ts';

export type ManagementKeyRow = Selectable<AdminKeysTable>;
export type ManagementRole = 'admin' | 'member' | 'viewer' | 'owner';

export interface ManagementKeyView {
  id: number;
  name: string;
  description: string | null;
  /** enough of the secret to recognize it (`sk-tgm-AbCdEf...`), never enough to use it */
  key_prefix: string;
  role: string;
  /** 'org': acts in the whole organization with its role; 'team': only for team_id */
  scope: 'org' | 'team';
  team_id: number | null;
  status: 'active' | 'expired' | 'revoked';
  /** an `sk-tga-` organization admin key issued before management keys existed */
  legacy: boolean;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

export function managementKeyView(k: ManagementKeyRow, now: number): ManagementKeyView {
  const expired = k.expires_at !== null && Date.parse(k.expires_at) <= now;
  return {
    id: k.id, name: k.name, description: k.description, key_prefix: k.key_prefix, role: k.role,
    scope: k.team_id === null ? 'org' : 'team', team_id: k.team_id,
    status: k.revoked_at !== null ? 'revoked' : expired ? 'expired' : 'active',
    legacy: k.key_prefix.startsWith(ADMIN_KEY_PREFIX),
    created_by: k.created_by_actor, created_at: k.created_at, last_used_at: k.last_used_at, expires_at: k.expires_at, revoked_at: k.revoked_at,
  };
}

export async function getManagementKey(db: Kysely<Database>, orgId: number, id: number): Promise<ManagementKeyRow> {
  const row = await db.selectFrom('admin_keys').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  if (!row) throw new ApiError('not_found', `management key ${id} not found`);
  return row;
}

export interface ManagementKeyFilter {
  /** 'all', or the only teams whose keys the caller may see (org-scoped keys then never) */
  visibleTeams: 'all' | number[];
  teamId?: number | undefined;
  role?: string | undefined;
  createdBy?: string | undefined;
  includeRevoked: boolean;
}

export async function listManagementKeys(db: Kysely<Database>, orgId: number, f: ManagementKeyFilter, page: { limit: number; after?: number | undefined }): Promise<ManagementKeyRow[]> {
  if (f.visibleTeams !== 'all' && f.visibleTeams.length === 0) return [];
  let q = db.selectFrom('admin_keys').selectAll().where('org_id', '=', orgId);
  if (f.visibleTeams !== 'all') q = q.where('team_id', 'in', f.visibleTeams);
  if (f.teamId !== undefined) q = q.where('team_id', '=', f.teamId);
  if (f.role !== undefined) q = q.where('role', '=', f.role);
  if (f.createdBy !== undefined) q = q.where('created_by_actor', '=', f.createdBy);
  if (!f.includeRevoked) q = q.where('revoked_at', 'is', null);
  if (page.after !== undefined) q = q.where('id', '>', page.after);
  return q.orderBy('id').limit(page.limit).execute();
}

export interface NewManagementKey {
  orgId: number;
  name: string;
  description?: string | null | undefined;
  role: ManagementRole;
  teamId: number | null;
  expiresAt: string | null;
  /** actorRef() of the creator */
  createdBy: string;
}

export async function insertManagementKey(trx: Transaction<Database>, input: NewManagementKey, at: string): Promise<{ row: ManagementKeyRow; secret: string }> {
  const secret = generateKey(MANAGEMENT_KEY_PREFIX);
  const row = await trx
    .insertInto('admin_keys')
    .values({
      org_id: input.orgId, name: input.name, description: input.description ?? null, key_prefix: displayPrefix(secret), key_hash: hashSecret(secret),
      role: input.role, team_id: input.teamId, expires_at: input.expiresAt, created_by_actor: input.createdBy, created_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret };
}

export async function updateManagementKey(trx: Transaction<Database>, key: ManagementKeyRow, patch: { name?: string | undefined; description?: string | null | undefined; expiresAt?: string | null | undefined }): Promise<ManagementKeyRow> {
  const set: Partial<ManagementKeyRow> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
  if (Object.keys(set).length === 0) return key;
  return trx.updateTable('admin_keys').set(set).where('id', '=', key.id).returningAll().executeTakeFirstOrThrow();
}

/**
 * A new secret for the same key (id, role, scope, name stay): the old secret's hash is replaced,
 * so it stops working at the next request. Guarded on revoked_at: a key revoked meanwhile is 409.
 */
export async function rotateManagementKey(trx: Transaction<Database>, key: ManagementKeyRow): Promise<{ row: ManagementKeyRow; secret: string }> {
  const secret = generateKey(MANAGEMENT_KEY_PREFIX);
  const row = await trx
    .updateTable('admin_keys')
    .set({ key_hash: hashSecret(secret), key_prefix: displayPrefix(secret) })
    .where('id', '=', key.id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new ApiError('conflict', `management key ${key.id} is revoked`);
  return { row, secret };
}

/** `revoked: false` when it already was (by a concurrent request, say): that revocation stands. */
export async function revokeManagementKey(trx: Transaction<Database>, key: ManagementKeyRow, at: string): Promise<{ row: ManagementKeyRow; revoked: boolean }> {
  const row = await trx.updateTable('admin_keys').set({ revoked_at: at }).where('id', '=', key.id).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
  if (row) return { row, revoked: true };
  return { row: await trx.selectFrom('admin_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow(), revoked: false };
}
