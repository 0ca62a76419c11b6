// Budget alerts: each threshold fires once per scope and period — the budget_alerts primary key
// makes that true across replicas too — into the audit log and to the configured webhooks, signed
// with HMAC-SHA256 (header `x-tollgate-signature: t=<unix>,v1=<hex of hmac(t + "." + body)>`).
// A new period has a new key, so thresholds re-arm by themselves after a reset.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { iso } from '../clock.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import type { Budget } from './policy.ts';
import type { Level } from './admission.ts';
import { recordAudit } from '../audit/audit.repository.ts';

export interface AlertEvent {
  type: 'budget.threshold';
  level: Level;
  scope: string;
  org_id: number;
  team_id: number | null;
  period: string;
  threshold: number;
  mode: 'hard' | 'soft';
  limit_usd: number;
  spent_usd: number;
  at: string;
}

export interface AlertSink {
  url: string;
  secret: string;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export class Alerts {
  private readonly fired = new Set<string>();
  private readonly db: Kysely<Database>;
  private readonly sinks: AlertSink[];
  private readonly onError: (err: unknown) => void;
  /** delivered webhook calls in flight, so tests and shutdown can wait for them */
  readonly pending = new Set<Promise<void>>();
  /** alerts are delivered one after another, so receivers see them in the order they crossed */
  private tail: Promise<void> = Promise.resolve();

  constructor(db: Kysely<Database>, sinks: AlertSink[], onError: (err: unknown) => void = () => {}) {
    this.db = db;
    this.sinks = sinks;
    this.onError = onError;
  }

  /** Called after each settle with the spend now known for the scope's period. */
  check(level: Level, scope: string, ids: { orgId: number; teamId: number | null }, budget: Budget, period: string, spentMicro: number, now: number): void {
    for (const t of budget.thresholds) {
      if (spentMicro < t * budget.limitMicro) continue;
      const id = `${scope}|${period}|${t}`;
      if (this.fired.has(id)) continue;
      this.fired.add(id);
      const event: AlertEvent = { type: 'budget.threshold', level, scope, org_id: ids.orgId, team_id: ids.teamId, period, threshold: t, mode: budget.mode, limit_usd: microToUsd(budget.limitMicro), spent_usd: microToUsd(spentMicro), at: iso(now) };
      this.tail = this.tail.then(() => this.fire(event)).catch(this.onError);
      this.track(this.tail);
    }
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<void>): void {
    const q = p.catch(this.onError).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  private async fire(event: AlertEvent): Promise<void> {
    const first = await this.db
      .insertInto('budget_alerts')
      .values({ scope: event.scope, period: event.period, threshold: String(event.threshold), created_at: event.at })
      .onConflict((oc) => oc.columns(['scope', 'period', 'threshold']).doNothing())
      .executeTakeFirst();
    if (Number(first.numInsertedOrUpdatedRows ?? 0n) === 0) return; // another replica fired it
    // Through recordAudit: the event joins its organization's tamper-evident chain.
    await recordAudit(this.db, { type: 'system', id: 'budget', orgId: event.org_id, role: 'admin', userId: null, superadmin: false, ip: null }, { orgId: event.org_id, teamId: event.team_id, action: 'budget.alert', targetType: event.level, targetId: event.scope, after: event }, event.at);
    const body = JSON.stringify(event);
    const t = Math.floor(Date.parse(event.at) / 1000);
    await Promise.all(
      this.sinks.map(async (sink) => {
        const res = await fetch(sink.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tollgate-event': event.type, 'x-tollgate-signature': `t=${t},v1=${signature(sink.secret, t, body)}` },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`alert webhook answered HTTP ${res.status}`);
      }),
    );
  }
}
