// Seed 003: an owner allocates each member a monthly credit budget (the member-level budget), and
// the member carves budget-capped keys out of it. Invariant: the caps of a member's live keys in a
// team never add up to more than the allocation. Checked inside the transaction that changes a cap
// or an allocation, with the member's policy row locked on PostgreSQL (SQLite serializes writers).
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { DialectName } from '../db/connection.ts';
import { ApiError } from '../http/errors.ts';
import { storedInstant } from '../http/timestamps.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { policyFromRow } from './policy.ts';
import { committedLimits } from '../provisioning/provisioned-keys.repository.ts';

/**
 * Sum of budget caps (micro-USD) of a member's live keys in a team, optionally leaving one lineage
 * out. Expiry is compared as an instant here, not as text in SQL: a row written before timestamps
 * were canonical (`+010000-01-01…` for a far-future date) sorts as text before any real date and
 * would read as expired while the key still works. A member has few capped keys; reading them is cheap.
 * The allocation is shared with the member's provisioned upstream keys (seed 003): their limits
 * count too while the provider may still honour them (optionally leaving one of them out).
 */
export async function committedCaps(trx: Transaction<Database>, teamId: number, userId: number, nowIso: string, exceptLineage?: number, exceptProvisioned?: number): Promise<number> {
  let q = trx
    .selectFrom('api_keys as k')
    .innerJoin('policies as p', (j) => j.on('p.scope_type', '=', 'key').on('p.scope_id', '=', sql<string>`cast(coalesce(k.lineage_id, k.id) as text)`))
    .select(['k.expires_at', 'p.budget_micro'])
    .where('k.team_id', '=', teamId)
    .where('k.user_id', '=', userId)
    .where('k.status', '!=', 'revoked')
    .where('p.budget_micro', 'is not', null);
  if (exceptLineage !== undefined) q = q.where(sql<number>`coalesce(k.lineage_id, k.id)`, '!=', exceptLineage);
  const now = Date.parse(nowIso);
  let caps = 0;
  for (const row of await q.execute()) if (storedInstant(row.expires_at) > now) caps += Number(row.budget_micro);
  return caps + (await committedLimits(trx, teamId, userId, now, exceptProvisioned));
}

/** The member's allocation (monthly budget) in micro-USD, locking its row; undefined when none. */
export async function lockAllocation(trx: Transaction<Database>, dialect: DialectName, teamId: number, userId: number): Promise<number | undefined> {
  let q = trx.selectFrom('policies').selectAll().where('scope_type', '=', 'member').where('scope_id', '=', `${teamId}:${userId}`);
  if (dialect === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return policyFromRow(row).budget?.limitMicro;
}

/** Refuses a key cap that does not fit in what is left of the owner's allocation. */
export async function assertCapFits(trx: Transaction<Database>, dialect: DialectName, key: { teamId: number | null; userId: number | null; lineage: number }, capMicro: number | null, nowIso: string): Promise<void> {
  if (key.teamId === null || key.userId === null || capMicro === null) return;
  const allocation = await lockAllocation(trx, dialect, key.teamId, key.userId);
  if (allocation === undefined) return;
  const committed = await committedCaps(trx, key.teamId, key.userId, nowIso, key.lineage);
  const left = allocation - committed;
  if (capMicro > left) {
    throw new ApiError('allocation_exceeded', `max_budget_usd: $${microToUsd(capMicro)} exceeds the owner's allocation: $${microToUsd(Math.max(0, left))} remaining of $${microToUsd(allocation)} ($${microToUsd(committed)} committed to other keys)`, 'max_budget_usd', { remaining_usd: microToUsd(Math.max(0, left)), allocation_usd: microToUsd(allocation) });
  }
}

/** Refuses an allocation below what the member's keys already have committed. */
export async function assertAllocationCovers(trx: Transaction<Database>, dialect: DialectName, teamId: number, userId: number, allocationMicro: number | null, nowIso: string): Promise<void> {
  if (allocationMicro === null) return;
  await lockAllocation(trx, dialect, teamId, userId);
  const committed = await committedCaps(trx, teamId, userId, nowIso);
  if (committed > allocationMicro) {
    throw new ApiError('conflict', `allocation_usd: $${microToUsd(allocationMicro)} is below the $${microToUsd(committed)} already committed to this member's key caps; lower or revoke those first`, 'allocation_usd');
  }
}
