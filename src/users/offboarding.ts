// Offboarding (issue 10, seed 001): deactivating a user ends their sessions and disables the keys
// they own, in ONE transaction with its audit event, so no replica ever sees a deactivated user
// whose keys still work or an active user whose keys were disabled. The keys' cache entries are
// invalidated after commit (every replica, through the invalidator), so a warm key is refused on
// its next request. Keys owned by the team's service accounts are not the person's: they keep
// working. Reactivation lets the person sign in again; their keys stay disabled until someone
// re-enables each one (PATCH /api/keys/{id} {"status": "active"}), a deliberate second decision.
// Their provisioned upstream keys (seed 003) are revoked in the same transaction and deleted at the
// provider after commit; a provider that fails or is slow never holds the deactivation back: the
// provisioned keys' sweeper retries every minute. Both change the active member count of the
// user's teams, and so their fair member shares (policy/member-share.ts).
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { applyChange } from '../audit/change.ts';
import { userTeamsChanged } from '../policy/member-share.ts';
import { revokeUserSessions } from '../auth/sessions.ts';
import { disableOwnedKeys, setUserStatus, userView, type UserRow } from './users.repository.ts';
import { revokeOwnedProvisioned, type ProvisionedKeyRow } from '../provisioning/provisioned-keys.repository.ts';
import { deleteRevokedSoon, ownerGoneEvents } from '../provisioning/provisioning.ts';

export async function deactivateUser(deps: Deps, actor: Actor, user: UserRow) {
  let provisioned: ProvisionedKeyRow[] = [];
  const result = await applyChange(deps, actor, async (trx, at) => {
    // Re-read inside the transaction: the row the route authorized may have changed since.
    const current = await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    const row = await setUserStatus(trx, current, 'deactivated', at);
    const keyIds = await disableOwnedKeys(trx, current.org_id, current.id, at);
    const sessionsEnded = await revokeUserSessions(trx, current.id, at);
    provisioned = await revokeOwnedProvisioned(trx, current.org_id, current.id, at);
    const provisionedEvents = ownerGoneEvents(provisioned, at, 'owner_deactivated');
    const result = { ...userView(row), disabled_key_ids: keyIds, sessions_ended: sessionsEnded };
    // Repeating a deactivation catches keys issued since; with nothing to do it records nothing.
    const changed = current.status !== 'deactivated' || keyIds.length > 0 || sessionsEnded > 0 || provisioned.length > 0;
    return {
      result,
      audit: changed ? [{ orgId: current.org_id, action: 'user.deactivate', targetType: 'user', targetId: current.id, before: userView(current), after: result }, ...provisionedEvents] : [],
      invalidate: [...keyIds.map((keyId) => ({ kind: 'key' as const, keyId })), ...(await userTeamsChanged(trx, current.id))],
    };
  });
  await deleteRevokedSoon(deps, provisioned);
  return result;
}

export async function reactivateUser(deps: Deps, actor: Actor, user: UserRow) {
  return applyChange(deps, actor, async (trx, at) => {
    const current = await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    if (current.status === 'active') return { result: userView(current), audit: [] };
    const row = await setUserStatus(trx, current, 'active', at);
    return {
      result: userView(row),
      audit: [{ orgId: current.org_id, action: 'user.reactivate', targetType: 'user', targetId: current.id, before: userView(current), after: userView(row) }],
      invalidate: await userTeamsChanged(trx, current.id),
    };
  });
}
