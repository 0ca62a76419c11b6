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

/**
 * PostgreSQL aborts one side of a deadlock (40P01) or a serialization conflict (40001); that side
 * did nothing, so the change is run again, a few times, instead of answering 500. `fn` must only
 * touch the database (nothing outside the transaction), which is what makes it safe to repeat.
 */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

export async function applyChange<T>(deps: Deps, actor: Actor, fn: (trx: Transaction<Database>, at: string) => Promise<Change<T>>): Promise<T> {
  const at = iso(deps.clock.now());
  const run = () => deps.db.kysely.transaction().execute(async (trx) => {
    const c = await fn(trx, at);
    for (const a of c.audit) await recordAudit(trx, actor, a, at);
    return c;
  });
  let change: Change<T> | undefined;
  for (let attempt = 1; change === undefined; attempt++) {
    try {
      change = await run();
    } catch (err) {
      if (attempt >= ATTEMPTS || !RETRYABLE.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
  for (const event of change.invalidate ?? []) await deps.invalidator.publish(event);
  return change.result;
}
