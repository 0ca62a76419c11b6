// Provisioned upstream keys (migration 0024): a member's own key at a provider (OpenRouter), with a
// hard credit limit paid out of their allocation. Tollgate keeps the provider's id for it (its
// hash), never its secret (shown once, at creation), and a hint of it.
//
// A row's life (status; deleted_at):
//   creating  a reservation: the limit is held in the allocation while the provider is asked; the
//             row becomes active once the provider answered, or is removed if it refused
//   active / disabled   live at the provider (disabled: refused by it, and still holding its limit)
//   …with deleted_at set: revoked (by its owner, an owner/admin, or its owner's deactivation),
//             not yet confirmed deleted at the provider: the sweeper retries the deletion
//   deleted   deleted at the provider (or found gone there)
// An expired row (expires_at passed) no longer works at the provider, which enforces the expiry
// itself; the sweeper deletes it there and marks it deleted.
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, ProvisionedKeysTable } from '../db/types.ts';
import { storedInstant } from '../http/timestamps.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import type { Vault } from '../vault/crypto.ts';
import type { ManagementCredential } from './openrouter-client.ts';

export type ProvisionedKeyRow = Selectable<ProvisionedKeysTable>;
type Reader = Kysely<Database> | Transaction<Database>;

export const PROVISIONING_PROVIDER = 'openrouter-provisioning';
/** Statuses of a row the provider may still honour (and whose limit the allocation still holds). */
const HELD = ['creating', 'active', 'disabled'];
/** A reservation older than this was left by a crash between the provider's answer and the record. */
export const STALE_RESERVATION_MS = 10 * 60_000;

export type ViewStatus = 'creating' | 'active' | 'disabled' | 'expired' | 'deleting' | 'deleted';

export function viewStatus(row: ProvisionedKeyRow, nowMs: number): ViewStatus {
  if (row.status === 'deleted') return 'deleted';
  if (row.deleted_at !== null) return 'deleting';
  if (row.expires_at !== null && storedInstant(row.expires_at) <= nowMs) return 'expired';
  return row.status as ViewStatus;
}

