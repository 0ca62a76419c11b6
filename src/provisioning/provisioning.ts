// What a provisioned key's creation, change and revocation do, in order. The provider is never
// called inside a transaction (applyChange may run its function again, and a transaction held open
// across an HTTP call would block every writer on SQLite): the allocation is checked and the limit
// held by a reservation row first, then the provider is asked, then the answer is recorded.
//
//   create:  [tx: lock allocation, check, reserve] → provider POST /keys → [tx: activate + audit]
//            provider refuses → reservation dropped (nothing recorded);
//            recording fails → the key is deleted at the provider again
//   update:  a raised limit is held first ([tx: check, hold the higher limit]), then pushed to the
//            provider, then recorded with its audit event; a refusal gives the held limit back
//   revoke:  [tx: deleted_at + audit] → provider DELETE → status deleted; a provider failure
//            leaves the deletion pending for the sweeper (404 at the provider counts as deleted)
import type { Transaction } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { applyChange } from '../audit/change.ts';
import { iso } from '../clock.ts';
import { committedCaps, lockAllocation } from '../policy/allocations.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { readSelfService } from '../selfservice/self-service.repository.ts';
import { expiryRequired, expiryTooFar, selfServiceDisabled, type SelfServiceCase } from '../selfservice/constraints.ts';
import { getPolicy } from '../policy/policies.repository.ts';
import { hint } from '../vault/credentials.repository.ts';
import { OpenRouterClient, ProviderCallError } from './openrouter-client.ts';
import {
  activate, dropReservation, managementCredential, markDeleted, markRevoked, PROVISIONING_PROVIDER, provisionedKeyView, reservationMark, reserve, updateProvisioned,
  type ProvisionedKeyRow,
} from './provisioned-keys.repository.ts';

export interface ProvisionInput {
  teamId: number;
  userId: number;
  credentialId: number;
  name: string;
  limitMicro: number;
  /** canonical UTC, or null */
  expiresAt: string | null;
}

/** Refuses a limit that does not fit in what is left of the member's allocation (its row locked). */
async function assertLimitFits(trx: Transaction<Database>, deps: Deps, teamId: number, userId: number, limitMicro: number, at: string, exceptId?: number): Promise<void> {
  const allocation = await lockAllocation(trx, deps.db.dialect, teamId, userId);
  // Provisioned keys spend real credit at the provider: only out of an allocation an owner set.
  if (allocation === undefined) {
    throw new ApiError('allocation_exceeded', `limit_usd: you have no allocation in team ${teamId}; provisioned keys are paid out of one: ask a team owner to set it`, 'limit_usd', { remaining_usd: 0, allocation_usd: null });
  }
  const committed = await committedCaps(trx, teamId, userId, at, undefined, exceptId);
  const left = Math.max(0, allocation - committed);
  if (limitMicro > left) {
    throw new ApiError('allocation_exceeded', `limit_usd: $${microToUsd(limitMicro)} exceeds your allocation: $${microToUsd(left)} remaining of $${microToUsd(allocation)} ($${microToUsd(committed)} committed to other keys)`, 'limit_usd', { remaining_usd: microToUsd(left), allocation_usd: microToUsd(allocation) });
  }
}

/** The team's self-service bounds that apply to a provisioned key: on at all, expiry, ceiling. */
async function assertWithinTeamPolicy(trx: Transaction<Database>, deps: Deps, actor: Actor, input: ProvisionInput): Promise<void> {
  const { policy } = await readSelfService(trx, input.teamId, deps.db.dialect);
  const c: SelfServiceCase = {
    actor, teamId: input.teamId, policy, teamLimits: await getPolicy(trx, `team:${input.teamId}`), now: deps.clock.now(),
    ask: { expires_at: input.expiresAt }, liveKeys: async () => 0,
  };
  for (const check of [selfServiceDisabled, expiryRequired, expiryTooFar]) {
    const refusal = check(c);
    if (refusal) throw refusal;
  }
  assertUnderCeiling(policy.maxBudgetMicro, input.limitMicro);
}

/** The team's ceiling for self-service keys (max_budget_usd) bounds a provisioned key's limit. */
function assertUnderCeiling(ceilingMicro: number | null, limitMicro: number): void {
  if (ceilingMicro !== null && limitMicro > ceilingMicro) {
    throw new ApiError('budget_above_ceiling', `limit_usd: $${microToUsd(limitMicro)} is above this team's ceiling for self-service keys, $${microToUsd(ceilingMicro)}`, 'limit_usd', { max_budget_usd: microToUsd(ceilingMicro) });
  }
}

/** A client for the credential a key belongs to; 400 naming credential_id when it cannot be one. */
async function clientFor(deps: Deps, orgId: number, credentialId: number, teamId: number): Promise<OpenRouterClient> {
  const cred = await managementCredential(deps.db.kysely, deps.vault, orgId, credentialId);
  if (!cred || cred.provider !== PROVISIONING_PROVIDER) throw invalid('credential_id', `credential ${credentialId} is not an OpenRouter provisioning credential of this organization (provider '${PROVISIONING_PROVIDER}')`);
  if (cred.teamId !== null && cred.teamId !== teamId) throw invalid('credential_id', `credential ${credentialId} serves team ${cred.teamId} only`);
  return new OpenRouterClient(cred, deps.upstreamPool);
}

