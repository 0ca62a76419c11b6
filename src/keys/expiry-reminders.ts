// Expiry reminders: a `key.expiring` event to the key webhook (and into the audit log) N days
// before an active key expires, once per key and expiry. No webhook configured: no reminders. The reminded expiry is stored (key_expiry_reminders), so
// a key given a new expires_at is reminded again, and a replica claims a reminder with an upsert
// that only succeeds if the stored expiry differs: with many replicas, one sends it.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { AlertSink } from '../policy/alerts.ts';
import { iso } from '../clock.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Actor } from '../http/actor.ts';
import { rotationDb } from './key-secrets.repository.ts';
import { deliverKeyEvent, type KeyExpiringEvent } from './key-webhooks.ts';

const BATCH = 100;
const DAY_MS = 86_400_000;

const reminderActor = (orgId: number): Actor => ({ type: 'system', id: 'reminder', orgId, role: 'admin', userId: null, superadmin: false, ip: null });

/** Sends the reminders due at `now`; returns the ids of the keys reminded. */
export async function remindExpiring(db: Kysely<Database>, sinks: AlertSink[], days: number, now: number, onError: (err: unknown, keyId: number) => void): Promise<number[]> {
  if (days <= 0 || sinks.length === 0) return [];
  const rdb = rotationDb(db);
  const at = iso(now);
  const due = await rdb
    .selectFrom('api_keys as k')
    .leftJoin('key_expiry_reminders as r', 'r.key_id', 'k.id')
    .select(['k.id', 'k.org_id', 'k.team_id', 'k.name', 'k.key_prefix', 'k.expires_at'])
    .where('k.status', '=', 'active')
    .where('k.expires_at', '>', at)
    .where('k.expires_at', '<=', iso(now + days * DAY_MS))
    .where((eb) => eb.or([eb('r.expires_at', 'is', null), eb('r.expires_at', '!=', eb.ref('k.expires_at'))]))
    .orderBy('k.expires_at')
    .limit(BATCH)
    .execute();
  const reminded: number[] = [];
  for (const k of due) {
    const expiresAt = k.expires_at!;
    const claim = await rdb
      .insertInto('key_expiry_reminders')
      .values({ key_id: k.id, expires_at: expiresAt, sent_at: at })
      .onConflict((oc) => oc.column('key_id').doUpdateSet({ expires_at: expiresAt, sent_at: at }).where('key_expiry_reminders.expires_at', '!=', expiresAt))
      .executeTakeFirst();
    if (Number(claim.numInsertedOrUpdatedRows ?? 0n) === 0) continue; // another replica sent it
    const event: KeyExpiringEvent = { type: 'key.expiring', org_id: k.org_id, team_id: k.team_id, key_id: k.id, name: k.name, key_prefix: k.key_prefix, expires_at: expiresAt, at };
    try {
      await deliverKeyEvent(sinks, event, now);
    } catch (err) {
      // Not sent: released, so the next check tries again.
      await rdb.deleteFrom('key_expiry_reminders').where('key_id', '=', k.id).where('expires_at', '=', expiresAt).where('sent_at', '=', at).execute();
      onError(err, k.id);
      continue;
    }
    await recordAudit(db, reminderActor(k.org_id), { orgId: k.org_id, teamId: k.team_id, action: 'key.expiring', targetType: 'key', targetId: k.id, after: event }, at);
    reminded.push(k.id);
  }
  return reminded;
}
