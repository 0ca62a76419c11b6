// A key's older secrets (grace rotation), the idempotency records of rotations and the rotation
// schedules: the tables of migration 0007, typed here and added to the query builder with
// $extendTables, so the rest of the schema's types stay as they are.
import { iso } from '../clock.ts';
import type { Generated, Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { KeyRow } from './keys.repository.ts';

export interface KeySecretsTable {
  id: Generated<number>;
  key_id: number;
  key_hash: string;
  key_prefix: string;
  issued_at: string;
  /** when a rotation replaced it */
  created_at: string;
  /** the end of its grace period */
  valid_until: string;
  /** set when it was ended early (an admin, or the key's revocation) */
  ended_at: string | null;
  last_used_at: string | null;
}

export interface KeyRotationRequestsTable {
  key_id: number;
  idempotency_key: string;
  grace_period_seconds: number;
  secret_id: number;
  key_prefix: string;
  rotated_at: string;
  expires_at: string;
}

export interface KeyRotationSchedulesTable {
  key_id: number;
  rotate_every_days: number;
  grace_period_seconds: number;
  next_rotation_at: string;
  last_rotated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface KeyExpiryRemindersTable {
  key_id: number;
  expires_at: string;
  sent_at: string;
}

export type RotationTables = {
  key_secrets: KeySecretsTable;
  key_rotation_requests: KeyRotationRequestsTable;
  key_rotation_schedules: KeyRotationSchedulesTable;
  key_expiry_reminders: KeyExpiryRemindersTable;
};

export type RotationDb = Kysely<Database & RotationTables>;
export type SecretRow = Selectable<KeySecretsTable>;
export type ScheduleRow = Selectable<KeyRotationSchedulesTable>;

/** The same connection (or transaction: queries still run inside it) with the rotation tables typed. */
export function rotationDb(db: Kysely<Database>): RotationDb {
  return db.$extendTables<RotationTables>();
}

const DAY_MS = 86_400_000;
export const addSeconds = (at: string, seconds: number): string => new Date(Date.parse(at) + seconds * 1000).toISOString();
export const addDays = (at: string, days: number): string => new Date(Date.parse(at) + days * DAY_MS).toISOString();

/** When the key's current secret was issued: its last rotation, or the key's creation. */
export async function currentSecretIssuedAt(db: Kysely<Database>, key: Pick<KeyRow, 'id' | 'created_at'>): Promise<string> {
  const last = await rotationDb(db).selectFrom('key_secrets').select('created_at').where('key_id', '=', key.id).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return last?.created_at ?? key.created_at;
}

export async function findKeySecret(db: Kysely<Database>, secretId: number): Promise<SecretRow | undefined> {
  return rotationDb(db).selectFrom('key_secrets').selectAll().where('id', '=', secretId).executeTakeFirst();
}

export async function findSecret(db: Kysely<Database>, keyId: number, secretId: number): Promise<SecretRow | undefined> {
  return rotationDb(db).selectFrom('key_secrets').selectAll().where('id', '=', secretId).where('key_id', '=', keyId).executeTakeFirst();
}

/** The key's older secrets, newest first (the list is bounded: a key rotated daily for years). */
export async function listSecrets(db: Kysely<Database>, keyId: number, limit = 50): Promise<SecretRow[]> {
  return rotationDb(db).selectFrom('key_secrets').selectAll().where('key_id', '=', keyId).orderBy('id', 'desc').limit(limit).execute();
}

/** Ends one secret's grace period now (idempotent); returns the row as it is after. */
export async function endSecret(trx: Transaction<Database>, secret: SecretRow, at: string): Promise<SecretRow> {
  if (secret.ended_at !== null) return secret;
  return rotationDb(trx).updateTable('key_secrets').set({ ended_at: at }).where('id', '=', secret.id).returningAll().executeTakeFirstOrThrow();
}

/** Ends every older secret of a key still in its grace period (the key is being revoked). */
export async function endAllSecrets(trx: Transaction<Database>, keyId: number, at: string): Promise<void> {
  await rotationDb(trx).updateTable('key_secrets').set({ ended_at: at }).where('key_id', '=', keyId).where('ended_at', 'is', null).execute();
}

export async function findSchedule(db: Kysely<Database>, keyId: number): Promise<ScheduleRow | undefined> {
  return rotationDb(db).selectFrom('key_rotation_schedules').selectAll().where('key_id', '=', keyId).executeTakeFirst();
}

/** After any rotation of a scheduled key, the next one is due a full period later. */
export async function restartSchedule(trx: Transaction<Database>, keyId: number, at: string): Promise<void> {
  const s = await findSchedule(trx, keyId);
  if (!s) return;
  await rotationDb(trx).updateTable('key_rotation_schedules').set({ next_rotation_at: addDays(at, s.rotate_every_days), last_rotated_at: at, updated_at: at }).where('key_id', '=', keyId).execute();
}

export async function deleteSchedule(trx: Transaction<Database>, keyId: number): Promise<void> {
  await rotationDb(trx).deleteFrom('key_rotation_schedules').where('key_id', '=', keyId).execute();
}

export type RotationRequestRow = Selectable<KeyRotationRequestsTable>;

/** A rotation made earlier with this Idempotency-Key, if it has not expired. */
export async function findRotationRequest(db: Kysely<Database>, keyId: number, idempotencyKey: string, nowIso: string): Promise<RotationRequestRow | undefined> {
  return rotationDb(db).selectFrom('key_rotation_requests').selectAll().where('key_id', '=', keyId).where('idempotency_key', '=', idempotencyKey).where('expires_at', '>', nowIso).executeTakeFirst();
}

/**
 * Records a rotation under its Idempotency-Key, in the rotation's transaction. An expired record
 * with the same key is replaced; a live one makes the insert fail (a concurrent retry: the caller
 * answers with that one instead).
 */
export async function saveRotationRequest(trx: Transaction<Database>, row: RotationRequestRow): Promise<void> {
  const db = rotationDb(trx);
  await db.deleteFrom('key_rotation_requests').where('key_id', '=', row.key_id).where('idempotency_key', '=', row.idempotency_key).where('expires_at', '<=', row.rotated_at).execute();
  await db.insertInto('key_rotation_requests').values(row).execute();
}

export async function pruneRotationRequests(db: Kysely<Database>, nowIso: string): Promise<void> {
  await rotationDb(db).deleteFrom('key_rotation_requests').where('expires_at', '<=', nowIso).execute();
}

/** How long an older secret stays listed after it stopped working (its grace ended, or it was ended early). */
export const ENDED_SECRET_RETENTION_DAYS = 30;
const PRUNE_BATCH = 1000;

/**
 * Forgets older secrets that stopped working more than ENDED_SECRET_RETENTION_DAYS ago, in batches
 * (the audit trail keeps every rotation). A secret an idempotent rotation still answers with is kept
 * until that record expires (a day). Returns how many were removed.
 */
export async function pruneEndedSecrets(db: Kysely<Database>, now: number): Promise<number> {
  const cutoff = iso(now - ENDED_SECRET_RETENTION_DAYS * 86_400_000);
  const r = rotationDb(db);
  let removed = 0;
  for (;;) {
    const batch = await r
      .selectFrom('key_secrets')
      .select('id')
      .where((eb) => eb.or([eb('ended_at', '<', cutoff), eb.and([eb('ended_at', 'is', null), eb('valid_until', '<', cutoff)])]))
      .where('id', 'not in', r.selectFrom('key_rotation_requests').select('secret_id'))
      .limit(PRUNE_BATCH)
      .execute();
    if (batch.length === 0) return removed;
    await r.deleteFrom('key_secrets').where('id', 'in', batch.map((b) => b.id)).execute();
    removed += batch.length;
    if (batch.length < PRUNE_BATCH) return removed;
  }
}
