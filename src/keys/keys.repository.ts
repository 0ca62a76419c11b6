// API keys: only the SHA-256 hash of a secret is stored; the secret is returned once, at creation.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApiKeysTable, Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { displayPrefix, generateKey, hashSecret } from './key-format.ts';
import { addSeconds, currentSecretIssuedAt, deleteSchedule, endAllSecrets, rotationDb, type SecretRow } from './key-secrets.repository.ts';
import { OPEN_RULE, ruleFromStored, ruleView, storedModelAccess, type AccessRule } from '../policy/access-rules.ts';

export type KeyRow = Selectable<ApiKeysTable>;
export type KeyStatus = 'active' | 'disabled' | 'revoked';

export interface KeyView {
  id: number;
  user_id: number | null;
  team_id: number | null;
  service_account_id: number | null;
  key_prefix: string;
  name: string;
  description: string | null;
  tags: string[];
  /** endpoint scopes, space-separated ("*": all; policy/scopes.ts) */
  scopes: string;
  status: KeyStatus;
  expires_at: string | null;
  /** null: inherits the team's models (docs/access.md) */
  models: string[] | null;
  access_groups: number[] | null;
  blocked_models: string[];
  ip_allowlist: string[];
  /** who created it: 'user:5', 'admin_key:3', 'admin_key:master', 'system:rotation' (null: before this was recorded) */
  created_by: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** The id key-level budgets and counters are kept under: stable across rotations. */
export const lineageOf = (k: Pick<KeyRow, 'id' | 'lineage_id'>): number => k.lineage_id ?? k.id;

export function keyView(k: KeyRow): KeyView {
  return {
    id: k.id,
    user_id: k.user_id,
    team_id: k.team_id,
    service_account_id: k.service_account_id,
    key_prefix: k.key_prefix,
    name: k.name,
    description: k.description,
    tags: JSON.parse(k.tags) as string[],
    scopes: k.scopes,
    status: k.status as KeyStatus,
    expires_at: k.expires_at,
    ...ruleView(ruleFromStored(k.model_access, k.ip_allowlist)),
    created_by: k.created_by_actor,
    created_at: k.created_at,
    updated_at: k.updated_at,
    revoked_at: k.revoked_at,
    last_used_at: k.last_used_at,
  };
}

export interface KeyInput {
  orgId: number;
  teamId: number | null;
  userId: number | null;
  serviceAccountId?: number | null;
  name: string;
  description?: string | null;
  tags?: string[];
  /** canonical (policy/scopes.ts normalizeScopes) */
  scopes?: string;
  expiresAt?: string | null;
  /** the key's own access rule (models, groups, blocklist, IP allowlist); default: inherit, open */
  rule?: AccessRule;
  /** actorRef() of whoever creates it */
  createdBy: string;
  rotatedFromId?: number | null;
  lineageId?: number | null;
}

/** Inserts a key and returns its row plus the secret, which is never stored nor retrievable again. */
export async function insertKey(trx: Transaction<Database>, input: KeyInput, at: string): Promise<{ row: KeyRow; secret: string }> {
  const secret = generateKey();
  const row = await trx
    .insertInto('api_keys')
    .values({
      org_id: input.orgId,
      team_id: input.teamId,
      user_id: input.userId,
      service_account_id: input.serviceAccountId ?? null,
      name: input.name,
      description: input.description ?? null,
      tags: JSON.stringify(input.tags ?? []),
      key_prefix: displayPrefix(secret),
      key_hash: hashSecret(secret),
      scopes: input.scopes ?? '*',
      expires_at: input.expiresAt ?? null,
      ip_allowlist: JSON.stringify(input.rule?.ipAllowlist ?? []),
      model_access: storedModelAccess(input.rule ?? OPEN_RULE),
      created_by: input.createdBy.startsWith('user:') ? Number(input.createdBy.slice(5)) : 0,
      created_by_actor: input.createdBy,
      rotated_from_id: input.rotatedFromId ?? null,
      lineage_id: input.lineageId ?? null,
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret };
}

export async function findKey(db: Kysely<Database>, orgId: number, id: number): Promise<KeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export async function getTeamKey(db: Kysely<Database>, orgId: number, teamId: number, id: number): Promise<KeyRow> {
  const key = await findKey(db, orgId, id);
  if (!key || key.team_id !== teamId) throw new ApiError('not_found', `key ${id} not found in team ${teamId}`);
  return key;
}

export interface KeyFilter {
  teamId?: number;
  userId?: number;
  includeRevoked?: boolean;
  /** keyset pagination: only keys with a larger id (fast at any depth, unlike offset) */
  afterId?: number;
}

/**
 * A deferred join: the page's ids are picked first, reading only the columns the filters need, then
 * only those rows are read in full. A deep OFFSET is skipped inside the (org_id, id, status)
 * index (an index-only scan; migration 0002) rather than by reading every skipped row.
 * `afterId` (keyset) is still the way to page deep: it seeks instead of skipping.
 */
export async function listKeys(db: Kysely<Database>, orgId: number, filter: KeyFilter, limit: number, offset: number): Promise<KeyRow[]> {
  let ids = db.selectFrom('api_keys').select('id').where('org_id', '=', orgId);
  if (filter.teamId !== undefined) ids = ids.where('team_id', '=', filter.teamId);
  if (filter.userId !== undefined) ids = ids.where('user_id', '=', filter.userId);
  if (!filter.includeRevoked) ids = ids.where('status', '!=', 'revoked');
  if (filter.afterId !== undefined) ids = ids.where('id', '>', filter.afterId);
  ids = ids.orderBy('id').limit(limit).offset(offset);
  return db.selectFrom('api_keys').selectAll().where('id', 'in', ids).orderBy('id').execute();
}

/** Revokes the key: its current secret and every older one still in a grace period stop at once. */
export async function revokeKey(trx: Transaction<Database>, key: KeyRow, at: string): Promise<KeyRow> {
  const row = await trx
    .updateTable('api_keys')
    .set({ status: 'revoked', revoked_at: at, updated_at: at })
    .where('id', '=', key.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await endAllSecrets(trx, key.id, at);
  await deleteSchedule(trx, key.id);
  return row;
}

export interface Rotation {
  row: KeyRow;
  /** the new secret: returned once, never stored */
  secret: string;
  /** the secret it replaced, now in key_secrets */
  previous: SecretRow;
}

/**
 * Rotation keeps the key: same id, limits, budget counters and spend. The new secret becomes the
 * key's (api_keys.key_hash); the old one moves to key_secrets and keeps working until the end of
 * its grace period (0 seconds: it is ended at once). The swap is a compare-and-set on the hash
 * read before: two rotations racing on one key cannot both succeed (the loser gets a 409).
 * `secret`: a secret generated beforehand (scheduled rotation delivers it before committing).
 */
export async function rotateKey(trx: Transaction<Database>, key: KeyRow, graceSeconds: number, at: string, secret = generateKey()): Promise<Rotation> {
  if (key.status === 'revoked') throw new ApiError('conflict', `key ${key.id} is revoked and cannot be rotated`);
  const issuedAt = await currentSecretIssuedAt(trx, key);
  const row = await trx
    .updateTable('api_keys')
    .set({ key_hash: hashSecret(secret), key_prefix: displayPrefix(secret), updated_at: at })
    .where('id', '=', key.id)
    .where('key_hash', '=', key.key_hash)
    .where('status', '!=', 'revoked')
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new ApiError('conflict', `key ${key.id} was changed (rotated or revoked) while it was being rotated; read it again`);
  const previous = await rotationDb(trx)
    .insertInto('key_secrets')
    .values({
      key_id: key.id,
      key_hash: key.key_hash,
      key_prefix: key.key_prefix,
      issued_at: issuedAt,
      created_at: at,
      valid_until: addSeconds(at, graceSeconds),
      ended_at: graceSeconds === 0 ? at : null,
      // api_keys.last_used_at is the current secret's, once it is at least as recent as its issue
      last_used_at: key.last_used_at !== null && key.last_used_at >= issuedAt ? key.last_used_at : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret, previous };
}
