// A key's rotation schedule (PUT/DELETE /api/keys/{id}/rotation-schedule): the server rotates the
// key every rotate_every_days (keys/rotation-scheduler.ts) and delivers the new secret to the key
// webhook. Without a webhook nobody would ever receive the new secret, so a schedule is refused.
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { applyChange } from '../audit/change.ts';
import type { KeyRow } from './keys.repository.ts';
import { addDays, currentSecretIssuedAt, deleteSchedule, findSchedule, rotationDb, type ScheduleRow } from './key-secrets.repository.ts';

/** The default grace period of a scheduled rotation: a day for consumers to pick up the new secret. */
export const SCHEDULE_GRACE_SECONDS = 86_400;
export const MAX_ROTATE_EVERY_DAYS = 365;

export interface ScheduleView {
  key_id: number;
  /** null: the key has no schedule */
  rotate_every_days: number | null;
  grace_period_seconds: number | null;
  next_rotation_at: string | null;
  last_rotated_at: string | null;
}

export function scheduleView(keyId: number, s: ScheduleRow | undefined): ScheduleView {
  return { key_id: keyId, rotate_every_days: s?.rotate_every_days ?? null, grace_period_seconds: s?.grace_period_seconds ?? null, next_rotation_at: s?.next_rotation_at ?? null, last_rotated_at: s?.last_rotated_at ?? null };
}

/**
 * Sets (or changes) the schedule. The next rotation is a full period after the current secret was
 * issued: a schedule put on a key whose secret is already older than that is due at once.
 */
export async function setSchedule(deps: Deps, actor: Actor, key: KeyRow, everyDays: number, graceSeconds: number | undefined): Promise<ScheduleView> {
  if (deps.config.keyWebhooks.length === 0) {
    throw invalid('rotate_every_days', 'scheduled rotation needs a key webhook (TOLLGATE_KEY_WEBHOOK_URL): the new secrets would be delivered to no one');
  }
  if (key.status === 'revoked') throw new ApiError('conflict', `key ${key.id} is revoked and cannot be rotated`);
  const grace = graceSeconds ?? Math.min(SCHEDULE_GRACE_SECONDS, everyDays * 86_400);
  if (grace > everyDays * 86_400) throw invalid('grace_period_seconds', `must not exceed the rotation period (${everyDays * 86_400} seconds)`);
  return applyChange(deps, actor, async (trx, at) => {
    const before = await findSchedule(trx, key.id);
    const next = addDays(await currentSecretIssuedAt(trx, key), everyDays);
    const row = await rotationDb(trx)
      .insertInto('key_rotation_schedules')
      .values({ key_id: key.id, rotate_every_days: everyDays, grace_period_seconds: grace, next_rotation_at: next, last_rotated_at: null, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('key_id').doUpdateSet({ rotate_every_days: everyDays, grace_period_seconds: grace, next_rotation_at: next, updated_at: at }))
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = scheduleView(key.id, row);
    return {
      result: view,
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.rotation_schedule.set', targetType: 'key', targetId: key.id, before: before ? scheduleView(key.id, before) : undefined, after: view }],
    };
  });
}

export async function removeSchedule(deps: Deps, actor: Actor, key: KeyRow): Promise<ScheduleView> {
  const before = await findSchedule(deps.db.kysely, key.id);
  if (!before) return scheduleView(key.id, undefined);
  return applyChange(deps, actor, async (trx) => {
    await deleteSchedule(trx, key.id);
    return {
      result: scheduleView(key.id, undefined),
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.rotation_schedule.delete', targetType: 'key', targetId: key.id, before: scheduleView(key.id, before) }],
    };
  });
}
