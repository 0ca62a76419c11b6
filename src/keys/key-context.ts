// KeyContext: everything the hot path needs to know about a key, loaded in one query on a cache
// miss and then served from memory until an admin change invalidates it.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { KeyStatus, ModelAccess } from './keys.repository.ts';

export interface KeyContext {
  keyId: number;
  /** key-level counters and budgets are kept under the rotation lineage */
  lineageId: number;
  orgId: number;
  teamId: number | null;
  userId: number | null;
  serviceAccountId: number | null;
  name: string;
  status: KeyStatus;
  expiresAtMs: number | null;
  ipAllowlist: string[];
  modelAccess: ModelAccess;
}

export async function loadKeyContext(db: Kysely<Database>, hash: string): Promise<KeyContext | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'lineage_id', 'org_id', 'team_id', 'user_id', 'service_account_id', 'name', 'status', 'expires_at', 'ip_allowlist', 'model_access'])
    .where('key_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    keyId: row.id,
    lineageId: row.lineage_id ?? row.id,
    orgId: row.org_id,
    teamId: row.team_id,
    userId: row.user_id,
    serviceAccountId: row.service_account_id,
    name: row.name,
    status: row.status as KeyStatus,
    expiresAtMs: row.expires_at ? Date.parse(row.expires_at) : null,
    ipAllowlist: JSON.parse(row.ip_allowlist) as string[],
    modelAccess: JSON.parse(row.model_access) as ModelAccess,
  };
}