/** What the API shows: never a secret, the hint only. */
export function provisionedKeyView(row: ProvisionedKeyRow, nowMs: number) {
  return {
    id: row.id,
    team_id: row.team_id,
    user_id: row.user_id,
    credential_id: row.credential_id,
    provider: row.provider,
    name: row.name,
    key_hint: row.secret_hint,
    limit_usd: microToUsd(Number(row.limit_micro)),
    expires_at: row.expires_at,
    status: viewStatus(row, nowMs),
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

/**
 * Sum of the limits (micro-USD) of a member's provisioned keys in a team that the provider may
 * still let spend: reservations, live and disabled keys, and revoked ones whose deletion the
 * provider has not confirmed yet. An expired key no longer spends (the provider enforces expiry).
 */
export async function committedLimits(db: Reader, teamId: number, userId: number, nowMs: number, exceptId?: number): Promise<number> {
  let q = db.selectFrom('provisioned_keys').select(['expires_at', 'limit_micro']).where('team_id', '=', teamId).where('user_id', '=', userId).where('status', 'in', HELD);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  let sum = 0;
  for (const row of await q.execute()) if (row.expires_at === null || storedInstant(row.expires_at) > nowMs) sum += Number(row.limit_micro);
  return sum;
}

export interface Reservation {
  orgId: number;
  teamId: number;
  userId: number;
  credentialId: number;
  name: string;
  limitMicro: number;
  expiresAt: string | null;
}

/** Holds the limit in the allocation before the provider is asked (see the file's comment). */
export async function reserve(trx: Transaction<Database>, r: Reservation, at: string): Promise<ProvisionedKeyRow> {
  return trx
    .insertInto('provisioned_keys')
    .values({
      org_id: r.orgId, team_id: r.teamId, user_id: r.userId, credential_id: r.credentialId, provider: PROVISIONING_PROVIDER,
      // unique per (provider, upstream_id): a placeholder until the provider names the key
      upstream_id: `pending:${randomUUID()}`, name: r.name, secret_hint: '', limit_micro: r.limitMicro, expires_at: r.expiresAt,
      status: 'creating', created_at: at, updated_at: at, deleted_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The provider created the key: the reservation becomes it. undefined if the reservation is gone. */
export async function activate(trx: Transaction<Database>, id: number, upstreamId: string, secretHint: string, at: string): Promise<ProvisionedKeyRow | undefined> {
  return trx
    .updateTable('provisioned_keys')
    .set({ upstream_id: upstreamId, secret_hint: secretHint, status: 'active', updated_at: at })
    .where('id', '=', id)
    .where('status', '=', 'creating')
    .returningAll()
    .executeTakeFirst();
}

export async function dropReservation(db: Reader, id: number): Promise<void> {
  await db.deleteFrom('provisioned_keys').where('id', '=', id).where('status', '=', 'creating').execute();
}

/** Reservations left behind by a crash (the provider's answer, if any, was never recorded). */
export async function staleReservations(db: Kysely<Database>, nowMs: number): Promise<ProvisionedKeyRow[]> {
  return db.selectFrom('provisioned_keys').selectAll().where('status', '=', 'creating').where('created_at', '<', new Date(nowMs - STALE_RESERVATION_MS).toISOString()).orderBy('id').limit(20).execute();
}

/**
 * The mark a key carries in its name at the provider until Tollgate has recorded it, so that the
 * key of a reservation a crash left behind can be found there and deleted: 12 hex digits of the
 * reservation's random placeholder (unique across installations sharing one provider account).
 */
export function reservationMark(row: Pick<ProvisionedKeyRow, 'upstream_id'>): string {
  return `(tollgate ${row.upstream_id.replace(/^pending:/, '').replace(/-/g, '').slice(0, 12)})`;
}

/** A key of the organization (reservations are not keys yet: not found). */
export async function findProvisionedKey(db: Reader, orgId: number, id: number, lock?: 'postgres' | 'sqlite'): Promise<ProvisionedKeyRow | undefined> {
  let q = db.selectFrom('provisioned_keys').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('status', '!=', 'creating');
  if (lock === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

export interface ProvisionedFilter {
  userId?: number | undefined;
  /** 'all', or the teams the caller may read */
  teams: 'all' | number[];
  teamId?: number | undefined;
  /** deleted keys too (they stay as the ledger's history) */
  includeDeleted: boolean;
}

export async function listProvisionedKeys(db: Kysely<Database>, orgId: number, f: ProvisionedFilter, page: { limit: number; after?: number | undefined }): Promise<ProvisionedKeyRow[]> {
  if (f.teams !== 'all' && f.teams.length === 0) return [];
  let q = db.selectFrom('provisioned_keys').selectAll().where('org_id', '=', orgId).where('status', '!=', 'creating');
  if (f.teams !== 'all') q = q.where('team_id', 'in', f.teams);
  if (f.teamId !== undefined) q = q.where('team_id', '=', f.teamId);
  if (f.userId !== undefined) q = q.where('user_id', '=', f.userId);
  if (!f.includeDeleted) q = q.where('status', '!=', 'deleted');
  if (page.after !== undefined) q = q.where('id', '<', page.after);
  return q.orderBy('id', 'desc').limit(page.limit).execute();
}

export async function updateProvisioned(trx: Transaction<Database>, id: number, set: { name?: string; status?: 'active' | 'disabled'; limit_micro?: number }, at: string): Promise<ProvisionedKeyRow> {
  return trx.updateTable('provisioned_keys').set({ ...set, updated_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Revokes: the deletion at the provider is pending from now on (the sweeper retries it). */
export async function markRevoked(trx: Transaction<Database>, id: number, at: string): Promise<ProvisionedKeyRow | undefined> {
  return trx.updateTable('provisioned_keys').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('status', '!=', 'deleted').where('deleted_at', 'is', null).returningAll().executeTakeFirst();
}

/**
 * Offboarding (every team) or leaving one team: the user's keys still at the provider are revoked;
 * returns them as they were.
 */
export async function revokeOwnedProvisioned(trx: Transaction<Database>, orgId: number, userId: number, at: string, teamId?: number): Promise<ProvisionedKeyRow[]> {
  let q = trx.selectFrom('provisioned_keys').selectAll().where('org_id', '=', orgId).where('user_id', '=', userId).where('status', 'in', ['active', 'disabled']).where('deleted_at', 'is', null);
  if (teamId !== undefined) q = q.where('team_id', '=', teamId);
  const rows = await q.execute();
  if (rows.length === 0) return [];
  await trx.updateTable('provisioned_keys').set({ deleted_at: at, updated_at: at }).where('id', 'in', rows.map((r) => r.id)).execute();
  return rows;
}

/** The provider confirmed the deletion (or no longer knew the key). */
export async function markDeleted(db: Reader, id: number, at: string): Promise<ProvisionedKeyRow | undefined> {
  return db
    .updateTable('provisioned_keys')
    .set((eb) => ({ status: 'deleted', deleted_at: eb.fn.coalesce('deleted_at', eb.val(at)), updated_at: at }))
    .where('id', '=', id)
    .where('status', '!=', 'deleted')
    .returningAll()
    .executeTakeFirst();
}

/** Keys whose deletion at the provider is pending: revoked ones, and expired ones not yet deleted. */
export async function dueForDeletion(db: Kysely<Database>, nowMs: number, limit: number): Promise<ProvisionedKeyRow[]> {
  const rows = await db
    .selectFrom('provisioned_keys')
    .selectAll()
    .where('status', 'in', ['active', 'disabled'])
    .where((eb) => eb.or([eb('deleted_at', 'is not', null), eb('expires_at', 'is not', null)]))
    .orderBy('id')
    .execute();
  return rows.filter((r) => r.deleted_at !== null || storedInstant(r.expires_at) <= nowMs).slice(0, limit);
}

/** The management credential a key was created with (decrypted), or undefined when it was deleted. */
export async function managementCredential(db: Reader, vault: Vault, orgId: number, credentialId: number): Promise<(ManagementCredential & { teamId: number | null; provider: string }) | undefined> {
  const row = await db.selectFrom('provider_credentials').selectAll().where('id', '=', credentialId).where('org_id', '=', orgId).where('status', '=', 'active').executeTakeFirst();
  if (!row || row.secret_enc === '') return undefined;
  return { credentialId: row.id, baseUrl: row.base_url, apiKey: vault.open(row.secret_enc), teamId: row.team_id ?? null, provider: row.provider };
}
