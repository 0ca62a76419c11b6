// Every admin mutation goes through applyChange: one transaction for the change and its audit
// events (nothing half-written), then — only after commit — cache invalidations on every replica.
import type { Transaction } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import type { Actor } from '../http/actor.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import { iso } from '../clock.ts';
import { recordAudit, type AuditInput } from './audit.repository.ts';

export interface Change<T> {
  result: T;
  audit: AuditInput[];
  invalidate?: Invalidation[];
}

export async function applyChange<T>(deps: Deps, actor: Actor, fn: (trx: Transaction<Database>, at: string) => Promise<Change<T>>): Promise<T> {
  const at = iso(deps.clock.now());
  const change = await deps.db.kysely.transaction().execute(async (trx) => {
    const c = await fn(trx, at);
    for (const a of c.audit) await recordAudit(trx, actor, a, at);
    return c;
  });
  for (const event of change.invalidate ?? []) await deps.invalidator.publish(event);
  return change.result;
}
