// Scheduled rotation and expiry reminders: every TOLLGATE_ROTATION_CHECK_SECONDS, on every replica.
//
//   due keys (next_rotation_at <= now) ─► claim: UPDATE next_rotation_at = now + lease
//        WHERE next_rotation_at = <value read>        (compare-and-set: one replica wins)
//     ─► new secret ─► POST key.rotated to the key webhook(s), signed like budget alerts
//     ─► 2xx: one transaction: swap the secret (old one in its grace period), next_rotation_at =
//        now + rotate_every_days (only if it still holds the lease), audit as system:rotation
//     ─► not 2xx: nothing changed; the lease ends and a later check tries again
//
// The secret is delivered BEFORE the swap commits, so a failed delivery never leaves a key whose
// current secret nobody has. A delivery whose commit then fails (the key was rotated or revoked
// meanwhile, the database went away) sent a secret that never works; it is logged, and the next
// delivery for the key supersedes it.
import type { Deps } from '../deps.ts';
import type { AlertSink } from '../policy/alerts.ts';
import type { Actor } from '../http/actor.ts';
import { iso } from '../clock.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import { displayPrefix, generateKey } from './key-format.ts';
import { keyView, rotateKey, type KeyRow } from './keys.repository.ts';
import { addDays, addSeconds, pruneEndedSecrets, pruneRotationRequests, rotationDb } from './key-secrets.repository.ts';
import { deliverKeyEvent } from './key-webhooks.ts';
import { remindExpiring } from './expiry-reminders.ts';
import { Periodic } from '../periodic.ts';

/** A claimed rotation not finished within this long (delivery timed out, crash) is retried. */
const LEASE_MS = 5 * 60_000;
const BATCH = 50;

export interface SchedulerOptions {
  /** 0: no timer (tests call tick() themselves) */
  checkMs: number;
  reminderDays: number;
  sinks: AlertSink[];
  onError: (what: string, err: unknown, keyId?: number) => void;
}

export interface TickResult {
  rotated: number[];
  reminded: number[];
  /** older secrets forgotten (ended more than 30 days ago) */
  pruned: number;
}

const rotationActor = (orgId: number): Actor => ({ type: 'system', id: 'rotation', orgId, role: 'admin', userId: null, superadmin: false, ip: null });

class LostClaim extends Error {}

export class RotationScheduler {
  private readonly deps: Pick<Deps, 'db' | 'clock' | 'invalidator'>;
  private readonly opts: SchedulerOptions;
  private readonly schedule: Periodic<TickResult, number>;

  constructor(deps: Pick<Deps, 'db' | 'clock' | 'invalidator'>, opts: SchedulerOptions) {
    this.deps = deps;
    this.opts = opts;
    this.schedule = new Periodic((now) => this.check(now ?? deps.clock.now()), { intervalMs: opts.checkMs, queue: true, onError: (err) => opts.onError('rotation check failed', err) });
  }

  start(): void {
    if (this.opts.checkMs > 0) this.schedule.start(this.opts.checkMs);
  }

  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One check at `now`: due rotations, then reminders. Calls made while one runs wait for it. */
  tick(now: number): Promise<TickResult> {
    return this.schedule.tick(now);
  }

  private async check(now: number): Promise<TickResult> {
    const rotated = await this.rotateDue(now);
    const reminded = await remindExpiring(this.deps.db.kysely, this.opts.sinks, this.opts.reminderDays, now, (err, keyId) => this.opts.onError('key expiry reminder delivery failed; will retry', err, keyId));
    await pruneRotationRequests(this.deps.db.kysely, iso(now));
    const pruned = await pruneEndedSecrets(this.deps.db.kysely, now);
    return { rotated, reminded, pruned };
  }

  private async rotateDue(now: number): Promise<number[]> {
    // Schedules are refused without a webhook; one configured away since then waits for it.
    if (this.opts.sinks.length === 0) return [];
    const at = iso(now);
    const due = await rotationDb(this.deps.db.kysely)
      .selectFrom('key_rotation_schedules as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .selectAll('k')
      .select(['s.next_rotation_at', 's.rotate_every_days', 's.grace_period_seconds'])
      .where('s.next_rotation_at', '<=', at)
      .where('k.status', '!=', 'revoked')
      .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', at)]))
      .orderBy('s.next_rotation_at')
      .limit(BATCH)
      .execute();
    const rotated: number[] = [];
    for (const { next_rotation_at, rotate_every_days, grace_period_seconds, ...key } of due) {
      try {
        if (await this.rotateOne(key, { due: next_rotation_at, everyDays: rotate_every_days, graceSeconds: grace_period_seconds }, now)) rotated.push(key.id);
      } catch (err) {
        this.opts.onError('scheduled key rotation failed; will retry', err, key.id);
      }
    }
    return rotated;
  }

  /** false: another replica claimed it first. */
  private async rotateOne(key: KeyRow, s: { due: string; everyDays: number; graceSeconds: number }, now: number): Promise<boolean> {
    const db = this.deps.db.kysely;
    const lease = iso(now + LEASE_MS);
    const claim = await rotationDb(db).updateTable('key_rotation_schedules').set({ next_rotation_at: lease }).where('key_id', '=', key.id).where('next_rotation_at', '=', s.due).executeTakeFirst();
    if (Number(claim.numUpdatedRows) === 0) return false;

    const at = iso(now);
    const secret = generateKey();
    const next = addDays(at, s.everyDays);
    await deliverKeyEvent(this.opts.sinks, {
      type: 'key.rotated', org_id: key.org_id, team_id: key.team_id, key_id: key.id, name: key.name,
      key: secret, key_prefix: displayPrefix(secret), rotated_at: at,
      previous_secret: { key_prefix: key.key_prefix, valid_until: addSeconds(at, s.graceSeconds) },
      next_rotation_at: next,
    }, now);

    await db.transaction().execute(async (trx) => {
      const { row, previous } = await rotateKey(trx, key, s.graceSeconds, at, secret);
      const moved = await rotationDb(trx).updateTable('key_rotation_schedules').set({ next_rotation_at: next, last_rotated_at: at, updated_at: at }).where('key_id', '=', key.id).where('next_rotation_at', '=', lease).executeTakeFirst();
      // The schedule was changed or removed during the delivery: its owner decided otherwise.
      if (Number(moved.numUpdatedRows) === 0) throw new LostClaim(`the rotation schedule of key ${key.id} changed while its new secret was being delivered; that secret was not activated`);
      const previousSecret = { id: previous.id, key_prefix: previous.key_prefix, valid_until: previous.valid_until };
      await recordAudit(trx, rotationActor(key.org_id), { orgId: key.org_id, teamId: key.team_id, action: 'key.rotate', targetType: 'key', targetId: key.id, before: keyView(key), after: { ...keyView(row), scheduled: true, grace_period_seconds: s.graceSeconds, previous_secret: previousSecret } }, at);
    });
    await this.deps.invalidator.publish({ kind: 'key', keyId: key.id });
    return true;
  }
}