/** The provider's refusal as the caller sees it: 502, with the provider's own message. */
function providerFailure(err: unknown, what: string): ApiError {
  if (err instanceof ProviderCallError) return new ApiError('upstream_error', `${what}: ${err.message}`, null, { provider_status: err.status || null });
  return new ApiError('upstream_error', `${what}: ${(err as Error).message}`);
}

export async function provisionKey(deps: Deps, actor: Actor, input: ProvisionInput) {
  const db = deps.db.kysely;
  const client = await clientFor(deps, actor.orgId, input.credentialId, input.teamId);
  const held = await applyChange(deps, actor, async (trx, at) => {
    await assertWithinTeamPolicy(trx, deps, actor, input);
    await assertLimitFits(trx, deps, input.teamId, input.userId, input.limitMicro, at);
    return { result: await reserve(trx, { ...input, orgId: actor.orgId }, at), audit: [] };
  });
  let created: Awaited<ReturnType<OpenRouterClient['create']>>;
  try {
    // Named with the reservation's mark until a rename: see undoReservation().
    created = await client.create({ name: `${input.name} ${reservationMark(held)}`, limitUsd: microToUsd(input.limitMicro), expiresAt: input.expiresAt });
  } catch (err) {
    await dropReservation(db, held.id);
    throw providerFailure(err, 'the provider did not create the key');
  }
  try {
    const row = await applyChange(deps, actor, async (trx, at) => {
      // Deactivated, or removed from the team, meanwhile: that change revoked only the keys it saw,
      // not this reservation. The rows are locked (PostgreSQL) so that such a change either commits
      // first and is seen here, or waits and then finds this key among the ones it revokes.
      let owner = trx.selectFrom('users').select(['status', 'role']).where('id', '=', input.userId);
      let membership = trx.selectFrom('memberships').select('user_id').where('team_id', '=', input.teamId).where('user_id', '=', input.userId);
      if (deps.db.dialect === 'postgres') {
        owner = owner.forUpdate();
        membership = membership.forUpdate();
      }
      const person = await owner.executeTakeFirst();
      if (person?.status !== 'active') throw new ApiError('forbidden', 'your account was deactivated while the key was being created; it was deleted at the provider');
      // Admins act in every team without being members of it (as for Tollgate keys).
      if (person.role !== 'admin' && !(await membership.executeTakeFirst())) throw new ApiError('forbidden', `you were removed from team ${input.teamId} while the key was being created; it was deleted at the provider`);
      const row = await activate(trx, held.id, created.key.hash, hint(created.secret), at);
      if (!row) throw new Error(`provisioned key reservation ${held.id} disappeared before the provider's answer was recorded`);
      const view = provisionedKeyView(row, Date.parse(at));
      return { result: row, audit: [{ orgId: actor.orgId, teamId: row.team_id, action: 'provisioned_key.create', targetType: 'provisioned_key', targetId: row.id, after: view, amountMicro: Number(row.limit_micro) }] };
    });
    return { ...provisionedKeyView(row, deps.clock.now()), key: created.secret };
  } catch (err) {
    // Not recorded: a key at the provider nobody knows of would spend outside the allocation.
    await client.delete(created.key.hash).catch(() => {});
    await dropReservation(db, held.id).catch(() => {});
    throw err;
  }
}

export interface ProvisionedChange {
  name?: string | undefined;
  disabled?: boolean | undefined;
  limitMicro?: number | undefined;
}

export async function updateProvisionedKey(deps: Deps, actor: Actor, key: ProvisionedKeyRow, change: ProvisionedChange) {
  const now = deps.clock.now();
  const status = provisionedKeyView(key, now).status;
  if (status !== 'active' && status !== 'disabled') throw new ApiError('conflict', `provisioned key ${key.id} is ${status}: it can no longer be changed`);
  const client = await clientFor(deps, key.org_id, key.credential_id, key.team_id);
  const before = provisionedKeyView(key, now);
  const oldLimit = Number(key.limit_micro);
  const raising = change.limitMicro !== undefined && change.limitMicro > oldLimit;
  if (raising) {
    // Held before the provider is told: two raises at once cannot both fit in the same remainder.
    await applyChange(deps, actor, async (trx, at) => {
      assertUnderCeiling((await readSelfService(trx, key.team_id)).policy.maxBudgetMicro, change.limitMicro!);
      await assertLimitFits(trx, deps, key.team_id, key.user_id, change.limitMicro!, at, key.id);
      await updateProvisioned(trx, key.id, { limit_micro: change.limitMicro! }, at);
      return { result: null, audit: [] };
    });
  }
  try {
    await client.update(key.upstream_id, { name: change.name, disabled: change.disabled, limitUsd: change.limitMicro === undefined ? undefined : microToUsd(change.limitMicro) });
  } catch (err) {
    if (raising) await deps.db.kysely.updateTable('provisioned_keys').set({ limit_micro: oldLimit }).where('id', '=', key.id).where('limit_micro', '=', change.limitMicro!).execute();
    throw providerFailure(err, 'the provider did not change the key');
  }
  const row = await applyChange(deps, actor, async (trx, at) => {
    const set: { name?: string; status?: 'active' | 'disabled'; limit_micro?: number } = {};
    if (change.name !== undefined) set.name = change.name;
    if (change.disabled !== undefined) set.status = change.disabled ? 'disabled' : 'active';
    if (change.limitMicro !== undefined) set.limit_micro = change.limitMicro;
    const row = await updateProvisioned(trx, key.id, set, at);
    const after = provisionedKeyView(row, Date.parse(at));
    return { result: row, audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'provisioned_key.update', targetType: 'provisioned_key', targetId: key.id, before, after, amountMicro: Number(row.limit_micro) }] };
  });
  return provisionedKeyView(row, deps.clock.now());
}

