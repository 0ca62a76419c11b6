// Each team's self-service policy (seed 002: who may create their own keys, and within which
// bounds), stored in team_self_service (migration 0008). A team without a row has self-service
// off: an owner or admin turns it on (PUT /api/teams/{id}/self-service).
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { DialectName } from '../db/connection.ts';
import { storedInstant } from '../http/timestamps.ts';
import { microToUsd } from '../usage/spend.repository.ts';

export interface SelfServicePolicy {
  enabled: boolean;
  /** null: no cap on the number of live keys a member may hold in the team */
  maxKeysPerUser: number | null;
  /** null: no ceiling on a self-service key's budget cap */
  maxBudgetMicro: number | null;
  requireExpiry: boolean;
  /** null: no limit on how far ahead a self-service key may expire */
  maxExpiryDays: number | null;
}

export const SELF_SERVICE_OFF: SelfServicePolicy = { enabled: false, maxKeysPerUser: null, maxBudgetMicro: null, requireExpiry: false, maxExpiryDays: null };

export interface StoredSelfService {
  policy: SelfServicePolicy;
  /** null: never set (the defaults apply) */
  updatedAt: string | null;
}

type Reader = Kysely<Database> | Transaction<Database>;

/**
 * The team's policy. With `lock` (inside a transaction, on PostgreSQL), the row is locked until
 * commit: every self-service creation in the team takes this lock before counting the member's
 * keys, so two creations cannot both count below max_keys_per_user and both insert. SQLite runs
 * one writing transaction at a time, which gives the same guarantee.
 */
export async function readSelfService(db: Reader, teamId: number, lock?: DialectName): Promise<StoredSelfService> {
  let q = db.selectFrom('team_self_service').selectAll().where('team_id', '=', teamId);
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) return { policy: SELF_SERVICE_OFF, updatedAt: null };
  return {
    policy: {
      enabled: Boolean(row.enabled),
      maxKeysPerUser: row.max_keys_per_user,
      maxBudgetMicro: row.max_budget_micro === null ? null : Number(row.max_budget_micro),
      requireExpiry: Boolean(row.require_expiry),
      maxExpiryDays: row.max_expiry_days,
    },
    updatedAt: row.updated_at,
  };
}

export async function saveSelfService(trx: Transaction<Database>, teamId: number, p: SelfServicePolicy, at: string): Promise<void> {
  const row = {
    enabled: p.enabled ? 1 : 0,
    max_keys_per_user: p.maxKeysPerUser,
    max_budget_micro: p.maxBudgetMicro,
    require_expiry: p.requireExpiry ? 1 : 0,
    max_expiry_days: p.maxExpiryDays,
    updated_at: at,
  };
  await trx
    .insertInto('team_self_service')
    .values({ team_id: teamId, ...row })
    .onConflict((oc) => oc.column('team_id').doUpdateSet(row))
    .execute();
}

/**
 * The member's live keys in the team (not revoked, not expired) — what max_keys_per_user counts.
 * An expired key no longer works, so it does not hold a place. Expiry is compared as an instant
 * (storedInstant), not as text, for the reason given in policy/allocations.ts; a member has few keys.
 */
export async function countLiveKeys(trx: Reader, teamId: number, userId: number, nowMs: number): Promise<number> {
  const rows = await trx.selectFrom('api_keys').select('expires_at').where('team_id', '=', teamId).where('user_id', '=', userId).where('status', '!=', 'revoked').execute();
  return rows.filter((r) => storedInstant(r.expires_at) > nowMs).length;
}

export function selfServiceView(teamId: number, s: StoredSelfService) {
  const p = s.policy;
  return {
    team_id: teamId,
    enabled: p.enabled,
    max_keys_per_user: p.maxKeysPerUser,
    max_budget_usd: p.maxBudgetMicro === null ? null : microToUsd(p.maxBudgetMicro),
    require_expiry: p.requireExpiry,
    max_expiry_days: p.maxExpiryDays,
    updated_at: s.updatedAt,
  };
}
