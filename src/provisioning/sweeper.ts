// The provisioned keys' sweeper, every minute on every replica: deletes at the provider what must
// no longer exist there, and records that it does not.
//   - revoked keys whose deletion failed (provider down; the owner's deactivation, which never
//     waits on the provider) are deleted again;
//   - expired keys (the provider already refuses them: it enforces expires_at) are deleted there
//     too, audited as `provisioned_key.expire`, so nothing is left at the provider;
//   - reservations a crash left behind (status creating, older than 10 minutes): the key the
//     provider may have created for one is found by the mark in its name and deleted, then the
//     reservation is dropped.
// Two replicas may delete the same key at once: harmless, a deletion is idempotent (the
// provider's 404 counts as deleted, and marking a deleted row again changes nothing).
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { iso } from '../clock.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import { dueForDeletion, provisionedKeyView, staleReservations, type ProvisionedKeyRow } from './provisioned-keys.repository.ts';
import { deleteAtProvider, undoReservation } from './provisioning.ts';
import { Periodic } from '../periodic.ts';

const BATCH = 100;

export interface SweeperOptions {
  /** 0: no timer (tests call tick() themselves) */
  checkMs: number;
  onError: (what: string, err: unknown, keyId?: number) => void;
}

export interface SweepResult {
  deleted: number[];
  failed: number[];
  /** reservations undone (their key, if the provider had made one, deleted there) */
  undone: number[];
}

const sweeperActor = (orgId: number): Actor => ({ type: 'system', id: 'provisioning', orgId, role: 'admin', userId: null, superadmin: false, ip: null });

export class ProvisionedKeySweeper {
  private readonly deps: Deps;
  private readonly opts: SweeperOptions;
  private readonly schedule: Periodic<SweepResult>;

  constructor(deps: Deps, opts: SweeperOptions) {
    this.deps = deps;
    this.opts = opts;
    this.schedule = new Periodic(() => this.sweep(), { intervalMs: opts.checkMs, queue: true, onError: (err) => opts.onError('provisioned key sweep failed', err) });
  }

  start(): void {
    if (this.opts.checkMs > 0) this.schedule.start(this.opts.checkMs);
  }

  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One sweep at the clock's now. Calls made while one runs wait for it. */
  tick(): Promise<SweepResult> {
    return this.schedule.tick();
  }

  private async sweep(): Promise<SweepResult> {
    const now = this.deps.clock.now();
    const result: SweepResult = { deleted: [], failed: [], undone: [] };
    for (const reservation of await staleReservations(this.deps.db.kysely, now)) {
      try {
        await undoReservation(this.deps, reservation);
        result.undone.push(reservation.id);
      } catch (err) {
        result.failed.push(reservation.id);
        this.opts.onError('undoing a provisioned key reservation left by a crash failed; will retry', err, reservation.id);
      }
    }
    for (const key of await dueForDeletion(this.deps.db.kysely, now, BATCH)) {
      try {
        if (key.deleted_at === null) await this.recordExpiry(key, now);
        await deleteAtProvider(this.deps, key);
        result.deleted.push(key.id);
      } catch (err) {
        result.failed.push(key.id);
        this.opts.onError('deleting a provisioned key at the provider failed; will retry', err, key.id);
      }
    }
    return result;
  }

  /** An expired key is revoked by the system before it is deleted: the audit trail says why. */
  private async recordExpiry(key: ProvisionedKeyRow, now: number): Promise<void> {
    const at = iso(now);
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const row = await trx.updateTable('provisioned_keys').set({ deleted_at: at, updated_at: at }).where('id', '=', key.id).where('deleted_at', 'is', null).where('status', '!=', 'deleted').returningAll().executeTakeFirst();
      // Another replica got there first: it records the event.
      if (!row) return;
      await recordAudit(trx, sweeperActor(key.org_id), { orgId: key.org_id, teamId: key.team_id, action: 'provisioned_key.expire', targetType: 'provisioned_key', targetId: key.id, before: provisionedKeyView(key, now), after: provisionedKeyView(row, now), amountMicro: Number(key.limit_micro) }, at);
    });
  }
}