/** Revokes (audited), then deletes at the provider; a failure there is left to the sweeper. */
export async function revokeProvisionedKey(deps: Deps, actor: Actor, key: ProvisionedKeyRow) {
  await applyChange(deps, actor, async (trx, at) => {
    const row = await markRevoked(trx, key.id, at);
    // Revoked already (or deleted): nothing more to record; the deletion below is retried.
    if (!row) return { result: null, audit: [] };
    return { result: row, audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'provisioned_key.delete', targetType: 'provisioned_key', targetId: key.id, before: provisionedKeyView(key, Date.parse(at)), after: provisionedKeyView(row, Date.parse(at)), amountMicro: Number(key.limit_micro) }] };
  });
  await deleteAtProvider(deps, key).catch(() => {});
  const row = await deps.db.kysely.selectFrom('provisioned_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
  return provisionedKeyView(row, deps.clock.now());
}

/** How long a deactivation or a member's removal waits for the provider to delete their keys. */
const PROVIDER_WAIT_MS = 3000;

/** The audit events of keys revoked because their owner left (deactivated, or removed from the team). */
export function ownerGoneEvents(rows: ProvisionedKeyRow[], at: string, reason: 'owner_deactivated' | 'owner_removed_from_team') {
  const now = Date.parse(at);
  return rows.map((k) => ({
    orgId: k.org_id, teamId: k.team_id, action: 'provisioned_key.delete', targetType: 'provisioned_key', targetId: k.id,
    before: provisionedKeyView(k, now), after: { ...provisionedKeyView({ ...k, deleted_at: at, updated_at: at }, now), reason }, amountMicro: Number(k.limit_micro),
  }));
}

/**
 * After the revoking transaction commits: deletes the keys at the provider, waiting a few seconds
 * at most. It never fails: what the provider does not confirm the sweeper retries every minute.
 */
export async function deleteRevokedSoon(deps: Deps, rows: ProvisionedKeyRow[]): Promise<void> {
  if (rows.length === 0) return;
  const deletions = Promise.allSettled(rows.map((k) => deleteAtProvider(deps, k)));
  await Promise.race([deletions, new Promise((resolve) => setTimeout(resolve, PROVIDER_WAIT_MS).unref())]);
}

/** Pages of the provider's key listing read to find one reservation's key (100 keys a page). */
const MAX_LIST_PAGES = 50;

/**
 * A reservation a crash left behind (status creating): the provider may have created its key
 * without Tollgate recording it. That key is found by the mark in its name and deleted, then the
 * reservation is dropped (its limit given back). Throws, keeping the reservation, when the
 * provider cannot be asked (the sweeper tries again).
 */
export async function undoReservation(deps: Deps, row: ProvisionedKeyRow): Promise<void> {
  const cred = await managementCredential(deps.db.kysely, deps.vault, row.org_id, row.credential_id);
  if (cred) {
    const client = new OpenRouterClient(cred, deps.upstreamPool);
    const mark = reservationMark(row);
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const keys = await client.list(page * 100);
      for (const k of keys) if (k.name.endsWith(mark)) await client.delete(k.hash);
      if (keys.length < 100) break;
    }
  }
  await dropReservation(deps.db.kysely, row.id);
}

/**
 * Deletes one revoked or expired key at the provider and marks it deleted. Idempotent: the
 * provider's 404 counts as deleted, so replicas and retries may repeat it. Throws when the
 * provider could not be asked or refused (the key stays pending; the sweeper tries again).
 */
export async function deleteAtProvider(deps: Deps, key: ProvisionedKeyRow): Promise<void> {
  const cred = await managementCredential(deps.db.kysely, deps.vault, key.org_id, key.credential_id);
  if (!cred) throw new Error(`provisioned key ${key.id}: its credential ${key.credential_id} was deleted, so the key cannot be deleted at the provider; delete it there by hand (its id: ${key.upstream_id})`);
  await new OpenRouterClient(cred, deps.upstreamPool).delete(key.upstream_id);
  await markDeleted(deps.db.kysely, key.id, iso(deps.clock.now()));
}
